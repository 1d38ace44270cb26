"""The TF-IDF cosine baseline of the matching benchmark, on texts small enough to work out."""
import math

import pytest

from portal.bench.baseline import TfidfIndex, grant_text, profile_text, rank_tfidf, tokens
from portal.bench.matching import Benchmark


def profile(key, name, titles="", descriptions=""):
    return {"recipient_key": key, "name": name, "grant_titles": titles,
            "grant_descriptions": descriptions}


def grant(query_id, title, description=""):
    return {"query_id": query_id, "title_masked": title, "description_masked": description}


def test_tokens_are_lower_case_runs_of_three_or_more_letters_or_digits():
    assert tokens("Grant to [RECIPIENT]: 2 x COVID-19 kits, 2020") == [
        "grant", "recipient", "covid", "kits", "2020"]


def test_texts_are_the_profile_record_and_the_masked_grant():
    row = profile("K", "Oak Trust", "Trees || Hedges", "Planting || Laying")
    assert profile_text(row) == "Oak Trust Trees || Hedges Planting || Laying"
    assert grant_text(grant("Q", "Grant to [RECIPIENT]", "Tree planting")) == (
        "Grant to [RECIPIENT] Tree planting")


def test_weights_are_sublinear_tf_times_smoothed_idf_at_unit_length():
    index = TfidfIndex(["apple banana", "apple cherry cherry"])
    assert index.idf("apple") == pytest.approx(math.log(3 / 2.5))
    assert index.idf("banana") == pytest.approx(math.log(3 / 1.5))
    vector = index.vector({"apple": 1, "cherry": 2})
    raw = {"apple": math.log(3 / 2.5), "cherry": (1 + math.log(2)) * math.log(2)}
    length = math.hypot(*raw.values())
    assert vector == pytest.approx({term: weight / length for term, weight in raw.items()})


def test_cosines_count_unknown_words_in_the_grants_length_only():
    index = TfidfIndex(["apple banana", "apple cherry cherry"])
    alone = index.cosines("banana")
    assert alone[1] == 0.0
    assert alone[0] == pytest.approx(index.vector({"apple": 1, "banana": 1})["banana"])
    diluted = index.cosines("banana quince")
    assert 0 < diluted[0] < alone[0]


def test_rank_orders_candidates_by_cosine_and_keeps_their_order_on_ties():
    bench = Benchmark(
        profiles=[profile("A", "Garden club", "Allotments"), profile("B", "Food bank"),
                  profile("C", "Choir", "Singing"), profile("D", "Food hub")],
        queries=[grant("Q1", "Allotment garden"), grant("Q2", "Food parcels")],
        candidates={"random100": {"Q1": ["C", "B", "A"], "Q2": ["D", "C", "B"]}})
    orders, scored = rank_tfidf(bench, progress=lambda message: None)
    assert orders["random100"] == {"Q1": ["A", "C", "B"], "Q2": ["D", "B", "C"]}
    # The full pool lists only profiles sharing a word, ties in profiles.csv order.
    assert [key for key, _ in scored["Q2"]] == ["B", "D"]
    assert scored["Q2"][0][1] == pytest.approx(scored["Q2"][1][1])
    assert [key for key, _ in rank_tfidf(bench, lambda m: None, depth=1)[1]["Q2"]] == ["B"]
