"""Load reference data (CPV codes, areas, vocabularies) from the files in seed/reference.

Loading is a sync, not a reset: rows missing from the database are inserted, rows whose
seed values changed are updated, and nothing is deleted, because organisations point at
these rows. When the database already matches the seed nothing is written, so running it
at every start-up costs a few reads.
"""
import csv
import gzip

from sqlalchemy import delete, insert, select, update

from config import BASE_DIR
from portal.extensions import db
from portal.reference.models import Area, AreaCover, CpvCode, VocabularyTerm

SEED_DIR = BASE_DIR / "seed"
CPV_LEVELS = ("division", "group", "class", "category", "subcategory")


def read_seed_csv(relative_path):
    """Return the rows of a CSV file under seed/ as dicts; `.gz` files are decompressed."""
    path = SEED_DIR / relative_path
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_reference(progress=None):
    """Bring CPV codes, areas and vocabulary terms in line with seed/reference.

    Returns the number of rows of each kind the seed defines.
    """
    report = progress or (lambda message: None)
    counts = {
        "cpv_codes": _sync_by_key(CpvCode, cpv_rows(), report, "CPV codes"),
        "areas": _sync_by_key(Area, area_rows(), report, "areas"),
        "vocabulary_terms": _sync_terms(term_rows(), report),
    }
    counts["area_cover"] = _sync_area_cover(area_rows(), report)
    db.session.commit()
    return counts


def cpv_rows():
    """CPV codes ordered parent-first, flagged when eForms lists them as social services."""
    social = {row["code"] for row in read_seed_csv("reference/cpv_social_services.csv")}
    rows = [
        {"code": row["code"], "description": row["description"], "level": row["level"],
         "parent_code": row["parent_code"] or None, "is_social_service": row["code"] in social}
        for row in read_seed_csv("reference/cpv_codes.csv.gz")
    ]
    # A parent is its child's code with the trailing digits zeroed, so level order is enough
    # for the self-referencing foreign key; code order keeps inserts deterministic.
    return sorted(rows, key=lambda r: (CPV_LEVELS.index(r["level"]), r["code"]))


def area_rows():
    """Countries, English regions, counties and current local authorities."""
    columns = ("county_code", "region_code", "country_code")
    return [
        {"code": row["code"], "name": row["name"], "kind": row["kind"],
         **{column: row[column] or None for column in columns}}
        for row in read_seed_csv("reference/areas.csv")
    ]


def area_cover_rows(areas):
    """Every (listed area, area it counts in) pair: itself, its ancestors and its descendants."""
    parents = {row["code"]: [row[c] for c in ("county_code", "region_code", "country_code")
                             if row[c]] for row in areas}
    pairs = set()
    for code, ancestors in parents.items():
        for other in (code, *ancestors):
            pairs.update({(code, other), (other, code)})
    return [{"area_code": a, "unit_code": b} for a, b in sorted(pairs)
            if a in parents and b in parents]


def _sync_area_cover(areas, report):
    rows = area_cover_rows(areas)
    existing = {tuple(r) for r in db.session.execute(select(AreaCover.area_code,
                                                            AreaCover.unit_code))}
    wanted = {(r["area_code"], r["unit_code"]) for r in rows}
    missing = [r for r in rows if (r["area_code"], r["unit_code"]) not in existing]
    stale = existing - wanted
    if missing:
        db.session.execute(insert(AreaCover), missing)
    for area_code, unit_code in stale:
        db.session.execute(delete(AreaCover).where(AreaCover.area_code == area_code,
                                                   AreaCover.unit_code == unit_code))
    report(f"area cover: {len(missing)} added, 0 updated, {len(stale)} removed, "
           f"{len(rows)} in seed")
    return len(rows)


def term_rows():
    """Client groups and ways of working.

    The seed lists each vocabulary alphabetically: people scan a long checkbox list for a
    term they already have in mind, and frequency order would shift with each register
    snapshot.
    """
    return [
        {"vocabulary": row["vocabulary"], "value": row["value"], "position": int(row["position"])}
        for row in read_seed_csv("reference/vocabulary_terms.csv")
    ]


def everyday_term_rows():
    """Everyday words for services, each with a CPV code and the plain label to show for it.

    Rows of one term come in order of fit, best first. Built by
    seed/reference/build_cpv_terms.py; read where it is used rather than stored in the
    database, because it is a lookup table that changes only with a release.
    """
    return [
        {"term": row["term"], "code": row["cpv_code"], "label": row["label"],
         "source": row["source"]}
        for row in read_seed_csv("reference/cpv_everyday_terms.csv")
    ]


def _sync_by_key(model, rows, report, label):
    """Insert rows whose primary key is new and update rows whose values changed."""
    key = model.__mapper__.primary_key[0].name
    columns = [model.__table__.c[name] for name in rows[0]]
    names = list(rows[0])
    existing = {r._mapping[key]: tuple(r) for r in db.session.execute(select(*columns))}
    missing = [r for r in rows if r[key] not in existing]
    changed = [r for r in rows
               if r[key] in existing and existing[r[key]] != tuple(r[n] for n in names)]
    _write(model, missing, changed)
    report(f"{label}: {len(missing)} added, {len(changed)} updated, {len(rows)} in seed")
    return len(rows)


def _sync_terms(rows, report):
    """Vocabulary terms are keyed by (vocabulary, value); their ids are assigned by the database."""
    existing = {
        (term.vocabulary, term.value): (term.id, term.position)
        for term in db.session.execute(
            select(VocabularyTerm.id, VocabularyTerm.vocabulary, VocabularyTerm.value,
                   VocabularyTerm.position))
    }
    missing = [r for r in rows if (r["vocabulary"], r["value"]) not in existing]
    changed = [
        {"id": existing[key][0], "position": r["position"]}
        for r in rows
        if (key := (r["vocabulary"], r["value"])) in existing and existing[key][1] != r["position"]
    ]
    _write(VocabularyTerm, missing, changed)
    report(f"vocabulary terms: {len(missing)} added, {len(changed)} updated, {len(rows)} in seed")
    return len(rows)


def _write(model, missing, changed):
    if missing:
        db.session.execute(insert(model), missing)
    if changed:
        db.session.execute(update(model), changed)
