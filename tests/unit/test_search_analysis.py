"""Profiles are analysed once, by `terms()`, which must give exactly the terms of the Whoosh
analyser that queries and older code use."""
import csv
import gzip
import os

from portal.search.analysis import terms, text_analyzer

SEED = os.path.join(os.path.dirname(__file__), "..", "..", "seed")


def _whoosh_terms(text):
    return [token.text for token in text_analyzer()(text)]


def test_the_same_terms_as_the_whoosh_analyser_on_real_texts():
    texts = []
    with gzip.open(os.path.join(SEED, "grants", "grants_flat.csv.gz"), "rt",
                   encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle)):
            if number % 5 == 0:
                texts.append(f"{row['title']}\n{row['description']}")
    assert len(texts) > 1000
    for text in texts:
        assert terms(text) == _whoosh_terms(text), text[:80]


def test_the_same_terms_on_awkward_input():
    for text in ["", "   ", "Café crème naïve", "İstanbul ŞEHİR straße", "U.K. e.g. 3.5 a.b.c",
                 "foo_bar O'Neil *** x* a", "社区 🙂", "\x00", "AND OR ( \" * ~",
                 "Befriending, befriended; BEFRIENDS!", "x" * 5000]:
        assert terms(text) == _whoosh_terms(text)
