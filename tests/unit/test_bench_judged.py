"""The judged precision check's arithmetic and files, on made-up pairs (no demo build)."""
import csv

import pytest

from portal.bench import judged
from portal.bench.judged import (
    COLUMNS, PAIRS_FILE, UNJUDGED_COLUMNS, JudgedSetError, Judgement, Judgements, Shown, TfIdf,
    cosine, read_judgements, score_list, summarise, unjudged_pairs, write_unjudged,
)


def write_csv(path, rows, columns=COLUMNS):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def row(direction, profile, entry, relevant, reason="read"):
    return {"direction": direction, "profile_key": profile, "profile_name": profile.title(),
            "entry_key": entry, "entry_title": entry.title(), "relevant": relevant,
            "reason": reason, "judged_by": "us", "judged_on": "2026-01-01"}


def shown(direction, profile, entry, rank=1):
    return Shown(direction, profile, profile.title(), entry, entry.title(), rank)


# --- reading the judgements ---------------------------------------------------------------------

def test_judgements_are_read_and_blank_ones_are_waiting(tmp_path):
    path = write_csv(tmp_path / "pairs.csv", [
        row("recommend", "p1", "e1", "1"), row("match", "p2", "e1", "0", "a car park"),
        row("match", "p3", "e1", ""),
    ])
    found = read_judgements(path)
    assert len(found) == 2
    assert found.lookup("recommend", "p1", "e1") == Judgement(1, "read")
    assert found.lookup("match", "p2", "e1") == Judgement(0, "a car park")
    assert found.lookup("match", "p3", "e1") is None


def test_extra_columns_such_as_an_unjudged_listing_are_ignored(tmp_path):
    path = write_csv(tmp_path / "pairs.csv", [{**row("match", "p", "e", "1"), "rank": 3}],
                     UNJUDGED_COLUMNS)
    assert read_judgements(path).lookup("match", "p", "e").relevant == 1


@pytest.mark.parametrize("bad", [{"relevant": "yes"}, {"relevant": "2"},
                                 {"direction": "sideways"}, {"entry_key": ""}])
def test_a_malformed_row_is_refused_with_its_line(tmp_path, bad):
    path = write_csv(tmp_path / "pairs.csv", [row("match", "p", "e", "1"),
                                              {**row("match", "p", "e2", "1"), **bad}])
    with pytest.raises(JudgedSetError, match="line 3"):
        read_judgements(path)


def test_a_missing_column_or_file_is_refused(tmp_path):
    path = write_csv(tmp_path / "pairs.csv", [], columns=COLUMNS[:-1])
    with pytest.raises(JudgedSetError, match="judged_on"):
        read_judgements(path)
    with pytest.raises(JudgedSetError, match="missing"):
        read_judgements(tmp_path / "none.csv")


def test_a_pair_judged_in_one_direction_answers_for_the_other_unless_it_has_its_own():
    found = Judgements([("recommend", "p", "e", Judgement(1, "fits")),
                        ("recommend", "p", "f", Judgement(1, "fits")),
                        ("match", "p", "f", Judgement(0, "read again"))])
    assert found.lookup("match", "p", "e").relevant == 1
    assert found.lookup("match", "p", "f").relevant == 0
    assert found.lookup("recommend", "p", "f").relevant == 1


def test_the_committed_judgements_read_cleanly():
    found = read_judgements(PAIRS_FILE)
    assert len(found) > 300
    keys = {key for key in found.pairs}
    assert {p for _d, p, _e in keys} >= {key for key, _name in judged.JUDGED_PROFILES}


# --- precision ------------------------------------------------------------------------------------

JUDGED = Judgements([("match", f"p{n}", "e", Judgement(n % 2, "")) for n in range(1, 7)])


def test_precision_is_over_what_is_shown_and_unjudged_counts_as_not_relevant():
    pairs = [shown("match", f"p{n}", "e", n) for n in (1, 2, 3, 9)]  # p9 is not judged
    score = score_list("e", "E", pairs, JUDGED)
    assert (score.shown, score.relevant, score.unjudged) == (4, 2, 1)
    assert score.precision == 0.5


def test_a_short_right_list_is_not_punished_and_an_empty_one_has_no_precision():
    short = score_list("e", "E", [shown("match", "p1", "e")], JUDGED)
    empty = score_list("f", "F", [], JUDGED)
    assert short.precision == 1.0
    assert empty.precision is None


def test_summary_means_lists_that_show_something_and_pools_every_pair():
    scores = [score_list("a", "A", [shown("match", "p1", "e")], JUDGED),  # 1/1
              score_list("b", "B", [shown("match", f"p{n}", "e") for n in (2, 4, 6, 3)],
                         JUDGED),  # 1/4
              score_list("c", "C", [], JUDGED)]
    figures = summarise(scores, 10)
    assert figures["precision@10"] == pytest.approx((1.0 + 0.25) / 2)
    assert figures["pooled_precision@10"] == pytest.approx(2 / 5)
    assert (figures["lists"], figures["shown"], figures["relevant"]) == (3, 5, 2)
    assert (figures["judged"], figures["unjudged"]) == (5, 0)
    assert (figures["fewer_than_10"], figures["none_shown"]) == (3, 1)


def test_nothing_shown_anywhere_gives_zero_not_an_error():
    figures = summarise([score_list("a", "A", [], JUDGED)], 5)
    assert figures["precision@5"] == 0.0 and figures["pooled_precision@5"] == 0.0


# --- the unjudged listing and the pool-maker ------------------------------------------------------

def test_unjudged_pairs_are_listed_once_with_who_showed_them(tmp_path):
    views = judged.Views(
        engine_recommend={"p9": [shown("recommend", "p9", "e", 2)]},
        engine_match={"e": [shown("match", "p1", "e", 1), shown("match", "p9", "e", 4)]},
        tfidf_recommend={"p9": [shown("recommend", "p9", "e", 1)]},
        tfidf_match={"e": [shown("match", "p8", "e", 3)]},
        profile_names={}, entry_titles={},
        texts={("profile", "p9"): "A  youth\nclub", ("entry", "e"): "Mentoring",
               ("buyer", "e"): "A council"})
    pairs = unjudged_pairs(views, JUDGED)
    found = {(p.direction, p.profile_key): (p.rank, by) for p, by in pairs}
    assert found == {("recommend", "p9"): (1, "engine+tfidf"), ("match", "p9"): (4, "engine"),
                     ("match", "p8"): (3, "tfidf")}
    path = tmp_path / "unjudged.csv"
    write_unjudged(path, pairs, views.texts)
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    assert [r["relevant"] for r in rows] == ["", "", ""]
    first = next(r for r in rows if r["profile_key"] == "p9" and r["direction"] == "match")
    assert (first["buyer"], first["entry_text"], first["profile_text"]) == (
        "A council", "Mentoring", "A youth club")
    assert len(read_judgements(path)) == 0  # ready to fill in, not yet judgements


def test_tfidf_prefers_shared_rare_words():
    model = TfIdf(["domestic abuse support", "asphalt supply", "support for carers",
                   "support groups"])
    entry = model.vector("domestic abuse support service")
    assert cosine(entry, model.vector("domestic abuse")) > cosine(entry, model.vector("support"))
    assert cosine(entry, model.vector("asphalt")) == 0.0
