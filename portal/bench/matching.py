"""The matching quality benchmark (shared/benchmarks/MATCHING.md): who received this grant?

Organisations from DIR/profiles.csv go into a temporary database and search index, exactly as
the portal stores suppliers; each grant becomes a MatchQuery; `rank_suppliers` ranks them.
The answers (qrels.csv) are read only after every ranking is made.

The full-pool rankings are also read the other way, as the supplier dashboard reads them
(portal.bench.recommend); a TF-IDF baseline (portal.bench.baseline) can stand in for the
matcher; and every figure can be given per fold of the queries, to show how much it varies.
"""
import csv
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import insert

from portal.bench.baseline import rank_tfidf
from portal.bench.recommend import recommend_metrics, supplier_lists, true_grants
from portal.bench.recommend import report_lines as recommend_lines
from portal.core.progress import every
from portal.matching.query import MatchQuery
from portal.matching.ranking import rank_suppliers
from portal.matching.recommend import KEEP

FILES = ("profiles.csv", "queries.jsonl", "qrels.csv", "candidates_random_n100.jsonl",
         "candidates_samefunder_n100.jsonl")
SEPARATOR = " || "
PROFILE_COLUMNS = {"recipient_key", "registry", "name", "other_names", "postcode",
                   "ccew_area_scale", "n_grants", "total_awarded", "funders", "grant_titles",
                   "grant_descriptions"}
QUERY_FIELDS = {"query_id", "title_masked", "description_masked", "amount_awarded",
                "funder_name", "grant_programme", "beneficiary_location"}
LEGAL_FORMS = {"CHC": "registered_charity", "SC": "registered_charity",
               "NIC": "registered_charity", "COH": "company_limited_by_guarantee"}
# Charity Commission "area of operation" scale -> which of the home authority's areas it serves.
SCALE_AREAS = {"local": ("self",), "regional": ("county", "region"),
               "national": ("country",), "national and overseas": ("country",)}
SETTINGS = ("random100", "samefunder100")
# Descriptions some funders publish in place of a real one.
PLACEHOLDERS = {"", "dummy", "n/a", "none", "-"}
FULLPOOL_DEPTH = 100
# The figures the summary line repeats.
HEADLINE = ("random100.all.mrr", "samefunder100.all.mrr", "fullpool.all.recall@100")
# Rankers to measure the portal's against: (bench, progress, depth) -> (orders, scored).
BASELINES = {"tfidf": rank_tfidf}


class BenchmarkError(Exception):
    """DIR is missing a file or a file is malformed."""


@dataclass
class Benchmark:
    profiles: list
    queries: list
    candidates: dict  # setting -> {query_id: [recipient_key, ...]}


# --- reading DIR -------------------------------------------------------------------------------

def read_benchmark(data_dir):
    """Read the inputs a matcher may use (not the answers)."""
    for name in FILES:
        if not os.path.isfile(os.path.join(data_dir, name)):
            raise BenchmarkError(f"{name} is missing from {data_dir}")
    profiles = _read_profiles(os.path.join(data_dir, "profiles.csv"))
    queries = _read_jsonl(os.path.join(data_dir, "queries.jsonl"), QUERY_FIELDS)
    keys = {p["recipient_key"] for p in profiles}
    candidates = {}
    for setting, name in zip(SETTINGS, FILES[3:]):
        rows = _read_jsonl(os.path.join(data_dir, name), {"query_id", "candidates"})
        lists = {row["query_id"]: row["candidates"] for row in rows}
        for query in queries:
            listed = lists.get(query["query_id"])
            if not isinstance(listed, list) or not set(listed) <= keys:
                raise BenchmarkError(f"{name}: no valid candidate list for {query['query_id']}")
        candidates[setting] = lists
    return Benchmark(profiles, queries, candidates)


def _read_profiles(path):
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = PROFILE_COLUMNS - set(reader.fieldnames or ())
        if missing:
            raise BenchmarkError(f"profiles.csv lacks columns: {', '.join(sorted(missing))}")
        rows = list(reader)
    if not rows or len({r["recipient_key"] for r in rows}) != len(rows):
        raise BenchmarkError("profiles.csv is empty or repeats a recipient_key")
    return rows


def _read_jsonl(path, required):
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as error:
                raise BenchmarkError(f"{os.path.basename(path)} line {number}: {error}") from None
            if not isinstance(row, dict) or not required <= set(row):
                raise BenchmarkError(f"{os.path.basename(path)} line {number}: missing fields")
            rows.append(row)
    return rows


def read_answers(data_dir, queries):
    """The true recipient of each query (scoring only)."""
    with open(os.path.join(data_dir, "qrels.csv"), encoding="utf-8", newline="") as handle:
        answers = {row["query_id"]: row["recipient_key"] for row in csv.DictReader(handle)}
    missing = [q["query_id"] for q in queries if q["query_id"] not in answers]
    if missing:
        raise BenchmarkError(f"qrels.csv has no answer for {missing[0]}")
    return answers


# --- the temporary portal ------------------------------------------------------------------

@contextmanager
def temporary_portal():
    """An app with its own empty SQLite database (reference data loaded) and index directory."""
    from config import Config
    from portal import create_app
    from portal.extensions import db
    from portal.reference.loaders import load_reference

    workdir = tempfile.mkdtemp(prefix="pathfinder-bench-")
    config = type("BenchConfig", (Config,), {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/bench.db",
        "SEARCH_INDEX_DIR": os.path.join(workdir, "search"),
        "DEMO_DATA_ALLOWED": False,
        # Extensions such as the rate limiter keep one state for every app they are bound to:
        # the temporary app must not switch on what the calling app has switched off.
        "RATELIMIT_ENABLED": _calling_config("RATELIMIT_ENABLED", False),
    })
    app = create_app(config)
    try:
        with app.app_context():
            db.create_all()
            load_reference()
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _calling_config(key, default):
    from flask import current_app, has_app_context

    return current_app.config.get(key, default) if has_app_context() else default


def load_profiles(profiles, progress):
    """Store each profile as an Organisation with its grants as PastWork; return key -> id."""
    from portal.extensions import db
    from portal.reference.places import gazetteer, home_authority
    from portal.organisations.models import (
        Organisation, PastWork, normalise_postcode, organisation_area,
    )
    from portal.search.services import rebuild

    gaz = gazetteer()
    orgs, works, areas, ids = [], [], [], {}
    for number, row in enumerate(profiles, 1):
        ids[row["recipient_key"]] = number
        postcode = _postcode(row["postcode"], normalise_postcode)
        orgs.append(_organisation_row(number, row, postcode))
        works += _past_work_rows(number, row)
        home = home_authority(postcode)
        areas += [{"organisation_id": number, "area_code": code}
                  for code in _served_areas(gaz, home, row)]
    db.session.execute(insert(Organisation), orgs)
    db.session.execute(insert(PastWork), works)
    if areas:
        db.session.execute(insert(organisation_area), areas)
    db.session.commit()
    progress(f"stored {len(orgs)} organisations and {len(works)} past grants")
    rebuild(progress=every(2000, lambda n: progress(f"indexed {n}")))
    return ids


def _postcode(value, normalise):
    try:
        return normalise(value)
    except Exception:  # a malformed postcode is as good as none
        return None


def _organisation_row(number, row, postcode):
    other = [n for n in row["other_names"].split(SEPARATOR) if n.strip()]
    return {
        "id": number, "name": row["name"][:200] or row["recipient_key"],
        "other_names": "; ".join(other)[:400] or None, "org_type": "vcse",
        "legal_form": LEGAL_FORMS.get(row["registry"]), "postcode": postcode,
        "status": "active", "source_ref": row["recipient_key"][:80],
    }


def _past_work_rows(number, row):
    titles = [t for t in row["grant_titles"].split(SEPARATOR)] or [""]
    descriptions = [d for d in row["grant_descriptions"].split(SEPARATOR)
                    if d.strip().lower() not in PLACEHOLDERS]
    funders = [f for f in row["funders"].split(SEPARATOR) if f.strip()]
    grants = max(1, int(_number(row["n_grants"])))
    count = max(grants, len(titles), len(descriptions), len(funders))
    amount = _number(row["total_awarded"]) / grants
    rows = []
    for i in range(count):
        rows.append({
            "organisation_id": number,
            "title": (titles[i] if i < len(titles) else "")[:300] or "Grant",
            "description": descriptions[i] if i < len(descriptions) else None,
            # Profiles list each funder once, most grants first: every funder gets a grant,
            # the rest go to the main one.
            "funder_name": (funders[i] if i < len(funders) else funders[0])[:200]
            if funders else None,
            "amount": int(amount) if amount else None,
            "kind": "grant",
        })
    return rows


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _served_areas(gaz, home, row):
    if not home:
        return []
    wanted = SCALE_AREAS.get(row["ccew_area_scale"].strip().lower(), ())
    area = gaz.areas[home]
    codes = set()
    if "self" in wanted:
        codes.add(home)
    if "county" in wanted:
        codes.add(area["county_code"] or area["region_code"] or area["country_code"])
    if "region" in wanted and not area["county_code"]:
        codes.add(area["region_code"] or area["country_code"])
    if "country" in wanted:
        codes.add(area["country_code"])
        if row["registry"] == "CHC":  # the Charity Commission registers England and Wales
            codes |= {"E92000001", "W92000004"}
    return sorted(c for c in codes if c)


# --- ranking and scoring -------------------------------------------------------------------

def query_for(row):
    """A grant as an opportunity: only the fields the benchmark allows a matcher to use."""
    return MatchQuery(
        title=row.get("title_masked") or "",
        description=row.get("description_masked") or "",
        value=_number(row.get("amount_awarded")) or None,
        buyer_name=row.get("funder_name") or "",
        programme=row.get("grant_programme") or "",
        location_text=(row.get("beneficiary_location") or "").replace("|", ", "),
    )


def rank_all(bench, ids, progress, weights=None, keep=None, depth=None):
    """Rankings per setting and query (lists of recipient keys), and under "scored" each
    query's full-pool (recipient key, score) pairs, best first, cut at `depth` (None: all
    ranked), for the recommendation direction."""
    keys = {number: key for key, number in ids.items()}
    orders, scored = {setting: {} for setting in SETTINGS}, {}
    started = time.monotonic()
    for number, row in enumerate(bench.queries, 1):
        query = query_for(row)
        for setting in SETTINGS:
            given = [ids[k] for k in bench.candidates[setting][row["query_id"]]]
            matches = rank_suppliers(query, limit=None, candidate_keys=given, weights=weights)
            orders[setting][row["query_id"]] = [keys[m.organisation_id] for m in matches]
            if keep is not None:
                keep[(setting, row["query_id"])] = matches
        # As the dashboard ranks an entry (portal.matching.recommend.refresh_opportunity).
        matches = rank_suppliers(query, limit=None, weights=weights)
        scored[row["query_id"]] = [(keys[m.organisation_id], m.score)
                                   for m in matches[:depth]]
        if keep is not None:
            keep[("fullpool", row["query_id"])] = matches
        if number % 25 == 0 or number == len(bench.queries):
            progress(f"ranked {number}/{len(bench.queries)} queries "
                     f"({time.monotonic() - started:.0f} s)")
    return with_full_pool(orders, scored)


def _depth(listed):
    """How deep to keep the scored full pool: enough for both directions (None: all)."""
    return max(listed, FULLPOOL_DEPTH) if listed else None


def with_full_pool(orders, scored):
    """The rankings as metrics() and the recommendation direction read them: the candidate
    settings' orders, the full pool cut at FULLPOOL_DEPTH, and the scored full pool."""
    fullpool = {query_id: [key for key, _ in pairs[:FULLPOOL_DEPTH]]
                for query_id, pairs in scored.items()}
    return {**orders, "fullpool": fullpool, "scored": scored}


def metrics(rankings, answers, queries):
    """The 20 figures of MATCHING.md, in its order."""
    subsets = {"all": [q["query_id"] for q in queries],
               "novel": [q["query_id"] for q in queries
                         if not q.get("description_also_in_shared_grants")]}
    results = {}
    for setting in SETTINGS:
        for subset, ids in subsets.items():
            ranks = [_rank(rankings[setting].get(i, ()), answers[i]) for i in ids]
            for k in (1, 5, 10):
                results[f"{setting}.{subset}.recall@{k}"] = _recall(ranks, k)
            results[f"{setting}.{subset}.mrr"] = _mrr(ranks)
    for subset, ids in subsets.items():
        ranks = [_rank(rankings["fullpool"].get(i, ())[:FULLPOOL_DEPTH], answers[i]) for i in ids]
        for k in (10, 100):
            results[f"fullpool.{subset}.recall@{k}"] = _recall(ranks, k)
    return results, len(subsets["novel"])


def _rank(ranking, answer):
    try:
        return list(ranking).index(answer) + 1
    except ValueError:
        return None


def _recall(ranks, k):
    return sum(1 for r in ranks if r and r <= k) / len(ranks) if ranks else 0.0


def _mrr(ranks):
    return sum(1 / r for r in ranks if r) / len(ranks) if ranks else 0.0


def report_lines(results, queries, novel, profiles):
    lines = [f"{name} {value:.4f}" for name, value in results.items()]
    counts = {"queries": queries, "novel": novel, "profiles": profiles}
    return lines + [summary_line(results, counts)]


def summary_line(results, counts):
    """The summary: `counts` as name=value, then the headline figures."""
    return " ".join(["summary", *(f"{name}={value}" for name, value in counts.items()),
                     *(f"{name}={results[name]:.4f}" for name in HEADLINE)])


def run(data_dir, progress, weights=None, keep=None, baseline=None, folds=None, listed=None):
    """Build, rank and score; return the output lines.

    `baseline` ("tfidf") ranks with a baseline of MATCHING.md instead of the portal's matcher;
    `folds` reports each figure's mean and spread over that many folds of the queries; `listed`
    is how many suppliers each grant keeps for the recommendation direction (None: the
    dashboard's KEEP; 0: every one ranked).
    """
    started = time.monotonic()
    listed = KEEP if listed is None else listed
    bench = read_benchmark(data_dir)
    parts = split_folds(bench.queries, folds) if folds else None
    progress(f"read {len(bench.profiles)} profiles and {len(bench.queries)} queries")
    if baseline:
        rankings = with_full_pool(*BASELINES[baseline](bench, progress, depth=_depth(listed)))
    else:
        rankings = rank_portal(bench, progress, weights, keep, listed)
    answers = read_answers(data_dir, bench.queries)
    if parts:
        lines = fold_lines(rankings, answers, bench, parts, listed)
    else:
        lines = score_lines(rankings, answers, bench, listed)
    progress(f"finished in {time.monotonic() - started:.0f} s")
    return lines


def rank_portal(bench, progress, weights, keep, listed):
    """rank_all() with the profiles stored in a temporary portal."""
    started = time.monotonic()
    with temporary_portal():
        ids = load_profiles(bench.profiles, progress)
        progress(f"built the temporary database and index ({time.monotonic() - started:.0f} s)")
        return rank_all(bench, ids, progress, weights=weights, keep=keep, depth=_depth(listed))


def score_lines(rankings, answers, bench, listed):
    """The 21 lines of MATCHING.md, then the recommendation direction's."""
    results, novel = metrics(rankings, answers, bench.queries)
    lines = report_lines(results, len(bench.queries), novel, len(bench.profiles))
    lists = supplier_lists(rankings["scored"], bench.queries, listed)
    recommended, profiles = recommend_metrics(lists, true_grants(answers, bench.queries))
    return lines + recommend_lines(recommended, profiles)


# --- folds -----------------------------------------------------------------------------------

def split_folds(queries, folds):
    """The queries in `folds` parts of equal size (give or take one): ordered by the SHA-1 of
    their query_id and dealt out in turn, each part then in file order."""
    if len(queries) < folds:
        raise BenchmarkError(f"{len(queries)} queries leave one of {folds} folds empty")
    place = {number: turn % folds for turn, number in enumerate(sorted(
        range(len(queries)), key=lambda n: _digest(queries[n]["query_id"])))}
    return [[row for n, row in enumerate(queries) if place[n] == fold] for fold in range(folds)]


def _digest(query_id):
    return hashlib.sha1(str(query_id).encode("utf-8")).hexdigest()


class Fold(NamedTuple):
    found: dict  # the 20 figures of metrics()
    recommended: dict  # the recommendation figures
    queries: int
    novel: int
    profiles: int


def fold_results(rankings, answers, bench, parts, listed):
    """Every figure once per fold. An organisation counts in the fold of its first true grant,
    its list made from every grant, as its dashboard would be."""
    lists = supplier_lists(rankings["scored"], bench.queries, listed)
    truths = true_grants(answers, bench.queries)
    results = []
    for part in parts:
        found, novel = metrics(rankings, answers, part)
        here = {row["query_id"] for row in part}
        mine = {key: grants for key, grants in truths.items() if grants[0] in here}
        recommended, profiles = recommend_metrics(lists, mine)
        results.append(Fold(found, recommended, len(part), novel, profiles))
    return results


def fold_lines(rankings, answers, bench, parts, listed):
    """Per figure: the mean over folds, the standard deviation between them and each fold's."""
    folds = fold_results(rankings, answers, bench, parts, listed)
    found = {name: [fold.found[name] for fold in folds] for name in folds[0].found}
    recommended = {name: [fold.recommended[name] for fold in folds]
                   for name in folds[0].recommended}
    counts = {"queries": len(bench.queries), "novel": sum(fold.novel for fold in folds),
              "profiles": len(bench.profiles), "folds": len(folds),
              "fold_queries": _joined(fold.queries for fold in folds)}
    means = {name: statistics.mean(values) for name, values in found.items()}
    lines = [_fold_line(name, values) for name, values in found.items()]
    lines.append(summary_line(means, counts))
    lines += [_fold_line(name, values) for name, values in recommended.items()]
    profiles = [fold.profiles for fold in folds]
    return lines + [f"recommend.profiles {sum(profiles)} folds={_joined(profiles)}"]


def _fold_line(name, values):
    return (f"{name} {statistics.mean(values):.4f} sd={statistics.stdev(values):.4f} "
            f"folds={_joined(f'{v:.4f}' for v in values)}")


def _joined(values):
    return ",".join(str(v) for v in values)
