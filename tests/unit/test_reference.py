"""Reference data: what load_reference puts in the database and the lookups built on it."""
import pytest
from sqlalchemy import func, select

from portal.reference import services
from portal.reference.loaders import load_reference
from portal.reference.models import Area, CpvCode, VocabularyTerm

LONDON, KENT, ENGLAND, NORTHERN_IRELAND = "E12000007", "E10000016", "E92000001", "N92000002"
TOWER_HAMLETS, MAIDSTONE, MEDWAY, BELFAST = "E09000030", "E07000110", "E06000035", "N09000003"


def count(db, model, *conditions):
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def test_reference_counts_match_the_seed(db):
    assert count(db, CpvCode) == 9454
    assert count(db, CpvCode, CpvCode.is_social_service) == 115
    assert count(db, Area, Area.kind == "country") == 4
    assert count(db, Area, Area.kind == "region") == 9
    assert count(db, Area, Area.kind == "county") == 21
    assert count(db, Area, Area.kind == "authority") == 361
    assert count(db, VocabularyTerm, VocabularyTerm.vocabulary == "client_group") == 32
    assert count(db, VocabularyTerm, VocabularyTerm.vocabulary == "way_of_working") == 33


def test_loading_again_changes_nothing(db):
    messages = []
    counts = load_reference(progress=messages.append)
    assert counts == {"cpv_codes": 9454, "areas": 395, "vocabulary_terms": 65, "area_cover": 2139}
    assert all("0 added, 0 updated" in message for message in messages)


def test_loading_repairs_an_edited_row(db):
    db.session.get(CpvCode, "85311100").description = "Edited"
    db.session.commit()
    load_reference()
    assert db.session.get(CpvCode, "85311100").description == "Welfare services for the elderly"


def test_cpv_hierarchy(db):
    welfare = db.session.get(CpvCode, "85311100")
    assert welfare.level == "subcategory"
    chain = []
    code = welfare
    while code.parent_code:
        code = code.parent
        chain.append((code.code, code.level))
    assert chain == [("85311000", "category"), ("85310000", "class"),
                     ("85300000", "group"), ("85000000", "division")]
    assert [c.code for c in services.cpv_children("85310000")] == ["85311000", "85312000"]
    assert len(services.cpv_children()) == 45  # the divisions


@pytest.mark.parametrize("code, prefix", [
    ("85311000", "85311"), ("85300000", "853"), ("80000000", "80"),
    ("03000000", "03"), ("85312310", "8531231"),
])
def test_cpv_descendant_prefix(code, prefix):
    assert services.cpv_descendant_prefix(code) == prefix


def test_a_division_does_not_swallow_its_neighbours():
    assert services.is_cpv_within("85311100", "85000000")
    assert not services.is_cpv_within("85311100", "80000000")
    assert services.is_cpv_within("85311000", "85311000")


def test_search_cpv_by_words_and_by_code(db):
    assert "85311100" in [c.code for c in services.search_cpv("welfare elderly")]
    assert services.search_cpv("85311000-2")[0].code == "85311000"
    by_prefix = services.search_cpv("8531", limit=50)
    assert by_prefix[0].code == "85310000"
    assert all(c.code.startswith("8531") for c in by_prefix)
    assert services.search_cpv("  ") == []


def test_area_names_are_the_ones_people_use(db):
    names = {code: db.session.get(Area, code).name
             for code in (TOWER_HAMLETS, KENT, LONDON, "E06000023")}
    assert names == {TOWER_HAMLETS: "Tower Hamlets", KENT: "Kent", LONDON: "London",
                     "E06000023": "Bristol"}
    maidstone = db.session.get(Area, MAIDSTONE)
    assert (maidstone.county_code, maidstone.region_code, maidstone.country_code) == (
        KENT, "E12000008", ENGLAND)


def test_a_region_expands_to_its_authorities(db):
    london = services.expand_area_codes({LONDON})
    assert TOWER_HAMLETS in london
    assert len(london) == 33


def test_a_county_expands_to_its_districts_only(db):
    kent = services.expand_area_codes([KENT])
    assert MAIDSTONE in kent
    assert MEDWAY not in kent  # a unitary authority, not part of the county council's area
    assert len(kent) == 12


def test_expansion_of_countries_authorities_and_unknown_codes(db):
    assert len(services.expand_area_codes({NORTHERN_IRELAND})) == 11
    assert services.expand_area_codes({TOWER_HAMLETS}) == {TOWER_HAMLETS}
    assert services.expand_area_codes({"X99999999", ""}) == set()
    assert services.expand_area_codes(None) == set()


def test_search_areas_puts_the_exact_name_first(db):
    assert services.search_areas("kent")[0].code == KENT
    assert services.search_areas("London")[0].code == LONDON
    assert TOWER_HAMLETS in [a.code for a in services.search_areas("tower")]


@pytest.mark.parametrize("postcode, authority", [
    ("E14 0DB", TOWER_HAMLETS),      # in the sample
    ("bt39qq", BELFAST),             # lower case, no space
    ("e1 obl", TOWER_HAMLETS),       # letter O typed for a zero
    ("ME14 1ZZ", MAIDSTONE),         # not in the sample: its sector decides
    ("not a postcode", None),
    ("", None),
])
def test_authority_for_postcode(postcode, authority):
    assert services.authority_for_postcode(postcode) == authority


def test_vocabularies_are_alphabetical(db):
    terms = db.session.scalars(select(VocabularyTerm).where(
        VocabularyTerm.vocabulary == "way_of_working").order_by(VocabularyTerm.position)).all()
    values = [t.value for t in terms]
    assert values == sorted(values, key=str.casefold)
    assert "Counselling/support" in values
