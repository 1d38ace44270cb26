"""The market map: for each service category and area, how many active VCSEs in the directory
serve it and how many providers hold a current accreditation at each tier; where accredited
providers are fewer than the buyer's threshold the market is thin, and the planned entries that
fall into thin markets are listed so engagement can start early.

Categories are CPV groups (the first three digits). An organisation serves an area it lists, or
any place inside one it lists: a London-wide charity serves every London borough, an England-wide
one every English region. Counts are distinct organisations, worked out in SQL: a small table of
"listed area -> area on the map" pairs (built from the area hierarchy) is joined to the
organisations' areas."""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, func, or_, select

from portal.accreditation.models import AccreditationRecord, Level
from portal.extensions import db
from portal.insight.cache import cached
from portal.organisations.models import Organisation, organisation_area, organisation_cpv
from portal.pipeline.models import LIVE_STATUSES, Opportunity, opportunity_area
from portal.reference.models import Area, AreaCover, CpvCode

ENGLAND = "E92000001"
TIERS = (1, 2, 3)
DEFAULT_THRESHOLD = 3
MAX_CATEGORIES = 40


@dataclass
class Cell:
    vcses: int = 0
    accredited: dict = field(default_factory=dict)  # tier -> providers whose best tier it is

    @property
    def accredited_total(self):
        return sum(self.accredited.values())


@dataclass
class MarketMap:
    units: list        # (code, name) of the map's columns
    categories: list   # (group prefix, label) of its rows
    cells: dict        # (group prefix, unit code) -> Cell
    threshold: int
    parent: Area | None = None

    def cell(self, group, unit):
        return self.cells.get((group, unit), Cell())

    def is_thin(self, group, unit):
        return self.cell(group, unit).accredited_total < self.threshold

    @property
    def thin_count(self):
        return sum(1 for g, _ in self.categories for u, _ in self.units if self.is_thin(g, u))


def units(parent=None):
    """The map's columns: English regions and the other nations, or the local authorities of
    one region or nation."""
    if parent is None:
        stmt = select(Area.code, Area.name).where(or_(
            Area.kind == "region", and_(Area.kind == "country", Area.code != ENGLAND)))
    else:
        inside = Area.region_code if parent.kind == "region" else Area.country_code
        stmt = select(Area.code, Area.name).where(Area.kind == "authority", inside == parent.code)
    return db.session.execute(stmt.order_by(Area.name)).all()


def _cover(parent=None):
    """(listed area, map area) pairs for this map's columns, to join in SQL."""
    unit_codes = [code for code, _ in units(parent)]
    return (select(AreaCover.area_code, AreaCover.unit_code)
            .where(AreaCover.unit_code.in_(unit_codes)).subquery("cover"))


# A CPV group is a code's first three digits. One expression object, used in SELECT, WHERE and
# GROUP BY alike, so that PostgreSQL sees the same bound values in each.
GROUP = func.substr(organisation_cpv.c.cpv_code, 1, 3)


def _serving(cover):
    return (select(GROUP, cover.c.unit_code)
            .select_from(Organisation)
            .join(organisation_cpv, organisation_cpv.c.organisation_id == Organisation.id)
            .join(organisation_area, organisation_area.c.organisation_id == Organisation.id)
            .join(cover, cover.c.area_code == organisation_area.c.area_code)
            .where(Organisation.status == "active"))


def vcse_counts(cover, groups=None):
    stmt = _serving(cover).where(Organisation.org_type == "vcse")
    if groups:
        stmt = stmt.where(GROUP.in_(groups))
    stmt = stmt.add_columns(func.count(func.distinct(Organisation.id))).group_by(
        GROUP, cover.c.unit_code)
    return {(g, u): n for g, u, n in db.session.execute(stmt).all()}


def accredited_counts(cover, today, groups=None):
    """{(group, unit): {tier: providers}} counting each provider once, at its best current tier."""
    best = (select(AccreditationRecord.organisation_id.label("org_id"),
                   func.max(Level.tier).label("tier"))
            .join(Level, AccreditationRecord.level_id == Level.id)
            .where(AccreditationRecord.status == "active", AccreditationRecord.expires_on >= today)
            .group_by(AccreditationRecord.organisation_id).subquery())
    stmt = _serving(cover).join(best, best.c.org_id == Organisation.id)
    if groups:
        stmt = stmt.where(GROUP.in_(groups))
    stmt = stmt.add_columns(best.c.tier, func.count(func.distinct(Organisation.id))).group_by(
        GROUP, cover.c.unit_code, best.c.tier)
    counts = {}
    for group, unit, tier, n in db.session.execute(stmt).all():
        counts.setdefault((group, unit), {})[tier] = n
    return counts


def _category_labels(groups):
    codes = {f"{g}00000": g for g in groups}
    names = dict(db.session.execute(select(CpvCode.code, CpvCode.description)
                                    .where(CpvCode.code.in_(list(codes)))).all())
    return sorted(((g, names.get(code, f"CPV {g}")) for code, g in codes.items()),
                  key=lambda pair: pair[1])


def _categories(vcses, accredited, category=None):
    if category:
        return [category[:3]]
    totals = {}
    for (group, _), n in vcses.items():
        totals[group] = totals.get(group, 0) + n
    for (group, _), tiers in accredited.items():
        totals[group] = totals.get(group, 0) + sum(tiers.values())
    return sorted(totals, key=lambda g: -totals[g])[:MAX_CATEGORIES]


def market_map(parent=None, threshold=DEFAULT_THRESHOLD, category=None, today=None):
    """The map at region level (parent None) or inside one region or nation."""
    today = today or date.today()
    groups = [category[:3]] if category else None

    def count():
        cover = _cover(parent)
        return vcse_counts(cover, groups), accredited_counts(cover, today, groups)

    vcses, accredited = cached(("market", parent.code if parent else None, category, today),
                               count)
    cells = {key: Cell(vcses=n) for key, n in vcses.items()}
    for key, tiers in accredited.items():
        cells.setdefault(key, Cell()).accredited = tiers
    chosen = _categories(vcses, accredited, category)
    return MarketMap(units(parent), _category_labels(chosen), cells, threshold, parent)


def entries_in_thin_markets(market, buyer=None, limit=50):
    """Planned entries (the buyer's, or everyone's) whose category and area fall in a thin cell
    of `market`, including categories no provider offers: the ones to start market engagement
    for."""
    cover = _cover(market.parent)
    stmt = (select(Opportunity, cover.c.unit_code)
            .join(opportunity_area, opportunity_area.c.opportunity_id == Opportunity.id)
            .join(cover, cover.c.area_code == opportunity_area.c.area_code)
            .where(Opportunity.status.in_(LIVE_STATUSES[:2]),
                   Opportunity.main_cpv_code.is_not(None))
            .order_by(Opportunity.tender_publish_on, Opportunity.id))
    if buyer is not None:
        stmt = stmt.where(Opportunity.organisation_id == buyer.id)
    found = {}
    for entry, unit in db.session.execute(stmt).all():
        if market.is_thin(entry.main_cpv_code[:3], unit):
            found.setdefault(entry.id, (entry, []))[1].append(unit)
    return list(found.values())[:limit]


def category_choices():
    """CPV groups some active VCSE offers, for the category menu."""
    groups = (select(func.substr(organisation_cpv.c.cpv_code, 1, 3))
              .join(Organisation, Organisation.id == organisation_cpv.c.organisation_id)
              .where(Organisation.org_type == "vcse", Organisation.status == "active").distinct())
    return [(f"{g}00000", label) for g, label in _category_labels(db.session.scalars(groups))]
