"""Excerpts with the searched-for words marked, and "did you mean" suggestions made of real
words."""
import pytest
from markupsafe import Markup
from whoosh.filedb.filestore import RamStorage

from portal.search import display, services
from portal.pipeline.indexing import OPPORTUNITY_SCHEMA

LONG = ("We run lunch clubs and a community shop in the market town. " * 6 +
        "Our volunteers befriend lonely older people and run a befriending phone line.")


# --- Excerpts ------------------------------------------------------------------------------------

def test_snippet_marks_every_form_of_the_words_searched_for():
    marked = display.snippet("Befriending for lonely people; we befriend anyone.", "befriending")
    assert isinstance(marked, Markup)
    assert marked == ("<mark>Befriending</mark> for lonely people; we <mark>befriend</mark> "
                      "anyone.")


def test_snippet_escapes_everything_but_the_marks():
    marked = display.snippet('<script>alert("x")</script> Carers & families', "carers")
    assert "<script>" not in marked and "&lt;script&gt;" in marked
    assert "<mark>Carers</mark> &amp; families" in marked


def test_snippet_is_a_short_excerpt_around_the_best_passage():
    marked = display.snippet(LONG, "befriending lonely")
    plain = marked.striptags()
    assert marked.startswith("… ") and len(plain) <= display.SNIPPET_CHARS + 4
    assert "<mark>lonely</mark>" in marked and "<mark>befriending</mark>" in marked
    assert "lunch clubs and a community shop" not in plain[:20]


@pytest.mark.parametrize("text, query", [
    ("Befriending for lonely people", ""),
    ("Befriending for lonely people", None),
    ("Befriending for lonely people", "allotments"),
    ("Befriending for lonely people", "the and of"),
    ("", "befriending"),
    (None, "befriending"),
])
def test_no_snippet_without_a_match(text, query):
    assert display.snippet(text, query) is None


# --- Suggestions from an index -------------------------------------------------------------------

@pytest.fixture
def plan_index():
    index = RamStorage().create_index(OPPORTUNITY_SCHEMA)
    texts = ["Befriending for lonely older people", "Befriending and advocacy for carers",
             "Domestic abuse refuge", "Domestic abuse outreach", "Counselling for young people"]
    for number, text in enumerate(texts, 1):
        writer = index.writer()  # one segment each, as after several small commits
        writer.add_document(id=str(number), title=text, text=text)
        writer.commit(merge=False)
    return index


@pytest.mark.parametrize("typed, expected", [
    ("befreinding", "befriending"),  # a real word, not the stem "befriend"
    ("domestik abuse", "domestic abuse"),
    ("lonley people", "lonely people"),
    ("advocasy", "advocacy"),
])
def test_suggests_close_real_words(plan_index, typed, expected):
    searcher = plan_index.searcher()
    assert display.suggest(searcher, typed, display.spelling_candidates(searcher.reader())) == expected


@pytest.mark.parametrize("typed", ["befriending", "domestic abuse", "zzzzzz", "", "AND OR",
                                   "abc", "x" * 500, "社区"])
def test_no_suggestion_when_nothing_better_is_known(plan_index, typed):
    searcher = plan_index.searcher()
    assert display.suggest(searcher, typed, display.spelling_candidates(searcher.reader())) is None


def test_organisation_suggestions_are_words_from_the_profiles(app, db, make_org):
    make_org("Harbour Lights", description="Befriending for isolated older people")
    make_org("Quayside Friends", description="We befriend lonely people")
    # The index holds the stem "befriend"; the suggestion is the word closest to what was typed.
    assert services.suggest_organisation_search("befreinding isolated") == \
        "befriending isolated"
    assert services.suggest_organisation_search("befreind") == "befriend"
    assert services.suggest_organisation_search("lonley") == "lonely"
    assert services.suggest_organisation_search("befriending") is None


def test_closest_form_prefers_the_spelling_nearest_what_was_typed():
    texts = ["Befrienders meet weekly", "Our befriending scheme", None]
    assert display.closest_form(texts, "befriend", "befreinding") == "befriending"
    assert display.closest_form(texts, "befriend", "befreinders") == "befrienders"
    assert display.closest_form(texts, "allot", "alotments") is None
