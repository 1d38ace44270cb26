"""Reading the forward plan: filters, the list, the 18-month timeline, the feed and history."""
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta

from sqlalchemy import and_, case, func, or_, select, true, union_all
from sqlalchemy.orm import selectinload

from portal.core.audit import AuditEvent
from portal.core.change_log import IndexChange
from portal.core.costly import CostlyCache
from portal.core.exceptions import DomainError
from portal.core.routing import as_id
from portal.core.sql import among
from portal.extensions import db
from portal.organisations.directory import (
    area_and_inside, area_facet, better_search, cpv_facet, description_snippets, filters_key,
    flat_facet, nearest_first, place_nearness, place_tiers, ranked_page, read_search_text,
    submitted_filters,
)
from portal.organisations.models import Organisation
from portal.pipeline.indexing import ENTRIES
from portal.pipeline.models import (
    LIVE_STATUSES, PUBLIC_STATUSES, ROUTES, STATUSES, Award, Lot, Opportunity, opportunity_area,
    opportunity_cpv, uk_now,
)
from portal.reference import services as reference
from portal.reference.models import Area, CpvCode
from portal.search.services import (
    rank_opportunity_ids, search_opportunity_ids, suggest_opportunity_search,
)

VALUE_BANDS = {
    "under_100k": ("Under £100,000", None, 100_000),
    "100k_500k": ("£100,000 to £500,000", 100_000, 500_000),
    "500k_2m": ("£500,000 to £2 million", 500_000, 2_000_000),
    "2m_10m": ("£2 million to £10 million", 2_000_000, 10_000_000),
    "over_10m": ("£10 million or more", 10_000_000, None),
}
SORTS = {
    "updated": "Recently updated",
    "closing": "Closing soonest",
    "publish": "Tender published soonest",
    "value": "Highest value first",
    "title": "Title (A to Z)",
}
# The list also offers best match, the order of a search (the API keeps to SORTS: its search
# finds entries holding every word, in the order asked for).
LIST_SORTS = {"relevance": "Best match", **SORTS}
# The most entries a search on the list finds, and how many of the best matches for its words
# are put in order of how near they are to a place it names before the list is cut.
SEARCH_LIMIT = 1000
PLACE_SEARCH_LIMIT = 20_000
CLOSING_WITHIN = (7, 14, 30, 60, 90)
TIMELINE_MONTHS = 18
FEED_SIZE = 50
MAX_Q = 200


@dataclass
class PlanQuery:
    """Validated forward-plan filters. Every field is optional."""

    q: str | None = None
    status: str | None = None
    cpv: str | None = None
    area: str | None = None
    value_band: str | None = None
    buyer: str | None = None
    route: str | None = None
    vcse: str | None = None
    consortium: str | None = None
    closing_within: str | None = None
    sort: str | None = None
    # Only entries holding every word of the search (the list finds any by default).
    every_word: str | None = None

    def as_args(self):
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    @property
    def filtered(self):
        return any(v for k, v in self.as_args().items() if k not in ("sort", "every_word"))

    @property
    def effective_sort(self):
        """The list's order: the one asked for, or best match when searching and the most
        recently updated first otherwise (best match means nothing without search text)."""
        if self.sort and (self.q or self.sort != "relevance"):
            return self.sort
        return default_plan_sort(self.q)


def default_plan_sort(q):
    return "relevance" if q else "updated"


def submitted_plan_filters(args):
    """The address of the list a submitted filter form asks for (see
    portal.organisations.directory.submitted_filters), or None."""
    return submitted_filters(args, default_plan_sort)


def _choice(values, name, allowed, message):
    if values[name] and values[name] not in allowed:
        raise DomainError(message, field=name)


def _flag(values, name):
    if values[name] and values[name] not in ("1", "true", "yes"):
        raise DomainError(f"{name} must be 1 or left out", field=name)
    values[name] = "1" if values[name] else None


def parse_plan_query(args, sorts=SORTS):
    """Validate filters from query-string style `args`, the order being one of `sorts`;
    raises DomainError naming the field."""
    values = {f.name: (args.get(f.name) or "").strip() or None for f in fields(PlanQuery)}
    _choice(values, "status", PUBLIC_STATUSES, "Choose a stage from the list")
    _choice(values, "value_band", VALUE_BANDS, "Choose a value band from the list")
    _choice(values, "route", ROUTES, "Choose a procurement route from the list")
    _choice(values, "sort", sorts, "Choose how to sort from the list")
    _choice(values, "closing_within", [str(n) for n in CLOSING_WITHIN],
            "Choose a number of days from the list")
    _flag(values, "vcse")
    _flag(values, "consortium")
    _flag(values, "every_word")
    if values["area"] and db.session.get(Area, values["area"]) is None:
        raise DomainError("Choose an area from the list", field="area")
    if values["cpv"] and db.session.get(CpvCode, values["cpv"]) is None:
        raise DomainError("Enter an 8-digit CPV code from the list, like 85300000", field="cpv")
    if values["buyer"] and as_id(values["buyer"]) is None:
        raise DomainError("Choose a buyer from the list", field="buyer")
    if values["q"] and len(values["q"]) > MAX_Q:
        raise DomainError(f"Search text must be {MAX_Q} characters or fewer", field="q")
    return PlanQuery(**values)


def text_search_condition(q):
    """Free-text matching through the forward-plan index (titles, descriptions, outcomes, lots
    and buyer, stemmed), every word required, as the API and saved searches read it: the
    other filters still apply in SQL."""
    return among(Opportunity.id, search_opportunity_ids(q))


def plan_search_ids(query):
    """Public entry ids the list's search text finds, best match first (at most SEARCH_LIMIT).

    The index ranks the words (see rank_opportunity_ids): entries holding any of them, or
    only those holding every one when `query.every_word` is set. A place the text names is not
    a word to find but an area: entries listing an area inside it come first, then those
    covering it from a county or region around it, then those naming it in their text. Text
    that only names places finds the entries there, the nearest and most recently updated
    first. With every word required, an entry must also be in, or name, a place searched for.
    """
    search = read_search_text(query.q)
    every_word = bool(query.every_word)
    if not search.places:
        return rank_opportunity_ids(query.q, every_word=every_word, statuses=PUBLIC_STATUSES,
                                    limit=SEARCH_LIMIT)
    tiers = place_tiers(search, opportunity_area.c.opportunity_id, opportunity_area.c.area_code)
    tiers.append(_naming(search.places) - tiers[0] - tiers[1])
    if not search.words:
        return _nearest_entries(search, tiers[2])
    found = rank_opportunity_ids(search.words, every_word=every_word, statuses=PUBLIC_STATUSES,
                                 limit=PLACE_SEARCH_LIMIT)
    if every_word:
        found = [entry_id for entry_id in found if any(entry_id in tier for tier in tiers)]
    return nearest_first(found, tiers)[:SEARCH_LIMIT]


def _naming(places):
    """Ids of entries whose own text names any of `places`."""
    return {entry_id for name in places for entry_id in search_opportunity_ids(name)}


def _nearest_entries(search, naming):
    """Public entries in the places `search` names, the nearest first, then those naming them
    in their text; the most recently updated first within each."""
    nearness = place_nearness(search, Opportunity.id, opportunity_area.c.opportunity_id,
                              opportunity_area.c.area_code, naming)
    return list(db.session.scalars(
        select(Opportunity.id).where(Opportunity.status.in_(PUBLIC_STATUSES), nearness < 3)
        .order_by(nearness, Opportunity.updated_at.desc(), Opportunity.id.desc())
        .limit(SEARCH_LIMIT)))


def _cpv_condition(code):
    prefix = reference.cpv_descendant_prefix(code)
    return or_(Opportunity.main_cpv_code.like(f"{prefix}%"), Opportunity.id.in_(
        select(opportunity_cpv.c.opportunity_id).where(opportunity_cpv.c.cpv_code.like(f"{prefix}%"))))


def _area_condition(code):
    codes = sorted(area_and_inside(code))
    return Opportunity.id.in_(select(opportunity_area.c.opportunity_id)
                              .where(opportunity_area.c.area_code.in_(codes)))


def _value_condition(band):
    _label, low, high = VALUE_BANDS[band]
    conditions = [Opportunity.whole_life_value.is_not(None)]
    if low is not None:
        conditions.append(Opportunity.whole_life_value >= low)
    if high is not None:
        conditions.append(Opportunity.whole_life_value < high)
    return and_(*conditions)


def _closing_condition(days):
    now = uk_now()
    return and_(Opportunity.status == "open", Opportunity.closing_at > now,
                Opportunity.closing_at <= now + timedelta(days=int(days)))


def _conditions(query, text_ids=None):
    """SQL conditions for every filter but the stage. `text_ids` holds the entry ids the search
    index found for the free text (looked up when not given)."""
    conditions = {
        "q": lambda v: text_search_condition(v) if text_ids is None
        else among(Opportunity.id, text_ids),
        "cpv": _cpv_condition, "area": _area_condition,
        "value_band": _value_condition, "closing_within": _closing_condition,
        "buyer": lambda v: Opportunity.organisation_id == int(v),
        "route": lambda v: Opportunity.procurement_route == v,
        "vcse": lambda v: Opportunity.suitable_vcse.is_(True),
        "consortium": lambda v: Opportunity.consortium_welcome.is_(True),
    }
    return [condition(getattr(query, name)) for name, condition in conditions.items()
            if getattr(query, name)]


def filtered_statement(query, text_ids=None):
    """SELECT of public entries matching `query`; without a stage, the live stages."""
    statuses = [query.status] if query.status else list(LIVE_STATUSES)
    return select(Opportunity).where(Opportunity.status.in_(statuses),
                                     *_conditions(query, text_ids))


def _sorted(stmt, sort):
    if sort == "closing":
        return stmt.order_by(Opportunity.closing_at.asc().nulls_last(), Opportunity.id)
    if sort == "publish":
        return stmt.order_by(Opportunity.tender_publish_on.asc().nulls_last(), Opportunity.id)
    if sort == "value":
        return stmt.order_by(Opportunity.whole_life_value.desc().nulls_last(), Opportunity.id)
    if sort == "title":
        return stmt.order_by(func.lower(Opportunity.title), Opportunity.id)
    return stmt.order_by(Opportunity.updated_at.desc(), Opportunity.id.desc())


LISTING_OPTIONS = (selectinload(Opportunity.organisation), selectinload(Opportunity.areas),
                   selectinload(Opportunity.main_cpv))


def search_plan(query, page=1, per_page=20, text_ids=None):
    """One page of public entries matching `query`, as the API lists them (the search text's
    every word required unless `text_ids` gives what it found)."""
    stmt = _sorted(filtered_statement(query, text_ids), query.sort or "updated").options(
        *LISTING_OPTIONS)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=None)


def list_plan(query, page=1, per_page=20, text_ids=None):
    """One page of the list: public entries matching `query`, best match first when searching
    unless another order is asked for. `text_ids` is what the search text found (looked up
    when not given)."""
    if query.q and text_ids is None:
        text_ids = plan_search_ids(query)
    stmt = filtered_statement(query, text_ids)
    if query.q and query.effective_sort == "relevance":
        return ranked_page(stmt, text_ids, page, per_page, Opportunity, LISTING_OPTIONS)
    stmt = _sorted(stmt, query.effective_sort).options(*LISTING_OPTIONS)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=None)


# Everything an OCDS release reads, loaded in a few queries for a whole page instead of ~10 per
# entry.
RELEASE_OPTIONS = (
    selectinload(Opportunity.organisation), selectinload(Opportunity.main_cpv),
    selectinload(Opportunity.additional_cpv), selectinload(Opportunity.areas),
    selectinload(Opportunity.lots).selectinload(Lot.cpv_codes),
    selectinload(Opportunity.documents), selectinload(Opportunity.questions),
    selectinload(Opportunity.award).selectinload(Award.winners),
)


def releases_page(query, page, per_page):
    """One page of public entries matching `query` in id order (so pages do not shift as
    entries change), with everything their OCDS releases read."""
    stmt = filtered_statement(query).order_by(Opportunity.id).options(*RELEASE_OPTIONS)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=None)


def public_plan_version():
    """What the plan's OCDS depends on: its public entries (every change to an entry, its lots,
    documents, answers or award bumps the entry's updated_at; a count catches deletions) and
    the names of their buyers."""
    public = Opportunity.status.in_(PUBLIC_STATUSES)
    latest, count = db.session.execute(
        select(func.max(Opportunity.updated_at), func.count(Opportunity.id)).where(public)).one()
    buyers = db.session.scalar(select(func.max(Organisation.updated_at)).where(
        Organisation.id.in_(select(Opportunity.organisation_id).where(public))))
    return latest, count, buyers


@dataclass
class PlanPage:
    query: PlanQuery
    results: object
    options: dict
    errors: list = field(default_factory=list)
    facets: dict = field(default_factory=dict)
    snippets: dict = field(default_factory=dict)  # entry id -> marked-up excerpt
    suggestion: str | None = None  # "did you mean" search text


def _lenient_query(args):
    """Parse filters, leaving out (and reporting) the bad ones so the others still apply."""
    values = {f.name: args.get(f.name) for f in fields(PlanQuery)}
    errors = []
    while True:
        try:
            return parse_plan_query(values, LIST_SORTS), errors
        except DomainError as problem:
            errors.append(problem)
            values[problem.field] = None


def browse_plan(args, page=1, per_page=20):
    """The forward plan page: filters, one page of entries, the filter choices with how many
    entries each would give, excerpts marking the searched-for words and a spelling suggestion
    when the search finds little."""
    query, errors = _lenient_query(args)
    text_ids = plan_search_ids(query) if query.q else None
    results = list_plan(query, page, per_page, text_ids)
    version, key = plan_version(), (filters_key(query), results.total)
    return PlanPage(
        query, results, _options.get(query.cpv, version, lambda: filter_options(query)),
        errors, facets=_facets.get(key, version,
                                   lambda: plan_facets(query, text_ids, results.total)),
        snippets=description_snippets(results.items, query.q),
        suggestion=_suggestions.get(key, version, lambda: _better_search(query, results.total)))


# The list's filter choices and counts, and its "did you mean", are kept per process
# (portal.core.costly): with 10,000 entries they are most of the page's database time, and
# entries change far less often than the plan is read.
_facets = CostlyCache(size=64)
_options = CostlyCache(size=16)
_suggestions = CostlyCache(size=64)


def plan_version():
    """Changes with every committed change to an entry (each is logged for the search indexes:
    portal.core.change_log), with the number of entries (rows added in bulk SQL) and daily."""
    newest = db.session.scalar(select(func.max(IndexChange.id)).where(
        IndexChange.document_type == ENTRIES.name))
    return newest, db.session.scalar(select(func.count(Opportunity.id))), date.today()


def _better_search(query, total):
    """The "did you mean" suggestion, judged by the entries holding every word: with any word
    found, a misspelt one hardly changes how many entries the others find."""
    if not query.q:
        return None
    every = replace(query, every_word="1")
    if not query.every_word:
        total = list_plan(every, 1, 1).total
    return better_search(every, total, lambda q: list_plan(q, 1, 1).total,
                         suggest_opportunity_search)


def _band_of_value():
    return case(*[(and_(Opportunity.whole_life_value >= low if low is not None else true(),
                        Opportunity.whole_life_value < high if high is not None else true()), key)
                  for key, (_label, low, high) in VALUE_BANDS.items()], else_=None)


def plan_facets(query, text_ids, total):
    """Stage, value, category and area choices with how many entries each would give (each
    leaves out its own choice; stages count every public stage)."""
    def without(name):
        return filtered_statement(replace(query, **{name: None}), text_ids)

    def ids(name):
        return without(name).with_only_columns(Opportunity.id)

    stages = dict(db.session.execute(
        select(Opportunity.status, func.count()).where(
            Opportunity.status.in_(PUBLIC_STATUSES), *_conditions(query, text_ids))
        .group_by(Opportunity.status)).all())
    band = _band_of_value()
    bands = dict(db.session.execute(without("value_band").with_only_columns(band, func.count())
                                    .group_by(band)).all())
    pairs = union_all(
        select(Opportunity.id.label("owner"), Opportunity.main_cpv_code.label("code"))
        .where(Opportunity.main_cpv_code.is_not(None)),
        select(opportunity_cpv.c.opportunity_id, opportunity_cpv.c.cpv_code)).subquery()
    return {
        "status": flat_facet({k: v for k, v in STATUSES.items() if k in PUBLIC_STATUSES},
                             stages, query.status, "Any current stage",
                             any_count=sum(stages.get(s, 0) for s in LIVE_STATUSES)),
        "value_band": flat_facet({k: v[0] for k, v in VALUE_BANDS.items()}, bands,
                                 query.value_band, "Any value"),
        "cpv": cpv_facet(query.cpv, pairs, ids("cpv"), total),
        "area": area_facet(query.area, opportunity_area.c.opportunity_id,
                           opportunity_area.c.area_code, ids("area"), total),
    }


def filter_options(query=None):
    """Choices for the area, category and buyer filters: only the columns they show."""
    used = select(Opportunity.main_cpv_code).where(Opportunity.status.in_(PUBLIC_STATUSES))
    divisions = {code[:2] + "000000" for code in db.session.scalars(used.distinct()) if code}
    categories = db.session.execute(select(CpvCode.code, CpvCode.description).where(
        or_(CpvCode.code.in_(sorted(divisions)), CpvCode.is_social_service.is_(True)))
        .order_by(CpvCode.code)).all()
    if query and query.cpv and query.cpv not in {c.code for c in categories}:
        categories.insert(0, db.session.get(CpvCode, query.cpv))
    buyers = db.session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.id.in_(select(Opportunity.organisation_id)
                            .where(Opportunity.status.in_(PUBLIC_STATUSES))))
        .order_by(Organisation.name)).all()
    return {"areas": reference.area_choices(), "categories": categories, "buyers": buyers}


# --- Timeline -----------------------------------------------------------------------------------

MILESTONES = (
    ("market_engagement_on", "Market engagement"),
    ("tender_publish_on", "Tender published"),
    ("closing_at", "Closing date"),
    ("contract_start_on", "Contract starts"),
)


@dataclass
class Milestone:
    day: date
    label: str
    opportunity: Opportunity


@dataclass
class Month:
    start: date
    milestones: list

    @property
    def label(self):
        return self.start.strftime("%B %Y")


def _add_months(day, months):
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, 1)


# The timeline shows each entry's title, value and buyer's name, for every live entry: loading
# their areas as the list does (hundreds for a national entry) cost most of the page's time.
TIMELINE_OPTIONS = (selectinload(Opportunity.organisation).load_only(Organisation.name),)


def timeline(query, months=TIMELINE_MONTHS, today=None):
    """Milestones of live entries matching `query` over the next `months`, month by month."""
    first = (today or uk_now().date()).replace(day=1)
    end = _add_months(first, months)
    months_list = [Month(_add_months(first, i), []) for i in range(months)]
    unsorted = replace(query, sort=None)
    stmt = filtered_statement(unsorted, plan_search_ids(unsorted) if query.q else None).options(
        *TIMELINE_OPTIONS)
    for opportunity in db.session.scalars(stmt):
        for attribute, label in MILESTONES:
            value = getattr(opportunity, attribute)
            day = value.date() if hasattr(value, "date") and callable(value.date) else value
            if day is not None and first <= day < end:
                index = (day.year - first.year) * 12 + day.month - first.month
                if attribute == "tender_publish_on" and opportunity.status != "open" \
                        and opportunity.status != "evaluation":
                    label = "Tender expected"
                months_list[index].milestones.append(Milestone(day, label, opportunity))
    for month in months_list:
        month.milestones.sort(key=lambda m: (m.day, m.opportunity.title))
    return months_list


# --- Feed and history ---------------------------------------------------------------------------

def feed_entries(limit=FEED_SIZE):
    """Published entries, most recently changed first."""
    return db.session.scalars(
        select(Opportunity).where(Opportunity.status.in_(PUBLIC_STATUSES))
        .order_by(Opportunity.updated_at.desc(), Opportunity.id.desc()).limit(limit)
        .options(selectinload(Opportunity.organisation))).all()


HISTORY_ACTIONS = {
    "opportunity.created": "Entry created",
    "opportunity.imported": "Imported",
    "opportunity.updated": "Details changed",
    "opportunity.status_changed": "Stage changed",
    "opportunity.lot_added": "Lot added",
    "opportunity.lot_updated": "Lot changed",
    "opportunity.lot_removed": "Lot removed",
    "opportunity.document_added": "Document added",
    "opportunity.document_removed": "Document removed",
    "opportunity.answer_published": "Answer to a question published",
    "opportunity.awarded": "Contract awarded",
}
FIELD_LABELS = {
    "title": "title", "description": "description", "outcomes": "outcomes",
    "main_cpv_code": "main category", "additional_cpv": "other categories", "areas": "areas",
    "client_groups": "client groups", "value_min": "value", "value_max": "value",
    "value_basis": "value basis", "contract_months": "contract length",
    "extension_months": "extension options", "market_engagement_on": "market engagement date",
    "engagement_details": "market engagement details", "tender_publish_on": "tender date",
    "question_deadline": "question deadline", "closing_at": "closing date",
    "contract_start_on": "contract start", "procurement_route": "procurement route",
    "suitable_vcse": "VCSE suitability", "suitable_sme": "SME suitability",
    "consortium_welcome": "consortium bids", "subcontracting_expected": "sub-contracting",
    "reservation": "reserved participation", "reservation_area_code": "reserved area",
    "accreditation_tier": "accreditation tier",
    "accreditation_requirement": "accreditation requirement",
    "social_value": "social value priorities", "contact_role": "contact", "reference": "reference",
}


@dataclass
class HistoryItem:
    when: object
    label: str
    detail: str


def _describe(event):
    details = event.details or {}
    if event.action == "opportunity.status_changed":
        text = f"From {STATUSES.get(details.get('old'), '?').lower()} to " \
               f"{STATUSES.get(details.get('new'), '?').lower()}"
        return text + (f": {details['reason']}" if details.get("reason") else "")
    if event.action == "opportunity.updated":
        names = dict.fromkeys(FIELD_LABELS.get(f, f.replace("_", " "))
                              for f in details.get("fields", []))
        return "Changed: " + ", ".join(names)
    if "title" in details:
        prefix = f"Lot {details['lot']}: " if "lot" in details else ""
        return prefix + details["title"]
    if event.action == "opportunity.awarded":
        return "Awarded to " + ", ".join(details.get("winners", []))
    if event.action == "opportunity.imported":
        return f"From {details.get('source', 'another system')}"
    return ""


def history(opportunity):
    """Public changes to an entry, newest first (questions and interest stay private)."""
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "Opportunity", AuditEvent.object_id == opportunity.id,
        AuditEvent.action.in_(HISTORY_ACTIONS)).order_by(AuditEvent.id.desc())).all()
    return [HistoryItem(e.occurred_at, HISTORY_ACTIONS[e.action], _describe(e)) for e in events]


# The buyer's plan counts each entry's pending questions and interest and shows when it was
# awarded: loaded for the whole page at once, not three queries an entry.
OWN_PLAN_OPTIONS = (selectinload(Opportunity.questions), selectinload(Opportunity.interests),
                    selectinload(Opportunity.award))


def own_plan(org, status=None, page=1, per_page=20):
    """Every entry of the organisation's plan, drafts included, most recently changed first."""
    stmt = select(Opportunity).where(Opportunity.organisation_id == org.id)
    if status:
        stmt = stmt.where(Opportunity.status == status)
    stmt = stmt.order_by(Opportunity.updated_at.desc(), Opportunity.id.desc()).options(
        *OWN_PLAN_OPTIONS)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=None)


def plan_counts(org):
    rows = db.session.execute(select(Opportunity.status, func.count(Opportunity.id))
                              .where(Opportunity.organisation_id == org.id)
                              .group_by(Opportunity.status)).all()
    return dict(rows)
