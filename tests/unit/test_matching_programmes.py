"""Regional grant programmes read as places: the table, the query and the area signal."""
import csv
import gzip
import importlib.util
from pathlib import Path

from portal.matching import signals
from portal.reference.places import gazetteer
from portal.matching.programmes import normalise_programme, programme_areas, programme_places
from portal.matching.query import MatchQuery

LLOYDS = "Lloyds Bank Foundation for England and Wales"
LLOYDS_KEY = "lloyds-bank-for-england-and-wales"
CARDIFF, POWYS, DERBY = "W06000015", "W06000023", "E06000015"
WALES = "W92000004"
BUILDER = Path(__file__).resolve().parents[2] / "seed" / "matching" / "build_programme_areas.py"


def supplier(**features):
    return {"name": "Example", "home": None, "served": [], "mentioned": [], **features}


def test_programme_titles_normalise():
    assert normalise_programme("  XA6 -  Community ") == "xa6 - community"
    assert normalise_programme(None) == ""


def test_every_patch_is_part_of_the_country_and_narrower_than_it():
    gaz = gazetteer()
    table = programme_areas()
    assert table
    for place in table.values():
        assert place.kind == "programme"
        assert 0 < place.breadth <= 0.6 * gaz.total_authorities
        assert place.codes <= gaz.authorities


def test_a_regional_programme_covers_its_region():
    (place,) = programme_places(LLOYDS_KEY, "XA6 - Community")
    assert CARDIFF in place.codes and POWYS in place.codes
    assert DERBY not in place.codes
    assert place.codes <= gazetteer().expand([WALES])


def test_unknown_programmes_funders_and_empty_values_give_no_place():
    assert programme_places(LLOYDS_KEY, "Some Other Programme") == []
    assert programme_places("another-funder", "XA6 - Community") == []
    assert programme_places("", "XA6 - Community") == []
    assert programme_places(LLOYDS_KEY, "") == []


def test_several_programmes_joined_by_a_bar_are_each_read():
    places = programme_places(LLOYDS_KEY, "Unknown|XA6 - Community")
    assert len(places) == 1


def test_the_query_reads_the_programme_of_its_buyer():
    query = MatchQuery(description="the salary of a support worker", buyer_name=LLOYDS,
                       programme="XA6 - Community")
    assert any(p.kind == "programme" for p in query.places)
    other_buyer = MatchQuery(description="the salary of a support worker",
                             buyer_name="Tudor Trust", programme="XA6 - Community")
    assert not any(p.kind == "programme" for p in other_buyer.places)


def test_area_signal_favours_organisations_based_in_the_programme_patch():
    query = MatchQuery(description="the salary of a support worker", buyer_name=LLOYDS,
                       programme="XA6 - Community")
    inside = signals.area(query, supplier(home=CARDIFF))
    outside = signals.area(query, supplier(home=DERBY))
    assert inside.score > 0.3 > outside.score
    assert inside.reason == "Based in Cardiff, in the area of the 'XA6 - Community' programme"


def test_a_place_named_in_the_text_still_counts_more_than_the_patch():
    query = MatchQuery(description="Children in Powys", buyer_name=LLOYDS,
                       programme="XA6 - Community")
    in_powys = signals.area(query, supplier(home=POWYS))
    in_cardiff = signals.area(query, supplier(home=CARDIFF))
    assert in_powys.score == 1.0 and in_powys.score > in_cardiff.score


def _builder():
    spec = importlib.util.spec_from_file_location("build_programme_areas", BUILDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_builder_keeps_bounded_programmes_and_drops_national_ones():
    builder = _builder()
    gaz = gazetteer()
    welsh = sorted(gaz.expand([WALES]))[:6]
    english = sorted(a for a in gaz.authorities if a.startswith("E0"))[:40]
    places = {"regional": {a: 5 for a in welsh},
              "national": {a: 1 for a in english + welsh}}
    funder = {a: 5 for a in welsh} | {a: 10 for a in english}
    regional = builder.patch(("funder", "regional"), places["regional"], funder,
                             {"Regional": 30})
    national = builder.patch(("funder", "national"), places["national"], funder,
                             {"National": 46})
    assert regional and regional["level"] == "county" and regional["name"] == "Regional"
    assert set(regional["codes"].split()) == set(welsh)
    assert national is None


def test_builder_leaves_out_excluded_grants(tmp_path):
    builder = _builder()
    grants = tmp_path / "grants.csv"
    fields = ["id", "funder_name", "grant_programme", "recipient_postcode"]
    with open(grants, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerow({"id": "kept", "funder_name": LLOYDS, "grant_programme": "XA6 - Community",
                         "recipient_postcode": "CF10 1EP"})
        writer.writerow({"id": "held", "funder_name": LLOYDS, "grant_programme": "XA6 - Community",
                         "recipient_postcode": "CF10 1EP"})
    gzipped = tmp_path / "grants.csv.gz"
    gzipped.write_bytes(gzip.compress(grants.read_bytes()))
    counts, names, _ = builder.read_grants(str(gzipped), {"held"})
    assert sum(counts[(LLOYDS_KEY, "xa6 - community")].values()) == 1
    assert names[(LLOYDS_KEY, "xa6 - community")] == {"XA6 - Community": 1}
