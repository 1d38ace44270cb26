"""`flask bench search`: how fast search, matching and recommendations are at a given scale.

A temporary database and index are filled with a generated but realistic corpus: the objects of
real (removed) Scottish charities and the descriptions of real 360Giving grants, recombined
deterministically until there are as many suppliers and forward-plan entries as asked for, each
given real authorities and CPV codes. Nothing touches the portal's own database or index.
"""
import csv
import gzip
import os
import random
import statistics
import time
from datetime import datetime

from sqlalchemy import insert, select

from portal.core.progress import every

SEED_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "seed")
CHARITIES = os.path.join(SEED_DIR, "charities", "oscr_removed_charities_2020-07-06.csv.gz")
GRANTS = os.path.join(SEED_DIR, "grants", "grants_flat.csv.gz")
# Divisions a voluntary-sector supplier usually works in: health and social work, education,
# recreation and culture, other community services.
SERVICE_DIVISIONS = ("85", "80", "92", "98", "79", "55", "60", "90", "70", "75")
KEYWORD_QUERIES = 200
MATCH_QUERIES = 40
RECOMMEND_LOOKUPS = 200
RECOMMEND_COMPUTES = 10
COMMIT_PROBES = 10
MATCHES_KEPT = 50
OUTPUT_NAMES = ("keyword.p50_ms", "keyword.p95_ms", "match.p50_ms", "match.p95_ms",
                "recommend.p50_ms", "recommend.p95_ms", "recommend_compute.p50_ms",
                "recommend_compute.p95_ms", "commit_to_searchable_ms", "rebuild_s")


def _read_texts():
    """(names, objects) from the charity register and (titles, descriptions) from grants."""
    names, objects, titles, descriptions = [], [], [], []
    with gzip.open(CHARITIES, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Charity Name"].strip():
                names.append(row["Charity Name"].strip())
            text = (row["Objectives"] or row["Activities"] or "").strip()
            if len(text) > 40:
                objects.append(text[:1500])
    with gzip.open(GRANTS, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["title"].strip():
                titles.append(row["title"].strip()[:300])
            if len((row["description"] or "").strip()) > 40:
                descriptions.append(row["description"].strip()[:1500])
    return names, objects, titles, descriptions


def _reference():
    from portal.extensions import db
    from portal.reference.models import Area, CpvCode

    authorities = db.session.scalars(select(Area).where(Area.kind == "authority")
                                       .order_by(Area.code)).all()
    if not authorities:
        authorities = db.session.scalars(select(Area).order_by(Area.code)).all()
    cpv = db.session.scalars(select(CpvCode.code).where(db.or_(
        *[CpvCode.code.like(f"{d}%") for d in SERVICE_DIVISIONS])).order_by(CpvCode.code)).all()
    return authorities, cpv


def generate(suppliers, opportunities, progress, seed=2026):
    """Insert the corpus; return (supplier ids, opportunity ids, keyword queries)."""
    from portal.extensions import db
    from portal.organisations.models import Organisation, PastWork, organisation_area
    from portal.organisations.models import organisation_cpv
    from portal.pipeline.models import Opportunity, opportunity_area

    rng = random.Random(seed)
    names, objects, titles, descriptions = _read_texts()
    authorities, cpv = _reference()
    progress(f"read {len(names)} names, {len(objects)} objects, {len(descriptions)} grant "
             f"descriptions, {len(authorities)} authorities, {len(cpv)} CPV codes")
    suffixes = ("Trust", "Project", "Network", "Partnership", "Community Interest Company",
                "Association", "Forum", "Foundation", "Collective", "Alliance")
    batch = 5000
    for start in range(1, suppliers + 1, batch):
        orgs, works, areas, codes = [], [], [], []
        for number in range(start, min(start + batch, suppliers + 1)):
            area = authorities[rng.randrange(len(authorities))]
            # Two real texts per profile, so N far beyond the corpus is still mostly distinct.
            text = f"{rng.choice(objects)}\n{rng.choice(descriptions)}"
            orgs.append({"id": number, "org_type": "vcse", "status": "active",
                         "name": f"{rng.choice(names)} {rng.choice(suffixes)} {number}"[:200],
                         "description": text})
            for _ in range(rng.randint(0, 3)):
                works.append({"organisation_id": number, "title": rng.choice(titles),
                              "description": rng.choice(descriptions), "kind": "grant"})
            areas.append({"organisation_id": number, "area_code": area.code})
            if rng.random() < 0.3 and area.county_code:
                areas.append({"organisation_id": number, "area_code": area.county_code})
            for code in set(rng.sample(cpv, rng.randint(1, 3))):
                codes.append({"organisation_id": number, "cpv_code": code})
        db.session.execute(insert(Organisation), orgs)
        if works:
            db.session.execute(insert(PastWork), works)
        db.session.execute(insert(organisation_area), areas)
        db.session.execute(insert(organisation_cpv), codes)
        db.session.commit()
        progress(f"stored {min(start + batch - 1, suppliers)} suppliers")

    buyer_id = suppliers + 1
    db.session.execute(insert(Organisation), [{"id": buyer_id, "org_type": "commissioner",
                                               "status": "active", "name": "Bench Council"}])
    now = datetime(2026, 6, 1)
    rows, areas = [], []
    for number in range(1, opportunities + 1):
        rows.append({"id": number, "organisation_id": buyer_id, "reference": f"B-{number}",
                     "_status": "open", "published_at": now, "title": rng.choice(titles),
                     "description": rng.choice(descriptions), "main_cpv_code": rng.choice(cpv),
                     "value_max": rng.choice((25_000, 120_000, 600_000, 2_500_000))})
        areas.append({"opportunity_id": number,
                      "area_code": authorities[rng.randrange(len(authorities))].code})
    for start in range(0, opportunities, batch):
        db.session.execute(insert(Opportunity), rows[start:start + batch])
        db.session.execute(insert(opportunity_area), areas[start:start + batch])
    db.session.commit()
    progress(f"stored {opportunities} forward-plan entries")

    vocabulary = sorted({w.lower() for t in titles for w in t.split()
                         if w.isalpha() and len(w) > 4})
    queries = [" ".join(rng.sample(vocabulary, rng.randint(1, 3)))
               for _ in range(KEYWORD_QUERIES)]
    return list(range(1, suppliers + 1)), list(range(1, opportunities + 1)), queries, rng


def _timed(function, items):
    times = []
    for item in items:
        started = time.perf_counter()
        function(item)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _percentiles(times):
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95


def _fill_matches(opportunity_ids, supplier_ids, rng):
    """Give every entry a plausible stored top 50, as `flask matching refresh` would leave it,
    so the recommendation lookup reads a table of realistic size."""
    from portal.extensions import db
    from portal.matching.models import OpportunityMatch

    now = datetime(2026, 6, 1)
    rows = []
    for opp_id in opportunity_ids:
        for rank, org_id in enumerate(rng.sample(supplier_ids, min(MATCHES_KEPT,
                                                                   len(supplier_ids))), 1):
            rows.append({"opportunity_id": opp_id, "organisation_id": org_id, "rank": rank,
                         "score": round(1 - rank / 100, 3), "signals": {}, "reasons": [],
                         "first_matched_at": now, "computed_at": now})
        if len(rows) >= 20000:
            db.session.execute(insert(OpportunityMatch), rows)
            rows = []
    if rows:
        db.session.execute(insert(OpportunityMatch), rows)
    db.session.commit()


def measure(supplier_ids, opportunity_ids, queries, rng, progress):
    """Time each path; return {name: value}."""
    from portal.extensions import db
    from portal.matching import services as matching
    from portal.matching.ranking import rank_suppliers
    from portal.matching.recommend import refresh_opportunity
    from portal.organisations.models import Organisation
    from portal.pipeline.models import Opportunity
    from portal.search.services import search_organisation_ids

    results = {}
    search_organisation_ids("warm up")
    keyword = _timed(search_organisation_ids, queries)
    results["keyword.p50_ms"], results["keyword.p95_ms"] = _percentiles(keyword)
    progress(f"keyword search: {len(keyword)} queries")

    sample = rng.sample(opportunity_ids, min(MATCH_QUERIES, len(opportunity_ids)))
    entries = [db.session.get(Opportunity, i) for i in sample]
    rank_suppliers(entries[0])
    match = _timed(rank_suppliers, entries)
    results["match.p50_ms"], results["match.p95_ms"] = _percentiles(match)
    progress(f"match: {len(match)} entries ranked")

    compute = _timed(lambda opp: refresh_opportunity(db.session, opp),
                     entries[:RECOMMEND_COMPUTES])
    db.session.commit()
    results["recommend_compute.p50_ms"], results["recommend_compute.p95_ms"] = \
        _percentiles(compute)
    _fill_matches([i for i in opportunity_ids if i not in set(sample[:RECOMMEND_COMPUTES])],
                  supplier_ids, rng)
    suppliers = [db.session.get(Organisation, i)
                 for i in rng.sample(supplier_ids, min(RECOMMEND_LOOKUPS, len(supplier_ids)))]
    lookup = _timed(lambda org: matching.recommendations(org, page=1).items, suppliers)
    results["recommend.p50_ms"], results["recommend.p95_ms"] = _percentiles(lookup)
    progress(f"recommendations: {len(compute)} computed, {len(lookup)} looked up")

    delays = []
    for probe in range(COMMIT_PROBES):
        org = db.session.get(Organisation, rng.choice(supplier_ids))
        word = f"zqxprobe{probe}"
        org.description = f"{org.description}\n{word}"
        started = time.perf_counter()
        db.session.commit()
        while org.id not in search_organisation_ids(word):
            if time.perf_counter() - started > 30:
                break
        delays.append((time.perf_counter() - started) * 1000)
    results["commit_to_searchable_ms"] = statistics.median(delays)
    return results


def run(suppliers, opportunities, progress):
    """Build the temporary portal, measure, and return the output lines."""
    from portal.bench.matching import temporary_portal
    from portal.search.services import rebuild

    with temporary_portal() as app:
        app.config["SEARCH_INDEX_DIR"] = app.extensions["search_index"].directory
        supplier_ids, opportunity_ids, queries, rng = generate(suppliers, opportunities, progress)
        started = time.perf_counter()
        rebuild(progress=every(10000, lambda n: progress(f"indexed {n}")))
        rebuild_s = time.perf_counter() - started
        progress(f"index built in {rebuild_s:.1f} s")
        results = measure(supplier_ids, opportunity_ids, queries, rng, progress)
        results["rebuild_s"] = rebuild_s
    return [f"{name} {results[name]:.1f}" for name in OUTPUT_NAMES]
