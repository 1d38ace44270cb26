"""Each matching signal on its own: geography, CPV hierarchy, names, tiers, capacity, track
record and the words that explain a match."""
import pytest

from portal.matching import signals
from portal.matching.features import initialisms, normalise_funder
from portal.reference.places import find_places, gazetteer
from portal.matching.query import MatchQuery
from portal.reference.places import area_tokens
from portal.reference.services import cpv_tokens

OXFORD, SOUTH_OXON, NEWHAM, CORNWALL = "E07000178", "E07000179", "E09000025", "E06000052"
OXFORDSHIRE, SOUTH_EAST, ENGLAND = "E10000025", "E12000008", "E92000001"


def supplier(**features):
    base = {"name": "Example", "acronyms": [], "home": None, "served": [], "mentioned": [],
            "funders": [], "past": [], "past_count": 0, "typical_award": None, "income": None,
            "tier": None, "ceiling": None, "cpv": []}
    return {**base, **features}


# --- geography ----------------------------------------------------------------------------------

def test_county_and_region_expand_to_their_authorities():
    gaz = gazetteer()
    assert gaz.expand([OXFORDSHIRE]) >= {OXFORD, SOUTH_OXON}
    assert OXFORD in gaz.expand([SOUTH_EAST])
    assert NEWHAM not in gaz.expand([SOUTH_EAST])
    assert gaz.parents(OXFORD) == (OXFORDSHIRE, SOUTH_EAST, ENGLAND)


def test_specificity_falls_with_breadth():
    gaz = gazetteer()
    one = gaz.specificity({OXFORD})
    county = gaz.specificity(gaz.expand([OXFORDSHIRE]))
    country = gaz.specificity(gaz.expand([ENGLAND]))
    assert one == 1.0 and one > county > country >= 0


@pytest.mark.parametrize("text, expected", [
    ("Befriending for older people in Newham", {"Newham"}),
    ("Across the City of Bristol", {"Bristol"}),
    ("Families in Tyne & Wear", {"tyne and wear"}),
    ("Young people in Blackbird Leys", {"blackbird leys"}),
    ("Oxford 008B", {"Oxford"}),
    ("Suffolk Coastal 015C", {"suffolk coastal"}),
])
def test_places_in_prose(text, expected):
    assert {p.name.lower() for p in find_places(text)} == {e.lower() for e in expected}


def test_lower_case_words_are_not_places():
    assert find_places("reading and bath time for children") == []


def test_location_fields_read_outward_codes_and_lower_case():
    places = {p.name: p for p in find_places("RG9, oxfordshire", strict=False)}
    assert "RG9" in places and places["RG9"].kind == "postcode"
    assert "Oxfordshire" in places


def test_full_postcode_in_text_resolves_to_its_authority():
    (place,) = find_places("Our office is at OX1 1NP.")
    assert place.codes == {OXFORD}


def test_funder_names_do_not_yield_ward_names():
    assert find_places("Lloyds Bank Foundation", wards=False) == []
    assert {p.name for p in find_places("Trust for London", wards=False)} == {"London"}


def test_area_signal_prefers_local_over_national():
    query = MatchQuery(description="Befriending in Oxford")
    based = signals.area(query, supplier(home=OXFORD))
    county = signals.area(query, supplier(served=[OXFORDSHIRE]))
    national = signals.area(query, supplier(served=[ENGLAND]))
    nearby = signals.area(query, supplier(home=SOUTH_OXON))
    elsewhere = signals.area(query, supplier(home=CORNWALL))
    assert based.score == 1.0
    assert based.reason == "Based in Oxford, where this service will be delivered"
    assert based.score > county.score > national.score
    assert county.reason == "Works in Oxford, where this service will be delivered"
    assert nearby.score > 0 and nearby.reason.startswith("Based nearby")
    assert elsewhere.score == 0


def test_area_signal_uses_explicit_area_codes():
    query = MatchQuery(area_codes=(OXFORDSHIRE,))
    assert signals.area(query, supplier(home=SOUTH_OXON)).score > 0.5


def test_area_tokens_carry_county_region_and_nation():
    area = type("A", (), {"code": OXFORD})()
    assert area_tokens([area]) == sorted([OXFORD, OXFORDSHIRE, SOUTH_EAST, ENGLAND])


# --- categories ---------------------------------------------------------------------------------

def test_cpv_tokens_hold_every_ancestor_prefix():
    assert cpv_tokens(["85311000"]) == ["85", "853", "8531", "85311"]
    assert cpv_tokens(["80000000"]) == ["80"]


def test_cpv_overlap_through_the_hierarchy():
    query = MatchQuery(cpv_codes=("85300000",))  # social work and related services
    same = signals.cpv(query, supplier(cpv=["85300000"]))
    narrower = signals.cpv(query, supplier(cpv=["85311000"]))
    sibling = signals.cpv(query, supplier(cpv=["85100000"]))
    unrelated = signals.cpv(query, supplier(cpv=["45000000"]))
    assert same.score == 1.0 and narrower.score == 0.9
    assert 0 < sibling.score < narrower.score
    assert unrelated.score == 0
    assert narrower.reason == "Offers social work services with accommodation, within this " \
        "entry's category of social work and related services"
    assert sibling.reason.endswith("a category related to this entry's")


# --- names and buyers ---------------------------------------------------------------------------

def test_initialisms():
    assert initialisms("Migrant and Refugee Communities Forum") == ["MARCF", "MRCF"]
    assert initialisms("Mind") == []
    assert "YMCA" in initialisms("YMCA Derbyshire")


def test_acronym_in_the_query_names_the_supplier():
    query = MatchQuery(description="The MRCF provides befriending. Funded by the NHS.")
    assert query.acronyms == ["MRCF"]
    hit = signals.name(query, supplier(name="Forum", acronyms=["MRCF"]))
    assert hit.score == 1.0 and "MRCF" in hit.reason


def test_funder_names_normalise():
    assert normalise_funder("The Tudor Trust") == normalise_funder("Tudor Trust") == "tudor"
    assert normalise_funder("Trust for London") == "for-london"


def test_buyer_history_counts_past_awards():
    query = MatchQuery(buyer_name="The Tudor Trust")
    past = [{"funder": "tudor", "terms": []}, {"funder": "tudor", "terms": []}]
    sig = signals.buyer_history(query, supplier(funders=["tudor"], past=past))
    assert sig.score == 1.0 and sig.reason == "Has had 2 awards from The Tudor Trust"
    assert signals.buyer_history(query, supplier(funders=["other"])).score == 0
    assert signals.buyer_history(query, supplier(funders=["tudor"]), 0.25).score == 0.25


# --- eligibility and capacity -------------------------------------------------------------------

@pytest.mark.parametrize("held, wanted, score, reason", [
    (2, 2, 1.0, "Accredited at Tier 2; this entry recommends Tier 2"),
    (3, 2, 1.0, "Accredited at Tier 3; this entry recommends Tier 2"),
    (1, 2, 0.5, "Accredited at Tier 1; this entry recommends Tier 2"),
    (1, 3, 0.0, "Accredited at Tier 1; this entry recommends Tier 3"),
    (None, 2, 0.0, "Not yet accredited; this entry recommends Tier 2"),
])
def test_tier_against_recommendation(held, wanted, score, reason):
    sig = signals.tier(MatchQuery(recommended_tier=wanted), supplier(tier=held))
    assert (sig.score, sig.reason) == (score, reason)


def test_capacity_respects_the_level_ceiling_and_income():
    query = MatchQuery(value=200_000)
    assert signals.capacity(query, supplier(ceiling=100_000)).score == 0
    assert signals.capacity(query, supplier(income=1_000_000)).score == 1.0
    assert signals.capacity(query, supplier(income=150_000)).score < 0.5
    similar = signals.capacity(query, supplier(typical_award=180_000))
    assert similar.score > 0.9 and "similar size" in similar.reason
    assert signals.capacity(MatchQuery(), supplier(income=5)).score == 0


# --- words and track record ---------------------------------------------------------------------

def test_text_reason_quotes_the_query_words_and_joins_phrases():
    query = MatchQuery(description="Befriending for older people who live alone")
    matched = frozenset(t for t, _ in query.weighted_terms if t in {"befriend", "older", "peopl"})
    sig = signals.text(query, supplier(), 4.0, 8.0, matched)
    assert sig.score == 0.5
    assert sig.reason == "Its profile mentions befriending and older people, as this entry does"


def test_track_record_counts_relevant_past_work():
    query = MatchQuery(description="domiciliary care for older people")
    matched = frozenset(t for t, _ in query.weighted_terms)
    past = [{"kind": "contract", "terms": ["domiciliari", "care"], "funder": None}] * 3
    past += [{"kind": "contract", "terms": ["garden"], "funder": None}]
    past[0] = {**past[0], "title": "Home care in Oxford"}
    sig = signals.track_record(query, supplier(past=past, past_count=4), matched)
    assert sig.reason == "Has had 3 similar contracts, such as 'Home care in Oxford'"
    assert 0 < sig.score <= 1


def test_an_entry_delivered_elsewhere_says_so():
    far = signals.area(MatchQuery(area_codes=(CORNWALL,)), supplier(home=OXFORD))
    assert far.score == 0 and far.reason == "Delivered in Cornwall, outside the areas it works in"
    unknown = signals.area(MatchQuery(area_codes=(CORNWALL,)), supplier())
    assert unknown.reason is None  # not known to work anywhere: nothing to say
