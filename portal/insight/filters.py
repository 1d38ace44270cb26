"""The filters every insight figure takes: a period of years, a service category and an area,
checked once, then applied to entries (by when they were published) and to awards (by when they
were made)."""
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import DateTime, exists, func, or_, select

from portal.core.exceptions import DomainError
from portal.extensions import db
from portal.pipeline.models import Award, Opportunity, opportunity_area
from portal.reference.models import Area, CpvCode

FIRST_YEAR = 2000


@dataclass(frozen=True)
class InsightFilters:
    year_from: int | None = None
    year_to: int | None = None
    category: str | None = None  # a CPV code; entries whose main category falls under it
    area: str | None = None      # a GSS code; entries listing it or a place within it

    def as_args(self):
        return {key: value for key, value in asdict(self).items() if value}

    @property
    def category_prefix(self):
        return self.category.rstrip("0") if self.category else None


def _year(args, name, label):
    text = (args.get(name) or "").strip()
    if not text:
        return None
    if not text.isdigit() or not FIRST_YEAR <= int(text) <= date.today().year + 10:
        raise DomainError(f"Enter {label} as a year such as {date.today().year}", field=name)
    return int(text)


def _code(args, name, model, message):
    code = (args.get(name) or "").strip()
    if code and db.session.get(model, code) is None:
        raise DomainError(message, field=name)
    return code or None


def parse_filters(args):
    """InsightFilters from query-string `args`; raises DomainError naming the bad field."""
    year_from = _year(args, "year_from", "the first year")
    year_to = _year(args, "year_to", "the last year")
    if year_from and year_to and year_to < year_from:
        raise DomainError("The last year must be the same as or after the first year",
                          field="year_to")
    return InsightFilters(year_from, year_to,
                          _code(args, "category", CpvCode, "Choose a category from the list"),
                          _code(args, "area", Area, "Choose an area from the list"))


def _in_area(code):
    within = select(Area.code).where(or_(Area.code == code, Area.county_code == code,
                                         Area.region_code == code, Area.country_code == code))
    return exists().where(opportunity_area.c.opportunity_id == Opportunity.id,
                          opportunity_area.c.area_code.in_(within))


def _in_years(column, filters):
    """Whole calendar years, as a range on the column so that its index can be used."""
    as_moment = isinstance(column.type, DateTime)
    conditions = []
    if filters.year_from:
        conditions.append(column >= _first_day(filters.year_from, as_moment))
    if filters.year_to:
        conditions.append(column < _first_day(filters.year_to + 1, as_moment))
    return conditions


def _first_day(year, as_moment):
    return datetime(year, 1, 1) if as_moment else date(year, 1, 1)


def entry_conditions(buyer, filters, dated_by=Opportunity.published_at):
    """WHERE conditions on Opportunity for `buyer`'s entries (every buyer's when None)."""
    conditions = [] if buyer is None else [Opportunity.organisation_id == buyer.id]
    if filters.category_prefix:
        conditions.append(Opportunity.main_cpv_code.startswith(filters.category_prefix))
    if filters.area:
        conditions.append(_in_area(filters.area))
    return conditions + _in_years(dated_by, filters)


def award_conditions(buyer, filters):
    """WHERE conditions on Award joined to its Opportunity."""
    return entry_conditions(buyer, filters, dated_by=Award.awarded_on)


def filter_options(buyer):
    """(years, categories, areas) the buyer's entries span, for the filter menus."""
    mine = [] if buyer is None else [Opportunity.organisation_id == buyer.id]
    first = db.session.scalar(select(func.min(Award.awarded_on)).join(Opportunity).where(*mine))
    start = min(first.year if first else date.today().year, date.today().year - 1)
    years = list(range(date.today().year + 1, start - 1, -1))
    divisions = select(func.substr(Opportunity.main_cpv_code, 1, 2)).where(*mine).distinct()
    codes = [f"{d}000000" for d in db.session.scalars(divisions) if d]
    categories = db.session.execute(select(CpvCode.code, CpvCode.description)
                                    .where(CpvCode.code.in_(codes))
                                    .order_by(CpvCode.description)).all()
    listed = (select(opportunity_area.c.area_code)
              .join(Opportunity, Opportunity.id == opportunity_area.c.opportunity_id)
              .where(*mine).distinct())
    areas = db.session.execute(select(Area.code, Area.name).where(Area.code.in_(listed))
                               .order_by(Area.name)).all()
    return years, [tuple(c) for c in categories], [tuple(a) for a in areas]
