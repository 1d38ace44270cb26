"""The public register of accredited providers (the commissioning database), its CSV and JSON
forms, and the report of standards applicants most often do not yet meet."""
import csv
import io
from collections import defaultdict
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.accreditation.models import (
    AccreditationRecord, Answer, Application, Level, Scheme, SchemeVersion, Standard,
)
from portal.core.exceptions import DomainError
from portal.extensions import db
from portal.organisations import directory
from portal.organisations.models import Organisation, organisation_area, organisation_cpv
from portal.organisations.services import area_labels
from portal.reference import services as reference
from portal.reference.models import Area, CpvCode
from portal.search.services import search_organisation_ids, suggest_organisation_search

TIERS = {1: "Tier 1 or above", 2: "Tier 2 or above", 3: "Tier 3"}
SORTS = {"name": "Name (A to Z)", "name_desc": "Name (Z to A)", "tier": "Highest tier first",
         "recent": "Most recently accredited"}
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class RegisterQuery:
    q: str | None = None
    scheme: str | None = None
    tier: int | None = None
    area: str | None = None
    cpv: str | None = None
    sort: str | None = None

    def as_args(self):
        return {k: v for k, v in asdict(self).items() if v}


def _current(today):
    return (AccreditationRecord.status == "active") & (AccreditationRecord.expires_on >= today)


def parse_register_query(args):
    """Validate register filters from query-string style `args`; raises DomainError naming
    the first bad field."""
    values = {f.name: (str(args.get(f.name) or "")).strip() or None for f in fields(RegisterQuery)}
    if values["scheme"] and db.session.scalar(
            select(Scheme.id).where(Scheme.slug == values["scheme"])) is None:
        raise DomainError("Choose a scheme from the list", field="scheme")
    if values["tier"]:
        if values["tier"] not in ("1", "2", "3"):
            raise DomainError("Choose tier 1, 2 or 3", field="tier")
        values["tier"] = int(values["tier"])
    if values["area"] and db.session.get(Area, values["area"]) is None:
        raise DomainError("Choose an area from the list", field="area")
    if values["cpv"] and db.session.get(CpvCode, values["cpv"]) is None:
        raise DomainError("Enter an 8-digit CPV code from the list, like 85300000", field="cpv")
    if values["q"] and len(values["q"]) > 200:
        raise DomainError("Search text must be 200 characters or fewer", field="q")
    if values["sort"] and values["sort"] not in SORTS:
        raise DomainError("Choose how to sort from the list", field="sort")
    return RegisterQuery(**values)


def _matching_records(query, today):
    stmt = (select(AccreditationRecord.organisation_id).join(AccreditationRecord.level)
            .join(AccreditationRecord.scheme).where(_current(today)))
    if query.scheme:
        stmt = stmt.where(Scheme.slug == query.scheme)
    if query.tier:
        stmt = stmt.where(Level.tier >= query.tier)
    return stmt


def _filtered(query, today, ranked=None):
    """Organisations with a current accreditation matching `query`. `ranked` holds the ids the
    search index found for the free text (looked up when not given)."""
    stmt = select(Organisation).where(Organisation.status == "active",
                                      Organisation.id.in_(_matching_records(query, today)))
    if query.area:
        stmt = stmt.where(directory.in_area_condition(query.area))
    if query.cpv:
        stmt = stmt.where(directory.in_category_condition(query.cpv))
    if query.q:
        stmt = stmt.where(Organisation.id.in_(_search_ids(query.q) if ranked is None else ranked))
    return stmt


def _search_ids(text):
    return search_organisation_ids(text, limit=2000)


def _sorted(stmt, sort, today):
    name = func.lower(Organisation.name)
    if sort == "name_desc":
        return stmt.order_by(name.desc(), Organisation.id.desc())
    if sort in ("tier", "recent"):
        column = Level.tier if sort == "tier" else AccreditationRecord.starts_on
        best = (select(func.max(column)).select_from(AccreditationRecord)
                .join(AccreditationRecord.level)
                .where(AccreditationRecord.organisation_id == Organisation.id, _current(today))
                .scalar_subquery())
        return stmt.order_by(best.desc(), name, Organisation.id)
    return stmt.order_by(name, Organisation.id)


_LISTING = (selectinload(Organisation.areas), selectinload(Organisation.cpv_codes))


def search_register(query, page=1, per_page=20, today=None, ranked=None):
    """Organisations with a current accreditation matching `query`, one page at a time."""
    today = today or date.today()
    stmt = _sorted(_filtered(query, today, ranked), query.sort, today).options(*_LISTING)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=None)


def current_records_by_org(org_ids, today=None):
    """{organisation id: its current accreditations, strongest first}."""
    today = today or date.today()
    rows = db.session.scalars(
        select(AccreditationRecord).join(AccreditationRecord.level)
        .where(AccreditationRecord.organisation_id.in_(list(org_ids)), _current(today))
        .options(selectinload(AccreditationRecord.scheme), selectinload(AccreditationRecord.level))
        .order_by(Level.tier.desc(), AccreditationRecord.id)).all()
    grouped = defaultdict(list)
    for record in rows:
        grouped[record.organisation_id].append(record)
    return grouped


@dataclass
class RegisterPage:
    query: RegisterQuery
    results: object
    records: dict
    options: dict
    errors: list = field(default_factory=list)
    facets: dict = field(default_factory=dict)
    snippets: dict = field(default_factory=dict)  # organisation id -> marked-up excerpt
    suggestion: str | None = None  # "did you mean" search text


def filter_options():
    schemes = db.session.scalars(select(Scheme).order_by(Scheme.name)).all()
    return {"schemes": schemes, **directory.directory_filter_options()}


def browse_register(args, page=1, per_page=20, today=None):
    """The register page: filters from `args` (a bad one is reported and dropped), a page of
    providers with their current accreditations, how many providers each filter option would
    give, excerpts marking the searched-for words and a spelling suggestion when the search
    finds little."""
    today = today or date.today()
    query, errors = directory.parse_leniently(
        parse_register_query, [f.name for f in fields(RegisterQuery)], args)
    ranked = _search_ids(query.q) if query.q else None
    results = search_register(query, page, per_page, today, ranked)
    records = current_records_by_org([org.id for org in results.items], today)
    return RegisterPage(
        query, results, records, filter_options(), errors,
        facets=register_facets(query, today, ranked, results.total),
        snippets=directory.description_snippets(results.items, query.q),
        suggestion=directory.better_search(
            query, results.total, lambda q: search_register(q, 1, 1, today).total,
            suggest_organisation_search))


def register_facets(query, today, ranked, total):
    """Filter options with how many providers each would give (each facet leaves out its own
    choice)."""
    def ids(name):
        return _filtered(replace(query, **{name: None}), today, ranked).with_only_columns(
            Organisation.id)

    cpv_pairs = select(organisation_cpv.c.organisation_id.label("owner"),
                       organisation_cpv.c.cpv_code.label("code")).subquery()
    return {
        "scheme": _scheme_facet(query, today, ids("scheme")),
        "tier": _tier_facet(query, today, ids("tier")),
        "area": directory.area_facet(query.area, organisation_area.c.organisation_id,
                                     organisation_area.c.area_code, ids("area"), total),
        "cpv": directory.cpv_facet(query.cpv, cpv_pairs, ids("cpv"), total),
    }


def _current_records(today, org_ids):
    return (select(AccreditationRecord.organisation_id).join(AccreditationRecord.level)
            .join(AccreditationRecord.scheme)
            .where(_current(today), AccreditationRecord.organisation_id.in_(org_ids)))


def _scheme_facet(query, today, org_ids):
    stmt = _current_records(today, org_ids)
    if query.tier:
        stmt = stmt.where(Level.tier >= query.tier)
    counts = dict(db.session.execute(stmt.with_only_columns(
        Scheme.slug, func.count(db.distinct(AccreditationRecord.organisation_id)))
        .group_by(Scheme.slug)).all())
    names = {s.slug: s.name for s in db.session.scalars(select(Scheme).order_by(Scheme.name))}
    return directory.flat_facet(names, counts, query.scheme, "Any scheme",
                                any_count=directory.count_ids(org_ids))


def _tier_facet(query, today, org_ids):
    """Tiers count cumulatively: "tier 2 or above" includes the tier 3 providers."""
    stmt = _current_records(today, org_ids)
    if query.scheme:
        stmt = stmt.where(Scheme.slug == query.scheme)
    best = stmt.with_only_columns(AccreditationRecord.organisation_id,
                                  func.max(Level.tier).label("tier")).group_by(
        AccreditationRecord.organisation_id).subquery()
    by_best = dict(db.session.execute(select(best.c.tier, func.count())
                                      .group_by(best.c.tier)).all())
    counts = {tier: sum(n for t, n in by_best.items() if t and t >= tier) for tier in TIERS}
    return directory.flat_facet(TIERS, counts, query.tier, "Any tier",
                                any_count=directory.count_ids(org_ids))


# --- CSV ----------------------------------------------------------------------------------

def csv_safe(value):
    """Stop a spreadsheet reading a cell as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_FORMULA_STARTS) else text


CSV_COLUMNS = ("organisation", "charity_number", "company_number", "scheme", "level", "tier",
               "largest_contract_value", "accredited_from", "valid_until", "income_band",
               "areas", "service_categories", "profile")


def _csv_row(org, record):
    return [org.name, org.charity_number, org.company_number, record.scheme.name,
            record.level.name, record.level.tier, record.level.max_contract_value,
            record.starts_on.isoformat(), record.expires_on.isoformat(), org.income_band_label,
            "; ".join(area_labels(org.areas)),
            "; ".join(f"{c.code} {c.description}" for c in org.cpv_codes),
            url_for("organisations.show", org_id=org.id, _external=True)]


def register_csv(query, today=None, batch=500):
    """The whole filtered register as CSV text, one row per current accreditation."""
    today = today or date.today()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    stmt = _sorted(_filtered(query, today), query.sort, today).options(*_LISTING)
    orgs = db.session.scalars(stmt).all()
    for start in range(0, len(orgs), batch):
        chunk = orgs[start:start + batch]
        records = current_records_by_org([o.id for o in chunk], today)
        for org in chunk:
            for record in records[org.id]:
                if _record_matches(record, query):
                    writer.writerow([csv_safe(v) for v in _csv_row(org, record)])
    return buffer.getvalue()


def _record_matches(record, query):
    return (not query.scheme or record.scheme.slug == query.scheme) and \
        (not query.tier or record.level.tier >= query.tier)


# --- JSON ---------------------------------------------------------------------------------

def serialize_record(record):
    level = record.level
    return {"scheme": record.scheme.slug, "scheme_name": record.scheme.name,
            "level": level.name, "level_rank": level.rank, "tier": level.tier,
            "largest_contract_value": level.max_contract_value,
            "accredited_from": record.starts_on.isoformat(),
            "valid_until": record.expires_on.isoformat()}


def serialize_supplier(org, records):
    best = records[0] if records else None
    return {
        "id": org.id, "name": org.name, "charity_number": org.charity_number,
        "company_number": org.company_number, "income_band": org.income_band,
        "income_band_label": org.income_band_label or None,
        "tier": best.level.tier if best else None,
        "largest_contract_value": max((r.level.max_contract_value or 0 for r in records),
                                      default=None),
        "accreditations": [serialize_record(r) for r in records],
        "areas_summary": area_labels(org.areas),
        "cpv_codes": [{"code": c.code, "description": c.description} for c in org.cpv_codes],
        "links": {"organisation": url_for("api.organisation", org_id=org.id, _external=True),
                  "profile": url_for("organisations.show", org_id=org.id, _external=True)},
    }


def suppliers_page(query, page, per_page):
    results = search_register(query, page, per_page)
    records = current_records_by_org([org.id for org in results.items])
    return {"items": [serialize_supplier(org, records[org.id]) for org in results.items],
            "page": results.page, "per_page": results.per_page, "total": results.total,
            "pages": results.pages}


# --- the infrastructure report ------------------------------------------------------------

@dataclass
class NeedRow:
    level: str
    area: str
    code: str
    title: str
    answered: int = 0
    not_yet: int = 0
    partly: int = 0

    @property
    def share_not_yet(self):
        return round(100 * self.not_yet / self.answered) if self.answered else 0


def standards_report(scheme, level_rank=None, area_code=None):
    """How often applicants say they do not yet (or only partly) meet each standard.

    Counts every application's own assessment, drafts included, since those show needs
    earliest. `area_code` limits it to organisations working in that place (a region or county
    includes its authorities). Rows come grouped by level, then competence area, neediest first.
    """
    stmt = (select(Level.rank, Level.name, Standard.area, Standard.code, Standard.title,
                   Answer.status, func.count(Answer.id))
            .select_from(Answer).join(Answer.application).join(Answer.standard)
            .join(Application.level).join(Application.version)
            .where(SchemeVersion.scheme_id == scheme.id, Answer.status.is_not(None))
            .group_by(Level.rank, Level.name, Standard.area, Standard.code, Standard.title,
                      Answer.status))
    if level_rank:
        stmt = stmt.where(Level.rank == level_rank)
    if area_code:
        codes = reference.expand_area_codes([area_code]) or {area_code}
        stmt = stmt.where(Application.organisation_id.in_(
            select(organisation_area.c.organisation_id)
            .where(organisation_area.c.area_code.in_(sorted(codes)))))
    rows = {}
    for rank, level, area, code, title, status, count in db.session.execute(stmt):
        row = rows.setdefault((rank, level, area, code), NeedRow(level, area, code, title))
        row.answered += count
        if status in ("not_yet", "partly"):
            setattr(row, status, getattr(row, status) + count)
    ordered = sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][2], -kv[1].not_yet,
                                                   -kv[1].partly, kv[0][3]))
    return [row for _key, row in ordered]
