"""The scheme engine: scheme documents (YAML) checked, published as versions, and loaded from seed/.

A scheme document is the same shape in seed/accreditation/*.yaml and in the site admin's editor:
slug, name, summary, levels (rank, name, suits, income_bands, max_contract_value,
validity_months, optional tier) and standards (code, area, title, description, evidence,
from_level, and optionally reuses_credential: the kind of profile credential, like insurance,
whose certificate an applicant can give as evidence). Publishing a document that differs from
the current version adds a new version; nothing already published is touched.
"""
import hashlib
import json
import re

import yaml
from sqlalchemy import select

from portal.accreditation.models import RecognisedMark, Level, Scheme, SchemeVersion, Standard
from portal.core import audit
from portal.core.exceptions import DomainError, NotFound
from portal.extensions import db
from portal.organisations.models import CREDENTIAL_KINDS, INCOME_BANDS
from portal.reference.loaders import SEED_DIR

SEED_FOLDER = SEED_DIR / "accreditation"
MARKS_FILE = "recognised_marks.yaml"
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9.-]{0,19}$")
MAX_TIER = 3
MAX_DOCUMENT = 100_000


# --- checking a scheme document -------------------------------------------------------------

def _problem(message):
    return DomainError(message, field="document")


def _text(item, key, where, limit, required=True):
    value = item.get(key)
    value = " ".join(str(value).split()) if value is not None else ""
    if required and not value:
        raise _problem(f"{where}: enter the {key.replace('_', ' ')}")
    if len(value) > limit:
        raise _problem(f"{where}: the {key.replace('_', ' ')} must be {limit} characters or fewer")
    return value or None


def _whole(item, key, where, low, high, default=None):
    value = item.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _problem(f"{where}: {key.replace('_', ' ')} must be a whole number from "
                       f"{low:,} to {high:,}")
    return value


def _level(item, position):
    where = f"Level {position}"
    if not isinstance(item, dict):
        raise _problem(f"{where}: give the level's details as name: value lines")
    bands = item.get("income_bands") or []
    if not isinstance(bands, list) or any(b not in INCOME_BANDS for b in bands):
        raise _problem(f"{where}: income bands must be a list drawn from "
                       + ", ".join(INCOME_BANDS))
    rank = _whole(item, "rank", where, 1, 10, default=position)
    return {
        "rank": rank,
        "tier": _whole(item, "tier", where, 1, MAX_TIER, default=min(rank, MAX_TIER)),
        "name": _text(item, "name", where, 120),
        "suits": _text(item, "suits", where, 300, required=False),
        "income_bands": bands,
        "max_contract_value": _whole(item, "max_contract_value", where, 0, 10**12),
        "validity_months": _whole(item, "validity_months", where, 1, 120, default=36),
    }


def _standard(item, position, ranks):
    where = f"Standard {position}"
    if not isinstance(item, dict):
        raise _problem(f"{where}: give the standard's details as name: value lines")
    code = str(item.get("code") or "").strip().upper()
    if not CODE_RE.match(code):
        raise _problem(f"{where}: the code must be up to 20 capital letters, digits, dots or "
                       "hyphens, like Q1")
    from_level = _whole(item, "from_level", f"{where} ({code})", 1, 10, default=1)
    if from_level not in ranks:
        raise _problem(f"{where} ({code}): from_level must be one of the levels' ranks")
    standard = {
        "code": code,
        "area": _text(item, "area", f"{where} ({code})", 120),
        "title": _text(item, "title", f"{where} ({code})", 200),
        "description": _text(item, "description", f"{where} ({code})", 4000),
        "evidence": _text(item, "evidence", f"{where} ({code})", 4000, required=False),
        "from_level": from_level,
    }
    reuses = item.get("reuses_credential")
    if reuses is not None:
        # Only when given, so documents written before it existed keep their digest.
        standard["reuses_credential"] = _credential_kind(reuses, f"{where} ({code})")
    return standard


def _credential_kind(value, where):
    if value not in CREDENTIAL_KINDS:
        raise _problem(f"{where}: reuses_credential must be one of "
                       + ", ".join(CREDENTIAL_KINDS))
    return value


def check_document(data):
    """Return a scheme document in normal form, or raise DomainError saying what is wrong."""
    if not isinstance(data, dict):
        raise _problem("The scheme must start with slug, name, summary, levels and standards")
    slug = str(data.get("slug") or "").strip()
    if not SLUG_RE.match(slug):
        raise _problem("The slug must be 3 to 60 lower-case letters, digits and hyphens, "
                       "like kite-mark")
    levels_in, standards_in = data.get("levels"), data.get("standards")
    if not isinstance(levels_in, list) or not levels_in:
        raise _problem("Add at least one level under levels:")
    if not isinstance(standards_in, list) or not standards_in:
        raise _problem("Add at least one standard under standards:")
    levels = [_level(item, i) for i, item in enumerate(levels_in, 1)]
    ranks = sorted(level["rank"] for level in levels)
    if ranks != list(range(1, len(levels) + 1)):
        raise _problem("Level ranks must run 1, 2, 3… with no gaps or repeats")
    standards = [_standard(item, i, set(ranks)) for i, item in enumerate(standards_in, 1)]
    codes = [s["code"] for s in standards]
    if len(set(codes)) != len(codes):
        raise _problem("Each standard needs its own code; "
                       + ", ".join(sorted({c for c in codes if codes.count(c) > 1})) + " repeats")
    return {"slug": slug, "name": _text(data, "name", "Scheme", 200),
            "summary": _text(data, "summary", "Scheme", 4000, required=False),
            "levels": sorted(levels, key=lambda level: level["rank"]), "standards": standards}


def parse_yaml(text):
    """Read a scheme document typed by an admin; YAML mistakes become a DomainError."""
    if len(text or "") > MAX_DOCUMENT:
        raise _problem(f"The scheme must be {MAX_DOCUMENT:,} characters or fewer")
    try:
        data = yaml.safe_load(text or "")
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" on line {mark.line + 1}" if mark else ""
        raise _problem(f"The scheme could not be read{where}: check the indentation and "
                       "that each line is name: value") from None
    return check_document(data)


def to_yaml(document):
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def digest(document):
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


# --- publishing ---------------------------------------------------------------------------

def _build_version(scheme, document, number, actor_id):
    version = SchemeVersion(number=number, name=document["name"], summary=document["summary"],
                            source=document, published_by_id=actor_id)
    version.levels = [Level(rank=lv["rank"], tier=lv["tier"], name=lv["name"], suits=lv["suits"],
                            income_bands=lv["income_bands"],
                            max_contract_value=lv["max_contract_value"],
                            validity_months=lv["validity_months"])
                      for lv in document["levels"]]
    version.standards = [Standard(code=s["code"], area=s["area"], title=s["title"],
                                  description=s["description"], evidence_guidance=s["evidence"],
                                  reuses_credential=s.get("reuses_credential"),
                                  from_rank=s["from_level"], position=i)
                         for i, s in enumerate(document["standards"], 1)]
    scheme.versions.append(version)
    return version


def _publish(document, actor_id=None, scheme=None):
    """Add a version when `document` differs from the current one. No commit."""
    scheme = scheme or db.session.scalar(select(Scheme).where(Scheme.slug == document["slug"]))
    if scheme is None:
        scheme = Scheme(slug=document["slug"], name=document["name"])
        db.session.add(scheme)
    current = scheme.current
    if current is not None and digest(current.source) == digest(document):
        return current, False
    scheme.name = document["name"]
    number = current.number + 1 if current else 1
    return _build_version(scheme, document, number, actor_id), True


def create_scheme(text, actor):
    """Publish version 1 of a new scheme from a document typed by a site admin."""
    document = parse_yaml(text)
    if db.session.scalar(select(Scheme.id).where(Scheme.slug == document["slug"])):
        raise DomainError("A scheme with that slug already exists; edit it instead",
                          field="document")
    version, _ = _publish(document, actor.id)
    db.session.flush()
    audit.record("accreditation.scheme_created", version.scheme, actor_id=actor.id,
                 slug=document["slug"], version=version.number)
    db.session.commit()
    return version


def edit_scheme(scheme, text, actor):
    """Publish a new version of `scheme`; earlier versions and their decisions are untouched.

    Returns (version, published?) — nothing is published when the document has not changed.
    """
    document = parse_yaml(text)
    if document["slug"] != scheme.slug:
        raise DomainError(f"Keep the slug as {scheme.slug}: it identifies the scheme",
                          field="document")
    version, published = _publish(document, actor.id, scheme)
    if published:
        db.session.flush()
        audit.record("accreditation.scheme_version_published", scheme, actor_id=actor.id,
                     version=version.number)
        db.session.commit()
    return version, published


def get_scheme(slug):
    scheme = db.session.scalar(select(Scheme).where(Scheme.slug == slug))
    if scheme is None or scheme.current is None:
        raise NotFound("Scheme not found")
    return scheme


def list_schemes(open_only=False):
    stmt = select(Scheme).order_by(Scheme.name)
    if open_only:
        stmt = stmt.where(Scheme.is_open.is_(True))
    return [s for s in db.session.scalars(stmt) if s.current is not None]


def scheme_slugs():
    """The slug of every scheme, in order (the values the API document lists)."""
    return list(db.session.scalars(select(Scheme.slug).order_by(Scheme.slug)))


def scheme_exists(slug):
    return db.session.scalar(select(Scheme.id).where(Scheme.slug == slug)) is not None


# --- recognised marks ---------------------------------------------------------------------

def marks_for(standard):
    """Recognised marks an assessor may accept for `standard`."""
    marks = db.session.scalars(select(RecognisedMark).order_by(RecognisedMark.name))
    return [mark for mark in marks if mark.covers(standard)]


def _sync_marks(rows):
    existing = {m.slug: m for m in db.session.scalars(select(RecognisedMark))}
    changed = 0
    for row in rows:
        values = {"name": row["name"], "description": row.get("description"),
                  "satisfies": {k: list(v) for k, v in (row.get("satisfies") or {}).items()}}
        mark = existing.get(row["slug"])
        if mark is None:
            db.session.add(RecognisedMark(slug=row["slug"], **values))
            changed += 1
        elif any(getattr(mark, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(mark, key, value)
            changed += 1
    return changed


# --- loading the seed ---------------------------------------------------------------------

def _seed_documents():
    for path in sorted(SEED_FOLDER.glob("*.yaml")):
        if path.name != MARKS_FILE:
            yield check_document(yaml.safe_load(path.read_text(encoding="utf-8")))


def load_schemes(progress=None):
    """Bring the schemes and recognised marks in line with seed/accreditation (safe to repeat).

    A scheme is only republished when its seed file changed since it was last loaded, so a
    version a site admin published in the portal is not undone by the next start-up.
    """
    report = progress or (lambda message: None)
    published = 0
    for document in _seed_documents():
        scheme = db.session.scalar(select(Scheme).where(Scheme.slug == document["slug"]))
        seeded = [v for v in scheme.versions if v.published_by_id is None] if scheme else []
        if seeded and digest(seeded[-1].source) == digest(document):
            continue
        _version, created = _publish(document, scheme=scheme)
        published += created
    marks = _sync_marks(yaml.safe_load((SEED_FOLDER / MARKS_FILE).read_text(encoding="utf-8")))
    if published or marks:
        db.session.flush()
        audit.record("accreditation.schemes_loaded", versions=published, marks=marks)
    db.session.commit()
    report(f"accreditation schemes: {published} version(s) published, {marks} mark(s) updated")
    return {"accreditation scheme versions published": published,
            "recognised marks updated": marks}
