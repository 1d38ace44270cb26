"""Everyday words for CPV codes: the seed table, search by plain words and the evidence
function the matching engine can read."""
import csv
import importlib.util
from pathlib import Path

import pytest

from portal.reference import services
from portal.reference.loaders import everyday_term_rows

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seed" / "reference"
BUILDER = SEED / "build_cpv_terms.py"
# The shared data sets sit beside the checkout on a development machine, as seed/README.md says.
CLASSIFICATIONS = ROOT.parent / "shared" / "data" / "charity_classifications"
BENEFITS = "75314000"  # Unemployment compensation benefits


def _builder():
    spec = importlib.util.spec_from_file_location("build_cpv_terms", BUILDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def codes(results):
    return [result.code for result in results]


# --- the seed table ---------------------------------------------------------------------------

def test_hand_list_agrees_with_the_cpv_and_names_enough_services():
    builder = _builder()
    spec = builder.read_spec()
    descriptions = builder.cpv_descriptions()
    register = {name: set(terms) for name, terms in spec["vocabularies"].items()}
    assert builder.problems(spec, descriptions, register) == []
    assert sum(len(service["terms"]) for service in spec["services"]) >= 60
    assert all(1 <= len(service["codes"]) <= 3 for service in spec["services"])


def test_builder_reports_a_code_whose_description_was_not_read():
    builder = _builder()
    spec = builder.read_spec()
    spec["codes"]["85323000"] = "Mental health services"
    spec["services"][0]["codes"] = ["85323000", "85312300", "85312320", "85312310"]
    found = builder.problems(spec, builder.cpv_descriptions(), {})
    assert "85323000: the CPV says 'Community health services', not 'Mental health services'" \
        in found
    assert f"{spec['services'][0]['label']}: needs one to 3 different codes" in found
    assert any("is not in the source list" in problem for problem in found)


def test_seed_file_is_what_the_builder_writes(tmp_path):
    if not CLASSIFICATIONS.is_dir():
        pytest.skip("the shared charity classification lists are not beside this checkout")
    builder = _builder()
    spec = builder.read_spec()
    assert builder.problems(spec, builder.cpv_descriptions(),
                            builder.register_terms(CLASSIFICATIONS)) == []
    builder.write(builder.rows(spec), tmp_path / "terms.csv")
    assert (tmp_path / "terms.csv").read_bytes() == (SEED / "cpv_everyday_terms.csv").read_bytes()


def test_every_row_names_a_known_code_and_a_label():
    with open(SEED / "cpv_everyday_terms.csv", encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == ["term", "cpv_code", "label", "source"]
    cpv = _builder().cpv_descriptions()
    rows = everyday_term_rows()
    assert all(row["code"] in cpv and row["label"] and row["term"] for row in rows)
    assert {"project", "CCNI register (who)", "CCNI register (how)"} <= {r["source"] for r in rows}


def test_no_two_project_terms_read_the_same_once_plurals_are_folded():
    project = [t for t in services.everyday_terms() if t.source == "project"]
    readings = {}
    for term in project:
        readings.setdefault(term.words, set()).add(term.term)
    assert [names for names in readings.values() if len(names) > 1] == []


# --- words ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, words", [
    ("Carers", ("carer",)),
    ("families", ("family",)),
    ("children's services", ("child", "service")),
    ("Drugs or alcohol", ("drug", "alcohol")),
    ("homelessness", ("homelessness",)),
    ("crisis", ("crisis",)),
    ("well-being", ("well", "being")),
])
def test_everyday_words_fold_plurals_and_drop_joining_words(text, words):
    assert services.everyday_words(text) == words


# --- search -----------------------------------------------------------------------------------

def test_mental_health_finds_categories(db):
    results = services.search_cpv("mental health")
    assert results[0].plain_label == "Mental health support"
    assert {"85323000", "85312300"} <= set(codes(results[:3]))
    assert results[0].display_label == ("Mental health support — Community health services "
                                        "(85323000)")


def test_domestic_abuse_finds_categories(db):
    results = services.search_cpv("domestic abuse")
    assert results and all(r.plain_label == "Domestic abuse support" for r in results[:3])
    assert {"85310000", "85312300", "85311000"} == set(codes(results[:3]))


def test_employment_finds_employment_support_not_only_benefits(db):
    results = codes(services.search_cpv("employment"))
    assert results[0] == "85312510"  # Vocational rehabilitation services
    assert "80530000" in results
    assert BENEFITS not in results or results.index(BENEFITS) > results.index("85312510")


def test_wellbeing_finds_categories(db):
    for query in ("wellbeing", "well-being", "Wellbeing"):
        results = services.search_cpv(query)
        assert results[0].plain_label == "Health and wellbeing", query
        assert "85323000" in codes(results)


def test_a_singular_finds_the_plural_term_and_back(db):
    assert codes(services.search_cpv("carer"))[:2] == codes(services.search_cpv("carers"))[:2]
    assert services.search_cpv("carer")[0].plain_label == "Support for carers"
    assert "85312400" in codes(services.search_cpv("food banks"))
    assert "85311300" in codes(services.search_cpv("foster"))  # the start of "fostering"


@pytest.mark.parametrize("query, code", [
    ("befriending", "85312400"),
    ("youth work", "98133110"),
    ("homelessness", "85311000"),
    ("substance misuse", "85312500"),
    ("advocacy", "85312310"),
    ("counselling", "85312320"),
    ("childcare", "85312110"),
    ("fostering", "85311300"),
    ("older people", "85311100"),
    ("learning disability", "85311200"),
    ("refugees", "85312400"),
    ("food bank", "85312400"),
    ("services for carers", "85312400"),
])
def test_common_service_words_lead_to_their_codes(db, query, code):
    results = services.search_cpv(query)
    assert code in codes(results[:3])
    assert results[0].plain_label


def test_plain_matches_come_before_description_matches(db):
    results = services.search_cpv("care", limit=50)
    labelled = [r.plain_label is not None for r in results]
    assert labelled[0] and labelled.index(False) > 0
    assert all(labelled[:labelled.index(False)])


def test_a_description_that_holds_the_whole_query_beats_a_term_for_part_of_it(db):
    results = services.search_cpv("dog training")
    assert results[0].code == "80512000" and results[0].plain_label is None
    assert "80500000" in codes(results)  # "training" alone is still offered, after it


def test_description_search_still_works_and_gains_plurals(db):
    assert "85311100" in codes(services.search_cpv("welfare elderly"))
    assert "75330000" in codes(services.search_cpv("families", limit=50))  # Family allowances


def test_code_searches_are_unchanged(db):
    assert codes(services.search_cpv("85311000-2")) == ["85311000"]
    by_prefix = services.search_cpv("8531", limit=50)
    assert by_prefix[0].code == "85310000" and by_prefix[0].plain_label is None
    assert all(code.startswith("8531") for code in codes(by_prefix))
    assert services.search_cpv("   ") == [] and services.search_cpv("the") == []


def test_results_respect_the_limit(db):
    assert len(services.search_cpv("care", limit=5)) == 5


# --- evidence from free text ------------------------------------------------------------------

def test_everyday_cpv_codes_reads_terms_in_text():
    text = ("We run befriending for older people, a young carers group, mental health drop-ins "
            "and a food bank.")
    found = services.everyday_cpv_codes(text)
    assert found[:2] == ["85312400", "85311100"]  # befriending comes first in the text
    assert {"85311300", "85323000", "85312300", "85312200"} <= set(found)
    assert len(found) == len(set(found))


def test_everyday_cpv_codes_folds_plurals_and_matches_whole_words_only():
    assert "85312400" in services.everyday_cpv_codes("Support for a carer at home")
    assert services.everyday_cpv_codes("Scarers and careless drivers") == []
    assert services.everyday_cpv_codes("") == []


def test_everyday_cpv_codes_prefers_the_longest_term():
    # "young carers" is a term of its own; it is not also read as "carers".
    assert services.everyday_cpv_codes("young carers") == ["85311300", "85312400"]
    assert "85312310" not in services.everyday_cpv_codes("young carers")
    assert services.everyday_cpv_codes("care at home") != services.everyday_cpv_codes("care home")
