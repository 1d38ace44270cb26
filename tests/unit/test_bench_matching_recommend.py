"""The recommendation direction and the folds of the matching benchmark, on small made-up
benchmark directories ranked by the TF-IDF baseline (no portal needed)."""
import csv
import json
import statistics

import pytest

from portal.bench.matching import BenchmarkError, run, split_folds
from portal.bench.recommend import recommend_metrics, supplier_lists, true_grants
from portal.matching.recommend import KEEP

COLUMNS = ("recipient_key", "registry", "registration_number", "name", "other_names", "postcode",
           "ccew_area_scale", "n_grants", "total_awarded", "first_award", "last_award",
           "funders", "grant_titles", "grant_descriptions")
# key -> (name, what its earlier grants were for)
PROFILES = {"GB-CHC-1": ("Alpha Gardens", "allotment garden tools"),
            "GB-CHC-2": ("Beta Pantry", "food bank parcels"),
            "GB-CHC-3": ("Gamma Voices", "choir singing"),
            "GB-CHC-4": ("Delta Wheels", "community transport minibus")}
# query_id -> (masked text, true recipient)
GRANTS = {"T1": ("allotment garden", "GB-CHC-1"),
          "T2": ("choir", "GB-CHC-2"),  # worded like another's work: its recipient never sees it
          "T3": ("choir singing", "GB-CHC-3"),
          "T4": ("food choir singing", "GB-CHC-2")}  # ranks Gamma Voices first, Beta Pantry second


def write_benchmark(folder, profiles=PROFILES, grants=GRANTS):
    with open(folder / "profiles.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        for key, (name, work) in profiles.items():
            writer.writerow({column: "" for column in COLUMNS} | {
                "recipient_key": key, "registry": "CHC", "registration_number": key[7:],
                "name": name, "n_grants": 1, "total_awarded": 1000, "funders": "A Funder",
                "grant_titles": work, "grant_descriptions": work})
    queries = [{"query_id": query_id, "description_also_in_shared_grants": False,
                "title_masked": text, "description_masked": "", "amount_awarded": 1000,
                "funder_name": "A Funder", "grant_programme": "", "beneficiary_location": ""}
               for query_id, (text, _) in grants.items()]
    _write_lines(folder / "queries.jsonl", queries)
    for name in ("candidates_random_n100.jsonl", "candidates_samefunder_n100.jsonl"):
        _write_lines(folder / name,
                     [{"query_id": q, "candidates": list(profiles)} for q in grants])
    with open(folder / "qrels.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["query_id", "recipient_key", "relevance", "recipient_name"])
        writer.writerows([q, key, 1, profiles[key][0]] for q, (_, key) in grants.items())
    return folder


def _write_lines(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def quiet(message):
    pass


def figures(lines):
    return dict(line.split(" ", 1) for line in lines if not line.startswith("summary"))


# --- the lists and their figures ------------------------------------------------------------

def test_a_supplier_sees_the_grants_that_keep_it_by_score_then_grant_order():
    queries = [{"query_id": q} for q in ("g1", "g2", "g3", "g4")]
    scored = {"g1": [("x", 0.9), ("y", 0.5)], "g2": [("y", 0.7), ("x", 0.5)],
              "g3": [("z", 0.8), ("x", 0.5)], "g4": [("x", 0.9)]}
    lists = supplier_lists(scored, queries)
    assert lists == {"x": ["g1", "g4", "g2", "g3"], "y": ["g2", "g1"], "z": ["g3"]}


def test_each_grant_keeps_only_its_best_keep():
    queries = [{"query_id": "g1"}]
    scored = {"g1": [(f"k{n}", 1 - n / 1000) for n in range(KEEP + 5)]}
    assert len(supplier_lists(scored, queries)) == KEEP
    assert set(supplier_lists(scored, queries, keep=2)) == {"k0", "k1"}
    assert len(supplier_lists(scored, queries, keep=0)) == KEEP + 5


def test_figures_use_the_first_true_grant_and_the_share_of_true_grants():
    lists = {"x": [f"n{i}" for i in range(11)] + ["g1", "g2"], "y": ["g3", "n0"]}
    truths = {"x": ["g1", "g2"], "y": ["g3"], "z": ["g4"]}  # z is on no list
    results, profiles = recommend_metrics(lists, truths)
    assert profiles == 3
    assert results["recommend.mrr"] == pytest.approx((1 / 12 + 1 + 0) / 3)
    assert results["recommend.recall@10"] == pytest.approx((0 + 1 + 0) / 3)
    assert results["recommend.recall@50"] == pytest.approx((1 + 1 + 0) / 3)
    assert list(results) == ["recommend.mrr", "recommend.recall@10", "recommend.recall@50"]


def test_true_grants_follow_the_answers_in_file_order():
    queries = [{"query_id": q} for q in ("g1", "g2", "g3")]
    assert true_grants({"g1": "x", "g2": "y", "g3": "x"}, queries) == {
        "x": ["g1", "g3"], "y": ["g2"]}


# --- end to end -----------------------------------------------------------------------------

def test_the_baseline_prints_the_matching_lines_then_the_recommendations(tmp_path):
    lines = run(write_benchmark(tmp_path), quiet, baseline="tfidf")
    assert len(lines) == 25 and lines[20].startswith("summary queries=4 novel=4 profiles=4 ")
    found = figures(lines)
    # T2's recipient is not ranked at all; the other three come first.
    assert found["fullpool.all.recall@10"] == "0.7500"
    # Beta Pantry: T2 is never listed, T4 is, below nothing else; Gamma Voices: T3 before T2.
    assert found["recommend.mrr"] == "1.0000"
    assert found["recommend.recall@10"] == "0.8333"  # Beta Pantry has one of its two
    assert found["recommend.profiles"] == "3"


def test_the_recommendations_follow_how_many_each_grant_keeps(tmp_path):
    lines = run(write_benchmark(tmp_path), quiet, baseline="tfidf", listed=1)
    # T4 keeps only Gamma Voices, so Beta Pantry is recommended nothing.
    assert figures(lines)["recommend.mrr"] == f"{2 / 3:.4f}"


def test_folds_give_each_figure_its_mean_spread_and_per_fold_values(tmp_path):
    folder = write_benchmark(tmp_path)
    whole = figures(run(folder, quiet, baseline="tfidf"))
    lines = run(folder, quiet, baseline="tfidf", folds=2)
    assert len(lines) == 25
    assert lines[20].startswith("summary queries=4 novel=4 profiles=4 folds=2 fold_queries=2,2 ")
    for name, value in figures(lines).items():
        if name == "recommend.profiles":
            assert value == f"3 folds={first_grants_per_fold()}"
            continue
        mean, spread, per_fold = value.split(" ")
        values = [float(v) for v in per_fold.removeprefix("folds=").split(",")]
        assert float(mean) == pytest.approx(statistics.mean(values), abs=1e-4)
        assert float(spread.removeprefix("sd=")) == pytest.approx(statistics.stdev(values),
                                                                  abs=1e-4)
        if not name.startswith("recommend"):  # equal folds: the mean is the whole figure
            assert mean == whole[name]


def first_grants_per_fold():
    """An organisation counts in the fold of its first true grant: T4 is Beta Pantry's second."""
    parts = split_folds([{"query_id": q} for q in GRANTS], 2)
    return ",".join(str(sum(1 for q in part if q["query_id"] != "T4")) for part in parts)


def test_folds_are_equal_and_placed_by_query_id_alone():
    queries = [{"query_id": f"D{n:04d}"} for n in range(10)]
    parts = split_folds(queries, 3)
    assert sorted(len(part) for part in parts) == [3, 3, 4]
    again = split_folds(list(reversed(queries)), 3)
    assert [{q["query_id"] for q in part} for part in parts] == [
        {q["query_id"] for q in part} for part in again]
    with pytest.raises(BenchmarkError, match="folds empty"):
        split_folds(queries[:2], 3)


def test_command_takes_the_baseline_and_folds(app, tmp_path):
    runner = app.test_cli_runner()
    folder = str(write_benchmark(tmp_path))
    result = runner.invoke(args=["bench", "matching", "--data", folder, "--baseline", "tfidf",
                                 "--folds", "2", "--keep", "1"])
    assert result.exit_code == 0, result.output
    last = result.stdout.splitlines()[-1]
    assert last == f"recommend.profiles 3 folds={first_grants_per_fold()}"
    assert runner.invoke(args=["bench", "matching", "--data", folder, "--folds", "1"]
                         ).exit_code != 0
