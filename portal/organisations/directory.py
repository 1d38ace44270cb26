"""Finding organisations: the directory's filters, search, sorting and pages, the counts beside
each filter option (facets, shared with the accredited register and the forward plan), the
choices the filters offer, and the home page's counts by type. Also shared with the forward
plan: reading place names out of search text, and the order a submitted filter form asks for.

Profile edits live in `services.py`; this module only reads."""
import re
from dataclasses import dataclass, field, fields, replace
from datetime import date
from functools import lru_cache

from flask import g
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from portal.core.costly import CostlyCache
from portal.core.exceptions import DomainError
from portal.core.sql import among
from portal.extensions import db
from portal.organisations.models import (
    INCOME_BANDS, ORG_TYPES, Organisation, organisation_area, organisation_cpv,
)
from portal.organisations.services import cpv_ancestors, social_service_codes
from portal.reference import services as reference
from portal.reference.models import Area, CpvCode
from portal.reference.places import find_places, gazetteer, normalise_name
from portal.search.repair import SearchUnavailable
from portal.search.services import (
    index_version, match_organisations, organisations_allowed, search_organisation_ids, settled,
    snippet, suggest_organisation_search, terms,
)

SORTS = {
    "relevance": "Best match",
    "name": "Name (A to Z)",
    "name_desc": "Name (Z to A)",
    "income": "Largest income first",
}
# A search finding fewer results than this looks for a better spelling.
FEW_RESULTS = 5
# The most organisations a search lists (the search index's answer is cut there).
SEARCH_LIMIT = 500
# When the search names a place, this many of the best matches for its words are put in order
# of how near they work before the list is cut to SEARCH_LIMIT.
PLACE_SEARCH_LIMIT = 20_000
# Readiness tiers, as forward-plan entries name them; a tier's label is the level name the
# accreditation schemes give it when they all give the same one.
TIER_LABELS = {"1": "Tier 1 (foundation)", "2": "Tier 2 (established)",
               "3": "Tier 3 (advanced)"}


def directory_counts():
    """Number of active organisations of each type, for the home page."""
    rows = db.session.execute(
        select(Organisation.org_type, func.count(Organisation.id))
        .where(Organisation.status == "active").group_by(Organisation.org_type)
    ).all()
    counts = {key: 0 for key in ORG_TYPES}
    counts.update(dict(rows))
    return counts


# --- Filters, search and pages ------------------------------------------------------------------

@dataclass
class DirectoryQuery:
    """Validated directory filters. Every field is optional."""

    type: str | None = None
    area: str | None = None
    cpv: str | None = None
    income_band: str | None = None
    tier: str | None = None
    q: str | None = None
    sort: str | None = None

    @property
    def effective_sort(self):
        """The order shown: the one asked for, or best match when searching and by name
        otherwise (best match means nothing without search text)."""
        if self.sort and (self.q or self.sort != "relevance"):
            return self.sort
        return default_directory_sort(self.q)

    def as_args(self):
        """The non-empty filters, as query-string arguments."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


def default_directory_sort(q):
    return "relevance" if q else "name"


def _check_choice(value, allowed, field_name, message):
    if value and value not in allowed:
        raise DomainError(message, field=field_name)


def parse_directory_query(args):
    """Validate directory filters from query-string style `args`.

    Raises DomainError naming the first bad field.
    """
    values = {f.name: (args.get(f.name) or "").strip() or None for f in fields(DirectoryQuery)}
    _check_choice(values["type"], ORG_TYPES, "type", "Choose a type of organisation from the list")
    _check_choice(values["income_band"], INCOME_BANDS, "income_band",
                  "Choose an income band from the list")
    _check_choice(values["sort"], SORTS, "sort", "Choose how to sort from the list")
    _check_choice(values["tier"], TIER_LABELS, "tier",
                  "Choose an accreditation level from the list")
    if values["area"] and db.session.get(Area, values["area"]) is None:
        raise DomainError("Choose an area from the list", field="area")
    if values["cpv"] and db.session.get(CpvCode, values["cpv"]) is None:
        raise DomainError("Enter an 8-digit CPV code from the list, like 85300000", field="cpv")
    if values["q"] and len(values["q"]) > 200:
        raise DomainError("Search text must be 200 characters or fewer", field="q")
    return DirectoryQuery(**values)


def in_area_condition(code):
    """Organisations working in `code`: listing the area itself or anywhere inside it."""
    return Organisation.id.in_(
        select(organisation_area.c.organisation_id)
        .where(organisation_area.c.area_code.in_(sorted(area_and_inside(code)))))


def in_category_condition(code):
    """Organisations offering `code` or anything more specific below it."""
    prefix = reference.cpv_descendant_prefix(code)
    return Organisation.id.in_(
        select(organisation_cpv.c.organisation_id)
        .where(organisation_cpv.c.cpv_code.like(f"{prefix}%")))


def _conditions(query, ranked=None):
    """The directory's SQL conditions by filter name. `ranked` holds the ids the search found
    for the free text (looked up when not given)."""
    conditions = {}
    if query.type:
        conditions["type"] = Organisation.org_type == query.type
    if query.income_band:
        conditions["income_band"] = Organisation.income_band == query.income_band
    if query.area:
        conditions["area"] = in_area_condition(query.area)
    if query.cpv:
        conditions["cpv"] = in_category_condition(query.cpv)
    if query.tier:
        conditions["tier"] = among(Organisation.id, sorted(
            org_id for org_id, standing in accredited_standings().items()
            if standing.tier >= int(query.tier)))
    if query.q:
        conditions["q"] = among(
            Organisation.id, directory_search_ids(query.q) if ranked is None else ranked)
    return conditions


def _filtered(query, ranked=None, leave_out=None):
    """Active organisations matching `query`, without the filter named `leave_out`."""
    conditions = [condition for name, condition in _conditions(query, ranked).items()
                  if name != leave_out]
    return select(Organisation).where(Organisation.status == "active", *conditions)


_BAND_RANK = case({key: rank for rank, key in enumerate(INCOME_BANDS)},
                  value=Organisation.income_band, else_=-1)


def _sorted(stmt, sort):
    name = func.lower(Organisation.name)
    if sort == "name_desc":
        return stmt.order_by(name.desc(), Organisation.id.desc())
    if sort == "income":
        return stmt.order_by(Organisation.latest_income.desc().nulls_last(), _BAND_RANK.desc(),
                             name, Organisation.id)
    return stmt.order_by(name, Organisation.id)


_LISTING_OPTIONS = (selectinload(Organisation.areas), selectinload(Organisation.cpv_codes))


class RankedPagination(Pagination):
    """Pages over ids already in order (search relevance), loading one page of rows of
    `model` (organisations unless given) with the loader `options`."""

    def _query_items(self):
        ids = self._query_args["ids"][self._query_offset:self._query_offset + self.per_page]
        model = self._query_args.get("model", Organisation)
        options = self._query_args.get("options", _LISTING_OPTIONS)
        rows = db.session.scalars(
            select(model).where(model.id.in_(ids)).options(*options)).all()
        by_id = {row.id: row for row in rows}
        return [by_id[i] for i in ids if i in by_id]

    def _query_count(self):
        return len(self._query_args["ids"])


def ranked_page(stmt, ranked, page, per_page, model, options=()):
    """One page of the rows `stmt` selects, in the order of the ids `ranked` (best first)."""
    allowed = set(db.session.scalars(stmt.with_only_columns(model.id)))
    ordered = [row_id for row_id in ranked if row_id in allowed]
    return RankedPagination(page=page, per_page=per_page, error_out=False, max_per_page=None,
                            ids=ordered, model=model, options=options)


def search_directory(query, page=1, per_page=20, ranked=None):
    """Active organisations matching `query`, one page at a time.

    Free text goes through the search index (see `directory_search_ids`) and keeps its order
    unless another sort is asked for; every other filter is SQL, so results always agree with
    the database. `ranked` is the search's answer for the free text when the caller already
    has it.
    """
    if query.q and ranked is None:
        ranked = directory_search_ids(query.q)
    stmt = _filtered(query, ranked)
    if query.q and query.effective_sort == "relevance":
        return ranked_page(stmt, ranked, page, per_page, Organisation, _LISTING_OPTIONS)
    stmt = _sorted(stmt, query.effective_sort).options(*_LISTING_OPTIONS)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=None)


def directory_search_ids(q):
    """Active organisation ids the search text `q` finds, best first (at most SEARCH_LIMIT).

    The search index ranks the words; when the text names a place, the organisations working
    inside it come first, then those covering it from a county or region around it, each in
    the index's order. Text that only names places finds the organisations working there, the
    nearest first and then by name."""
    search = read_search_text(q)
    if not search.places:
        return search_organisation_ids(q, limit=SEARCH_LIMIT)
    owner, code = organisation_area.c.organisation_id, organisation_area.c.area_code
    if search.words:
        found = search_organisation_ids(search.words, limit=PLACE_SEARCH_LIMIT)
        return nearest_first(found, place_tiers(search, owner, code))[:SEARCH_LIMIT]
    nearness = place_nearness(search, Organisation.id, owner, code)
    return list(db.session.scalars(
        select(Organisation.id).where(Organisation.status == "active", nearness < 2)
        .order_by(nearness, func.lower(Organisation.name), Organisation.id)
        .limit(SEARCH_LIMIT)))


# --- Accreditation, as the search index holds it -------------------------------------------------
# Accreditation is a domain above this one; each profile's search document carries its current
# level (tier, name, last day), written whenever a record changes. The index answers only the
# levels still running today, so one past its last day stops counting at once.

@dataclass(frozen=True)
class Standing:
    """An organisation's current accreditation: its readiness tier, the level's name and the
    last day it runs to."""

    tier: int
    level: str | None
    valid_until: date | None


# The standings of every active organisation, kept per process while the index is unchanged:
# they decide what the tier filter lets through, so they are never reused past a change.
_standings = CostlyCache(size=1, stale_seconds=0)


def accredited_standings():
    """{organisation id: Standing} for every active organisation with a current accreditation,
    read from the search index ({} while it is being rebuilt)."""
    version = (index_version(), date.today())
    return _standings.get("all", version, _active_standings, keep=settled(version[0]))


def _active_standings():
    """Every accredited organisation in the index, less those no longer active: the index
    holds a few hundred accredited among a whole directory, so it is read first."""
    try:
        found = organisations_allowed({"tier_at_least": 1})
    except SearchUnavailable:
        return {}
    tiered = {org_id: _standing(features) for org_id, features in found if features.get("tier")}
    active = set(db.session.scalars(select(Organisation.id).where(
        Organisation.status == "active", Organisation.id.in_(list(tiered))))) if tiered else ()
    return {org_id: standing for org_id, standing in tiered.items() if org_id in active}


def read_standings(ids):
    """{id: Standing} for those of `ids` with a current accreditation ({} while the search
    index is being rebuilt)."""
    if not ids:
        return {}
    try:
        hits = match_organisations([], only_ids=ids, filters={"tier_at_least": 1})
    except SearchUnavailable:
        return {}
    return {hit.org_id: _standing(hit.features) for hit in hits if hit.features.get("tier")}


def _standing(features):
    until = features.get("tier_until")
    return Standing(int(features["tier"]), features.get("level"),
                    date.fromisoformat(until) if until else None)


def standing_of(org):
    """The current accreditation of one organisation (a Standing), or None."""
    return read_standings([org.id]).get(org.id)


def tier_labels(standings):
    """{tier: label} for the filter: the level's name when every scheme names the tier alike,
    otherwise "Tier 2 (established)" and so on."""
    names = {}
    for standing in standings:
        names.setdefault(str(standing.tier), set()).add(standing.level)
    return {tier: (next(iter(names[tier])) if len(names.get(tier, ())) == 1
                   and None not in names[tier] else label)
            for tier, label in TIER_LABELS.items()}


@dataclass
class DirectoryPage:
    query: DirectoryQuery
    results: Pagination
    facets: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    snippets: dict = field(default_factory=dict)  # organisation id -> marked-up excerpt
    standings: dict = field(default_factory=dict)  # organisation id -> Standing, if accredited
    suggestion: str | None = None  # "did you mean" search text


def parse_leniently(parse, names, args):
    """Parse filters with `parse`; a bad one is reported and left out, the others still apply.
    Returns (query, errors)."""
    values = {name: args.get(name) for name in names}
    errors = []
    while True:
        try:
            return parse(values), errors
        except DomainError as problem:
            errors.append(problem)
            values[problem.field] = None


def browse_directory(args, page=1, per_page=20):
    """The directory page: filters read from `args`, one page of results, how many results
    each filter option would give, excerpts marking the searched-for words, and a spelling
    suggestion when the search finds little. A bad filter is reported and left out."""
    query, errors = parse_leniently(parse_directory_query,
                                     [f.name for f in fields(DirectoryQuery)], args)
    ranked = directory_search_ids(query.q) if query.q else None
    results = search_directory(query, page, per_page, ranked)
    return DirectoryPage(
        query, results, directory_facets(query, ranked, results.total), errors,
        snippets=description_snippets(results.items, query.q),
        standings=page_standings(results.items),
        suggestion=better_search(query, results.total,
                                 lambda q: search_directory(q, 1, 1).total,
                                 suggest_organisation_search))


def page_standings(items):
    """{id: Standing} for the accredited organisations among `items`."""
    standings = accredited_standings()
    return {item.id: standings[item.id] for item in items if item.id in standings}


def description_snippets(items, q):
    """{id: excerpt of the description with the words of `q` marked} for items that have one."""
    if not q:
        return {}
    found = {item.id: snippet(item.description, q) for item in items}
    return {key: value for key, value in found.items() if value}


def better_search(query, total, count, suggest):
    """Search text to offer as "did you mean" when `query` finds fewer than FEW_RESULTS: a
    respelling the index suggests, kept only if it finds more with the same filters."""
    if not query.q or total >= FEW_RESULTS:
        return None
    respelt = suggest(query.q)
    if not respelt or respelt.casefold() == query.q.casefold():
        return None
    return respelt if count(replace(query, q=respelt)) > total else None


# --- Places named in search text (shared with the forward plan) ----------------------------------
# "mental health Tower Hamlets" asks for mental health work in Tower Hamlets: the place is read
# as an area rather than as words the results must hold, and results working there come first.

# Names of councils that are also everyday words: typed in lower case they are read as words
# ("reading groups", "rugby coaching"); with a capital letter they name the place.
EVERYDAY_WORDS = frozenset("""
angus brent bury craven derby eden fife harrow hart highland reading rugby swale
""".split())
# A place covering more councils than this (the UK, Great Britain, England) says nothing about
# where: its name is searched as words.
MAX_PLACE_AUTHORITIES = 100
# Words put before a place's name that go with it ("London Borough of Tower Hamlets").
_PLACE_PREFIX = r"(?:(?:royal |london )?borough of |city of |county of )?"
# Kinds of place that are areas of their own (the others are sets of councils).
AREA_KINDS = ("authority", "county", "region", "country")


@dataclass(frozen=True)
class SearchText:
    """Search text read for places. `words` is what is left once their names are taken out
    (nothing when that is only words no search looks for, as in "charities in Leeds");
    `inside` holds the area codes a result lists to work inside a named place (the place
    itself and every area within it), `around` those of the counties and regions around it,
    whose results cover the place from outside."""

    words: str
    places: tuple = ()
    inside: frozenset = frozenset()
    around: frozenset = frozenset()


def read_search_text(q):
    """`q` read for places (see SearchText); without any, its words are `q` as typed."""
    places = places_named(q or "")
    if not places:
        return SearchText(q or "")
    words = q
    for place in places:
        words = _without_name(words, place.name)
    words = " ".join(words.split()) if terms(words) else ""
    inside, around = place_areas(places)
    return SearchText(words, tuple(p.name for p in places), frozenset(inside),
                      frozenset(around))


def places_named(q):
    """Councils, counties, regions and nations named in search text: written any way, or
    with a capital letter when the name is also an everyday word. Wards and villages are left
    out (their names, like "Riverside" or "Central", are too often something else)."""
    found = {p.name: p for p in find_places(q, wards=False)}
    for place in find_places(q, strict=False, wards=False):
        if normalise_name(place.name) not in EVERYDAY_WORDS:
            found.setdefault(place.name, place)
    return [p for p in found.values() if p.breadth <= MAX_PLACE_AUTHORITIES]


def _without_name(text, name):
    """`text` with the place `name` taken out, however it was written ("St Helens",
    "st. helens", "Brighton & Hove")."""
    words = [r"(?:and|&)" if word == "and" else re.escape(word) + r"\.?"
             for word in normalise_name(name).split(" ")]
    pattern = rf"(?<!\w){_PLACE_PREFIX}{r'[\s.-]+'.join(words)}(?!\w)"
    return re.sub(pattern, " ", text, flags=re.IGNORECASE)


@lru_cache(maxsize=1)
def _area_codes_by_name():
    return {normalise_name(row["name"]): code for code, row in gazetteer().areas.items()}


def place_areas(places):
    """(inside, around): see SearchText."""
    tree = area_tree()
    inside, around = set(), set()
    for place in places:
        own = _area_codes_by_name().get(normalise_name(place.name))
        for code in [own] if own and place.kind in AREA_KINDS else sorted(place.codes):
            inside |= tree.within(code)
            around |= {a.code for a in tree.path(code) if a.kind in ("county", "region")}
    return inside, around - inside


def _listing(link_owner, link_code, codes):
    """SELECT of the owners (organisations, entries) listing any of the area `codes`."""
    return select(link_owner).where(link_code.in_(sorted(codes)))


def place_tiers(search, link_owner, link_code):
    """[owners inside a place `search` names, owners covering one from around it] as sets;
    `link_owner` and `link_code` are the columns linking them to their areas."""
    inside = set(db.session.scalars(_listing(link_owner, link_code, search.inside)))
    around = set(db.session.scalars(_listing(link_owner, link_code, search.around)))
    return [inside, around - inside]


def place_nearness(search, key, link_owner, link_code, *more):
    """SQL: 0 for a row (whose id is `key`) inside a place `search` names, 1 for one covering
    it from around it, then 2, 3… for one whose id is in the first, second… of the sets
    `more`, and one past the last for the rest."""
    whens = [(key.in_(_listing(link_owner, link_code, search.inside)), 0),
             (key.in_(_listing(link_owner, link_code, search.around)), 1)]
    whens += [(key.in_(sorted(ids)), n) for n, ids in enumerate(more, 2) if ids]
    return case(*whens, else_=2 + len(more))


def nearest_first(ids, tiers):
    """`ids` (best first) with those in the first of `tiers` first, then the second, and so
    on; the order within each is kept."""
    def tier(row_id):
        return next((n for n, members in enumerate(tiers) if row_id in members), len(tiers))
    return sorted(ids, key=tier)


# --- The order a submitted filter form asks for (shared with the forward plan) -------------------
# A filter form carries the search text and the order of the page it was on, so that a new
# search can tell an order chosen now from one the menu kept from before. Someone who types a
# new search expects the best matches first, whatever the list was in before.

SHOWN_FIELDS = ("shown_q", "shown_sort")


def _plain(text):
    return " ".join((text or "").split())


def submitted_filters(args, default_sort):
    """For a filter form just submitted (it carries SHOWN_FIELDS), the arguments of the page
    to show, as {name: [values]}: a new search is in the order `default_sort(q)` gives unless
    another order was chosen at the same time; the order is left out when it is that default,
    and so are empty fields and the form's own. None for any other request (a link, a page of
    results, a bookmark), which is shown as asked."""
    if not any(name in args for name in SHOWN_FIELDS):
        return None
    q, sort = _plain(args.get("q")), args.get("sort") or None
    new_search = bool(q) and q.casefold() != _plain(args.get("shown_q")).casefold()
    if new_search and sort == args.get("shown_sort"):
        sort = None
    kept = MultiDict([(name, value) for name, value in args.items(multi=True)
                      if value.strip() and name not in SHOWN_FIELDS + ("sort", "page")])
    if sort and sort != default_sort(q) and (q or sort != "relevance"):
        kept["sort"] = sort
    return kept.to_dict(flat=False)


# Directory facet counts are kept per process (portal.core.costly): at 100,000 organisations
# they take most of a second to count. A change to any organisation changes the index version;
# counts that were slow to make are still shown for a few seconds after one.
_facets = CostlyCache(size=64)


def directory_facets(query, ranked, total):
    """Filter options with counts for the directory; see the Facets section. Counts are kept
    for the same filters and search (see portal.core.costly)."""
    version = index_version()
    return _facets.get((filters_key(query), total), version,
                       lambda: _count_directory_facets(query, ranked, total),
                       keep=settled(version))


def filters_key(query):
    """A directory or forward-plan query as a key for what is kept per filters, whatever the
    order asked for."""
    return tuple(sorted(replace(query, sort=None).as_args().items()))


def _count_directory_facets(query, ranked, total):
    def base(name):
        return _filtered(query, ranked, leave_out=name)

    def ids(name):
        return base(name).with_only_columns(Organisation.id)

    cpv_pairs = select(organisation_cpv.c.organisation_id.label("owner"),
                       organisation_cpv.c.cpv_code.label("code")).subquery()
    return {
        "type": flat_facet(ORG_TYPES, grouped_counts(base("type"), Organisation.org_type),
                           query.type, "Any type"),
        "area": area_facet(query.area, organisation_area.c.organisation_id,
                           organisation_area.c.area_code, ids("area"), total),
        "cpv": cpv_facet(query.cpv, cpv_pairs, ids("cpv"), total),
        "income_band": flat_facet({k: v[0] for k, v in INCOME_BANDS.items()},
                                  grouped_counts(base("income_band"), Organisation.income_band),
                                  query.income_band, "Any income"),
        "tier": tier_facet(query.tier, ids("tier")),
    }


def tier_facet(chosen, base_ids):
    """Options for "accredited at least at": each tier counts the results accredited at it or
    above; expired accreditations count as none."""
    standings = accredited_standings()
    inside = db.session.scalars(base_ids.where(Organisation.id.in_(list(standings)))) \
        if standings else ()
    tiers = [standings[i].tier for i in inside]
    counts = {key: sum(tier >= int(key) for tier in tiers) for key in TIER_LABELS}
    return flat_facet(tier_labels(standings.values()), counts, chosen, "Any",
                      any_count=count_ids(base_ids))


def directory_filter_options(current_cpv=None):
    """Choices for the directory's area and category filters."""
    areas = reference.area_choices()
    divisions = db.session.scalars(
        select(CpvCode).where(CpvCode.parent_code.is_(None)).order_by(CpvCode.code)).all()
    categories = divisions + [c for c in social_service_codes() if c not in divisions]
    if current_cpv and current_cpv not in {c.code for c in categories}:
        extra = db.session.get(CpvCode, current_cpv)
        categories = ([extra] if extra else []) + categories
    return {"areas": areas, "categories": categories}


# --- Facets: how many results each filter option would give -------------------------------------
# Shared by the directory, the accredited register and the forward plan. Counts are SQL over the
# same conditions as the results (exact, and in step with the database); each facet's counts
# leave out that facet's own choice, so every option shows what choosing it would give.

@dataclass
class FacetOption:
    value: str
    label: str
    count: int | None = None
    selected: bool = False

    @property
    def text(self):
        return self.label if self.count is None else f"{self.label} ({self.count:,})"


def flat_facet(labels, counts, chosen, any_label, any_count=None):
    """Options for a one-level filter: "any" first, then each choice with its count. Choices
    with no results are left out unless chosen. Without `any_count`, each result is taken to
    have exactly one value, so "any" counts them all."""
    total = sum(counts.values()) if any_count is None else any_count
    options = [FacetOption("", any_label, total, not chosen)]
    options += [FacetOption(str(key), label, counts.get(key, 0), str(key) == str(chosen or ""))
                for key, label in labels.items() if counts.get(key) or str(key) == str(chosen)]
    return options


def grouped_counts(stmt, column):
    """{value of `column`: rows} over the rows `stmt` selects."""
    rows = db.session.execute(stmt.with_only_columns(column, func.count()).group_by(column))
    return dict(rows.all())


def count_ids(base_ids):
    return db.session.scalar(select(func.count()).select_from(base_ids.subquery()))


class AreaTree:
    """UK areas as the filters show them: England and its regions, the other nations, then
    counties and authorities. Read once per request."""

    def __init__(self, areas):
        self.by_code = {a.code: a for a in areas}
        self.children = {}
        # A nation divided into regions is listed beside them, so the regions come first.
        self.regional_nations = sorted({a.country_code for a in areas if a.kind == "region"})
        for area in sorted(areas, key=lambda a: a.name):
            self.children.setdefault(self._parent(area), []).append(area)
        self.children[None] = sorted(
            (a for a in self.children.get(None, []) if a.code not in self.regional_nations),
            key=lambda a: (a.kind != "region", a.name))
        for nation in self.regional_nations:
            self.children[nation] = [a for a in self.children[None] if a.country_code == nation]

    def _parent(self, area):
        if area.kind == "authority":
            return area.county_code or area.region_code or area.country_code
        if area.kind == "county":
            return area.region_code or area.country_code
        return None

    def parent(self, code):
        area = self.by_code.get(code)
        return self._parent(area) if area is not None else None

    def path(self, code):
        """The areas above `code` as the filter shows them, widest first."""
        chain, parent = [], self.parent(code)
        while parent is not None:
            chain.append(self.by_code[parent])
            parent = self.parent(parent)
        return list(reversed(chain))

    def within(self, code):
        """`code` and every area inside it (counties, authorities; a nation's regions)."""
        return {code} | {a.code for a in self.by_code.values()
                         if code in (a.county_code, a.region_code, a.country_code)}


def area_tree():
    if "area_tree" not in g:
        g.area_tree = AreaTree(reference.area_rows())
    return g.area_tree


def area_and_inside(code):
    """The codes an organisation or entry may list to count as working in `code`: the area
    itself or anywhere inside it (a county-wide charity is in the region's results)."""
    return area_tree().within(code)


def _child_key(tree, parent):
    """SQL for the option (a child of `parent`) that each area row falls under."""
    kind = tree.by_code[parent].kind if parent else None
    if kind is None or parent in tree.regional_nations:
        return func.coalesce(Area.region_code, case(
            (Area.kind.in_(("region", "country")), Area.code), else_=Area.country_code))
    if kind == "region":
        return func.coalesce(Area.county_code, Area.code)
    return Area.code


def _area_child_counts(tree, parent, link_owner, link_code, base_ids):
    """{code: count} for the children of `parent` and, from the same rows in one pass over the
    area links, for `parent` itself (at the top level: for each nation)."""
    rows = (select(_child_key(tree, parent).label("option"),
                   func.coalesce(Area.country_code, Area.code).label("nation"),
                   link_owner.label("owner"))
            .select_from(link_owner.table.join(Area, Area.code == link_code)))
    if parent:
        # Start from the links to areas inside `parent` (through the index on their codes):
        # "+ 0" keeps SQLite from instead probing every result's links, area by area.
        rows = rows.where(link_code.in_(sorted(tree.within(parent))),
                          (link_owner + 0).in_(base_ids))
    else:
        rows = rows.where(link_owner.in_(base_ids))
    rows = rows.cte("facet_rows")
    owners = func.count(db.distinct(rows.c.owner))
    whole = (select(db.literal("whole"), db.literal(parent), owners) if parent else
             select(db.literal("whole"), rows.c.nation, owners).group_by(rows.c.nation))
    stmt = db.union_all(select(db.literal("part"), rows.c.option, owners)
                        .group_by(rows.c.option), whole)
    found = {"part": {}, "whole": {}}
    for kind, code, number in db.session.execute(stmt):
        found[kind][code] = number
    children = {a.code for a in tree.children.get(parent, [])}
    counts = {code: n for code, n in found["part"].items() if code in children}
    counts.update(found["whole"])
    return counts


def _area_counts(tree, codes, link_owner, link_code, base_ids):
    """{code: count} for a few areas at once, in one scan."""
    if not codes:
        return {}
    columns = [func.count(db.distinct(case((link_code.in_(sorted(tree.within(code))),
                                            link_owner)))) for code in codes]
    row = db.session.execute(select(*columns).where(link_owner.in_(base_ids))).one()
    return dict(zip(codes, row))


def area_facet(chosen, link_owner, link_code, base_ids, total):
    """Options for the area filter: England, its regions and the other nations; once one is
    chosen, the way back up and the areas inside it (or, for an authority, the ones beside
    it). `link_owner` and `link_code` are the columns linking results to their areas;
    `base_ids` selects the results of every other filter and `total` counts those of all."""
    tree = area_tree()
    chosen = chosen if chosen in tree.by_code else None
    has_children = bool(tree.children.get(chosen)) if chosen else True
    listed_parent = chosen if has_children else tree.parent(chosen)
    wider = [a.code for a in tree.path(chosen)] if chosen else []
    if chosen and has_children:
        wider.append(chosen)
    elif listed_parent is None:
        wider = list(tree.regional_nations)
    counts = _area_child_counts(tree, listed_parent, link_owner, link_code, base_ids)
    counts.update(_area_counts(tree, [c for c in wider if c != chosen and c not in counts],
                               link_owner, link_code, base_ids))
    if chosen:
        counts[chosen] = total
    options = [FacetOption("", "Anywhere", count_ids(base_ids) if chosen else total,
                           chosen is None)]
    # The way back up reads "All of …"; the choice itself and the top level are plain names.
    options += [FacetOption(code, tree.by_code[code].name if listed_parent is None
                            or code == chosen else f"All of {tree.by_code[code].name}",
                            counts.get(code, 0), code == chosen)
                for code in wider if counts.get(code) or code == chosen]
    options += [FacetOption(a.code, a.name, counts.get(a.code, 0), a.code == chosen)
                for a in tree.children.get(listed_parent, [])
                if counts.get(a.code) or a.code == chosen]
    return options


def _cpv_labels(codes):
    if not codes:
        return {}
    return dict(db.session.execute(select(CpvCode.code, CpvCode.description)
                                   .where(CpvCode.code.in_(sorted(codes)))).all())


def _cpv_child_counts(parent, pairs, base_ids):
    """{code: count} for the codes one level below `parent` (None: the divisions), read from
    the code digits: a child adds one non-zero digit to its parent's."""
    parent_prefix = reference.cpv_descendant_prefix(parent.code) if parent else ""
    width = len(parent_prefix) + 1 if parent else 2
    key = func.substr(pairs.c.code, 1, width).label("option")
    stmt = select(key, func.count(db.distinct(pairs.c.owner))).where(pairs.c.owner.in_(base_ids))
    if parent:
        stmt = stmt.where(pairs.c.code.like(f"{parent_prefix}%"))
    rows = db.session.execute(stmt.group_by(key)).all()
    return {k.ljust(8, "0"): n for k, n in rows
            if k and len(k) == width and not (parent and k.endswith("0"))}


def cpv_facet(chosen, pairs, base_ids, total):
    """Options for the category filter: the divisions; once one is chosen, the way back up and
    the groups (then classes, and so on) below it, or beside it when it has none. `pairs` is a
    selectable of (owner, code) rows; `base_ids` and `total` as for area_facet."""
    node = db.session.get(CpvCode, chosen) if chosen else None
    has_children = node is None or bool(reference.cpv_children(node.code))
    wider = (cpv_ancestors(node) if node else []) + ([node] if node and has_children else [])
    counts = _cpv_child_counts(node if has_children else node.parent, pairs, base_ids)
    counts.update(_cpv_counts([c for c in wider if c is not node], pairs, base_ids))
    if node is not None:
        counts[node.code] = total
    labels = _cpv_labels(set(counts))
    options = [FacetOption("", "Any category", count_ids(base_ids) if node else total,
                           node is None)]
    options += [FacetOption(c.code, f"{c.code} {c.description}" if c is node
                            else f"All of {c.code} {c.description}", counts[c.code], c is node)
                for c in wider if counts[c.code] or c is node]
    listed = {c.code for c in wider}
    options += [FacetOption(code, f"{code} {labels[code]}", number,
                            node is not None and code == node.code)
                for code, number in sorted(counts.items())
                if code in labels and code not in listed]
    return options


def _cpv_counts(codes, pairs, base_ids):
    if not codes:
        return {}
    columns = [func.count(db.distinct(case((pairs.c.code.like(
        f"{reference.cpv_descendant_prefix(c.code)}%"), pairs.c.owner)))) for c in codes]
    row = db.session.execute(select(*columns).where(pairs.c.owner.in_(base_ids))).one()
    return {c.code: n for c, n in zip(codes, row)}
