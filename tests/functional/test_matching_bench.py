"""`flask bench matching --data DIR` end to end on a tiny benchmark in the real file formats."""
import re
import shutil
from pathlib import Path

from portal.bench.matching import metrics

DATA = Path(__file__).resolve().parents[1] / "data" / "matching_bench"
NAMES = [f"{setting}.{subset}.{metric}"
         for setting in ("random100", "samefunder100") for subset in ("all", "novel")
         for metric in ("recall@1", "recall@5", "recall@10", "mrr")]
NAMES += [f"fullpool.{subset}.recall@{k}" for subset in ("all", "novel") for k in (10, 100)]


def test_bench_prints_the_21_lines_then_the_recommendation_direction(app):
    result = app.test_cli_runner().invoke(args=["bench", "matching", "--data",
                                                                str(DATA)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 25
    for line, name in zip(lines, NAMES):
        assert re.fullmatch(rf"{re.escape(name)} \d\.\d{{4}}", line), line
    assert re.fullmatch(r"summary queries=4 novel=3 profiles=6 random100\.all\.mrr=\d\.\d{4} "
                        r"samefunder100\.all\.mrr=\d\.\d{4} fullpool\.all\.recall@100=\d\.\d{4}",
                        lines[20])
    # The tiny set is easy: every recipient is found in the first ten.
    assert "random100.all.recall@10 1.0000" in lines
    assert "fullpool.all.recall@100 1.0000" in lines
    assert "ranked 4/4 queries" in result.stderr
    # Every grant keeps its whole (six-profile) ranking, so each recipient's grant is listed.
    assert re.fullmatch(r"recommend\.mrr \d\.\d{4}", lines[21])
    assert lines[22:] == ["recommend.recall@10 1.0000", "recommend.recall@50 1.0000",
                          "recommend.profiles 4"]


def test_bench_is_deterministic(app):
    runner = app.test_cli_runner()
    args = ["bench", "matching", "--data", str(DATA)]
    assert runner.invoke(args=args).stdout == runner.invoke(args=args).stdout


def test_missing_file_is_a_clear_error(app, tmp_path):
    for path in DATA.iterdir():
        if path.name != "qrels.csv":
            shutil.copy(path, tmp_path / path.name)
    result = app.test_cli_runner().invoke(
        args=["bench", "matching", "--data", str(tmp_path)])
    assert result.exit_code != 0
    assert "qrels.csv is missing" in result.stderr


def test_malformed_queries_file_is_a_clear_error(app, tmp_path):
    for path in DATA.iterdir():
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "queries.jsonl").write_text('{"query_id": "T0001"\n')
    result = app.test_cli_runner().invoke(
        args=["bench", "matching", "--data", str(tmp_path)])
    assert result.exit_code != 0 and "queries.jsonl line 1" in result.stderr


def test_metrics_count_misses_and_cut_the_full_pool_at_100():
    queries = [{"query_id": "a", "description_also_in_shared_grants": False},
               {"query_id": "b", "description_also_in_shared_grants": True}]
    answers = {"a": "x", "b": "y"}
    rankings = {"random100": {"a": ["x"], "b": ["z", "y"]},
                "samefunder100": {"a": ["z"], "b": []},
                "fullpool": {"a": ["n"] * 100 + ["x"], "b": ["y"]}}
    results, novel = metrics(rankings, answers, queries)
    assert novel == 1
    assert results["random100.all.mrr"] == 0.75
    assert results["random100.novel.recall@1"] == 1.0
    assert results["samefunder100.all.mrr"] == 0.0
    assert results["fullpool.all.recall@100"] == 0.5
    assert list(results) == NAMES
