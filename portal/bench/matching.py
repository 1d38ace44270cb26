"""The matching quality benchmark (shared/benchmarks/MATCHING.md): who received this grant?

Organisations from DIR/profiles.csv go into a temporary database and search index, exactly as
the portal stores suppliers; each grant becomes a MatchQuery; `rank_suppliers` ranks them.
The answers (qrels.csv) are read only after every ranking is made.
"""
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import insert

from portal.core.progress import every
from portal.matching.query import MatchQuery
from portal.matching.ranking import rank_suppliers

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


def rank_all(bench, ids, progress, weights=None, keep=None):
    """Rankings (lists of recipient keys) per setting and query."""
    keys = {number: key for key, number in ids.items()}
    rankings = {setting: {} for setting in (*SETTINGS, "fullpool")}
    started = time.monotonic()
    for number, row in enumerate(bench.queries, 1):
        query = query_for(row)
        for setting in SETTINGS:
            given = [ids[k] for k in bench.candidates[setting][row["query_id"]]]
            matches = rank_suppliers(query, limit=None, candidate_keys=given, weights=weights)
            rankings[setting][row["query_id"]] = [keys[m.organisation_id] for m in matches]
            if keep is not None:
                keep[(setting, row["query_id"])] = matches
        matches = rank_suppliers(query, limit=None if keep is not None else FULLPOOL_DEPTH,
                                 weights=weights)
        rankings["fullpool"][row["query_id"]] = [keys[m.organisation_id]
                                                 for m in matches[:FULLPOOL_DEPTH]]
        if keep is not None:
            keep[("fullpool", row["query_id"])] = matches
        if number % 25 == 0 or number == len(bench.queries):
            progress(f"ranked {number}/{len(bench.queries)} queries "
                     f"({time.monotonic() - started:.0f} s)")
    return rankings


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
    lines.append(
        f"summary queries={queries} novel={novel} profiles={profiles} "
        f"random100.all.mrr={results['random100.all.mrr']:.4f} "
        f"samefunder100.all.mrr={results['samefunder100.all.mrr']:.4f} "
        f"fullpool.all.recall@100={results['fullpool.all.recall@100']:.4f}")
    return lines


def run(data_dir, progress, weights=None, keep=None):
    """Build, rank and score; return the output lines."""
    started = time.monotonic()
    bench = read_benchmark(data_dir)
    progress(f"read {len(bench.profiles)} profiles and {len(bench.queries)} queries")
    with temporary_portal():
        ids = load_profiles(bench.profiles, progress)
        progress(f"built the temporary database and index ({time.monotonic() - started:.0f} s)")
        rankings = rank_all(bench, ids, progress, weights=weights, keep=keep)
    answers = read_answers(data_dir, bench.queries)
    results, novel = metrics(rankings, answers, bench.queries)
    progress(f"finished in {time.monotonic() - started:.0f} s")
    return report_lines(results, len(bench.queries), novel, len(bench.profiles))
