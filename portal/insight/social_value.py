"""Social value, committed against delivered: suppliers commit to our measures for an entry and,
once they have won it, report what they delivered each period; the commissioner sees the two
side by side by theme, by supplier and by contract.

Who may do what: a supplier commits for an entry only at a stage it has reached (a current
expression of interest or a place in a consortium before award; a win after it). Only the
organisation that made a commitment sees it, withdraws it (before award) or reports against it
(after award, once per period); to anyone else it does not exist. The commissioner's figures
count the commitments of each awarded contract's winners."""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import yaml
from sqlalchemy import Float, case, cast, func, select
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy.orm import selectinload

from portal.consortia import services as consortia
from portal.core import audit
from portal.core.exceptions import DomainError, NotFound, PermissionDenied
from portal.extensions import db
from portal.insight import access
from portal.insight.filters import InsightFilters, award_conditions
from portal.insight.models import COMMITMENT_STAGES, SocialValueCommitment, SocialValueReport
from portal.insight.tables import Table
from portal.organisations.models import Organisation
from portal.pipeline.models import (
    LIVE_STATUSES, SOCIAL_VALUE_THEMES, Award, AwardWinner, Interest, Opportunity, uk_now,
)
from portal.reference.loaders import SEED_DIR

MEASURES_FILE = SEED_DIR / "insight" / "social_value_measures.yaml"
WHOLE_UNITS = frozenset({"people", "sessions", "events"})
MAX_AMOUNT = Decimal(10) ** 12  # what Numeric(14, 2) holds
MAX_NOTE = 2000
PER_PAGE = 25


# --- Our measures -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Measure:
    key: str
    theme: str
    label: str
    unit: str
    help: str = ""

    @property
    def theme_label(self):
        return SOCIAL_VALUE_THEMES.get(self.theme, "Other measures")

    @property
    def is_money(self):
        return self.unit == "£"

    @property
    def whole(self):
        return self.unit in WHOLE_UNITS

    def show(self, amount):
        """An amount as people read it: "£1,200", "120 hours"."""
        number = plain_number(amount)
        return f"£{number}" if self.is_money else f"{number} {self.unit}".strip()


def plain_number(amount):
    """1200 -> "1,200"; 12.5 -> "12.50"."""
    amount = Decimal(str(amount or 0))
    return f"{int(amount):,}" if amount == amount.to_integral_value() else f"{amount:,.2f}"


@lru_cache(maxsize=1)
def measures():
    """Our measures by key (seed/insight/social_value_measures.yaml), in the order of the
    themes and, within a theme, of the file."""
    rows = yaml.safe_load(MEASURES_FILE.read_text(encoding="utf-8")) or []
    found = [_measure(row) for row in rows]
    if len({m.key for m in found}) != len(found):
        raise ValueError(f"{MEASURES_FILE} names a measure twice")
    themes = list(SOCIAL_VALUE_THEMES)
    return {m.key: m for m in sorted(found, key=lambda m: themes.index(m.theme))}


def _measure(row):
    measure = Measure(**{name: str(row.get(name) or "").strip()
                         for name in ("key", "theme", "label", "unit", "help")})
    if measure.theme not in SOCIAL_VALUE_THEMES or not (measure.key and measure.label
                                                        and measure.unit):
        raise ValueError(f"Social value measure {row!r} needs a key, a theme from "
                         "SOCIAL_VALUE_THEMES, a label and a unit")
    return measure


def measure_for(key):
    """The measure of a key; one no longer in the list is shown by its key."""
    return measures().get(key) or Measure(key, "", key, "")


def measures_by_theme():
    """[(theme label, [Measure])] in the order of the themes."""
    grouped = {}
    for measure in measures().values():
        grouped.setdefault(measure.theme_label, []).append(measure)
    return list(grouped.items())


def show_amount(measure_key, amount):
    return measure_for(measure_key).show(amount)


# --- Where a supplier stands on an entry --------------------------------------------------------

def supplier_of(user):
    """The user's organisation when it is an active VCSE or prime contractor, else None."""
    return consortia.supplier_of(user)


def is_winner(opportunity, organisation):
    return organisation is not None and db.session.scalar(
        select(AwardWinner.id).join(Award, Award.id == AwardWinner.award_id).where(
            Award.opportunity_id == opportunity.id,
            AwardWinner.organisation_id == organisation.id).limit(1)) is not None


def _has_interest(opportunity, organisation):
    return db.session.scalar(select(Interest.id).where(
        Interest.opportunity_id == opportunity.id, Interest.organisation_id == organisation.id,
        Interest.withdrawn_at.is_(None)).limit(1)) is not None


def stages_reached(opportunity, organisation):
    """The stages at which the organisation may commit for the entry now, earliest first.

    Before award: "interest" with a current expression of interest, "consortium" as the lead
    or a member of a team for it. Once awarded, a commitment is part of the contract, so only a
    winner commits ("award"). A stopped entry takes none."""
    if organisation is None or not opportunity.is_public:
        return []
    if opportunity.status == "awarded":
        return ["award"] if is_winner(opportunity, organisation) else []
    if opportunity.status not in LIVE_STATUSES:
        return []
    reached = ["interest"] if _has_interest(opportunity, organisation) else []
    if consortia.member_team(opportunity, organisation) is not None:
        reached.append("consortium")
    return reached


def _stage_refusal(opportunity, stage):
    if opportunity.status == "awarded":
        return "This contract has been awarded: only the organisations that won it can add " \
               "commitments"
    if opportunity.status not in LIVE_STATUSES:
        return "This entry is no longer being procured"
    return {"interest": "Your organisation has no current expression of interest in this entry",
            "consortium": "Your organisation is not in a consortium for this entry",
            "award": "Commitments at award can be made once the contract is awarded to you",
            }[stage]


@dataclass
class SupplierEntry:
    """What a supplier sees of its own social value for one entry."""

    opportunity: Opportunity
    organisation: Organisation
    stages: list
    winner: bool
    commitments: list = field(default_factory=list)

    @property
    def stage(self):
        """The furthest stage reached: the one a new commitment is recorded at."""
        return self.stages[-1] if self.stages else None

    @property
    def stage_label(self):
        return COMMITMENT_STAGES.get(self.stage, "")

    @property
    def can_report(self):
        return self.winner and self.opportunity.status == "awarded"

    @property
    def can_withdraw(self):
        return self.opportunity.status != "awarded"


def public_entry(opportunity_id):
    opportunity = db.session.get(Opportunity, opportunity_id)
    if opportunity is None or not opportunity.is_public:
        raise NotFound("Forward plan entry not found")
    return opportunity


def supplier_entry(opportunity_id, user):
    """The signed-in supplier's own commitments for a published entry and the stage it has
    reached; anyone who is not a supplier is told the page is missing."""
    organisation = supplier_of(user)
    if organisation is None:
        raise NotFound("Page not found")
    opportunity = public_entry(opportunity_id)
    return SupplierEntry(opportunity, organisation, stages_reached(opportunity, organisation),
                         is_winner(opportunity, organisation),
                         own_commitments(opportunity, organisation))


def own_commitments(opportunity, organisation):
    return db.session.scalars(select(SocialValueCommitment).where(
        SocialValueCommitment.opportunity_id == opportunity.id,
        SocialValueCommitment.organisation_id == organisation.id)
        .options(selectinload(SocialValueCommitment.reports))
        .order_by(SocialValueCommitment.created_at, SocialValueCommitment.id)).all()


def has_a_part(opportunity, user):
    """Whether the user's supplier has reached a stage on the entry or has commitments there:
    when the entry's page links to its social value."""
    organisation = supplier_of(user)
    if organisation is None or not opportunity.is_public:
        return False
    return bool(stages_reached(opportunity, organisation)) or db.session.scalar(
        select(SocialValueCommitment.id).where(
            SocialValueCommitment.opportunity_id == opportunity.id,
            SocialValueCommitment.organisation_id == organisation.id).limit(1)) is not None


def own_commitment(commitment_id, user):
    """A commitment of the user's supplier on a published entry; any other is missing."""
    organisation = supplier_of(user)
    commitment = db.session.get(SocialValueCommitment, commitment_id)
    if commitment is None or organisation is None or \
            commitment.organisation_id != organisation.id or not commitment.opportunity.is_public:
        raise NotFound("Commitment not found")
    return commitment


# --- Checking what is entered -------------------------------------------------------------------

def checked_amount(measure_key, amount, zero_allowed=False):
    """The amount as a Decimal of at most 2 places, below the largest we store; a whole number
    for measures counted in people, sessions or events."""
    if amount is None or amount == "":
        raise DomainError("Enter the amount", field="amount")
    try:
        amount = Decimal(str(amount))
    except InvalidOperation:
        raise DomainError("Enter the amount as a number, like 120", field="amount") from None
    if not amount.is_finite() or amount < 0 or (amount == 0 and not zero_allowed):
        least = "0 or more" if zero_allowed else "greater than 0"
        raise DomainError(f"Enter an amount {least}", field="amount")
    if amount >= MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise DomainError("Enter an amount below 1,000,000,000,000 with no more than 2 decimal "
                          "places", field="amount")
    measure = measure_for(measure_key)
    if measure.whole and amount != amount.to_integral_value():
        raise DomainError(f"Enter a whole number of {measure.unit}", field="amount")
    return amount


def _note(note):
    note = (note or "").strip() or None
    if note and len(note) > MAX_NOTE:
        raise DomainError(f"The note must be {MAX_NOTE:,} characters or fewer", field="note")
    return note


def _require_acting_for(organisation, user):
    if organisation is None or supplier_of(user) is None or \
            user.organisation_id != organisation.id:
        raise PermissionDenied("Only people from the supplier can manage its commitments")


# --- Use cases ----------------------------------------------------------------------------------

def make_commitment(opportunity, organisation, user, stage, measure, amount, note=None):
    """Record that the organisation commits to deliver `amount` of `measure` for the entry, at
    `stage`. Refused, with nothing stored, at a stage the organisation has not reached."""
    _require_acting_for(organisation, user)
    if not opportunity.is_public:
        raise NotFound("Forward plan entry not found")
    if stage not in COMMITMENT_STAGES:
        raise DomainError("Choose when this commitment is made", field="stage")
    if stage not in stages_reached(opportunity, organisation):
        raise PermissionDenied(_stage_refusal(opportunity, stage), field="stage")
    if measure not in measures():
        raise DomainError("Choose what you will deliver", field="measure")
    commitment = SocialValueCommitment(opportunity_id=opportunity.id,
                                       organisation_id=organisation.id, made_by_id=user.id,
                                       note=_note(note))
    commitment.set(stage, measure, checked_amount(measure, amount), measures())
    db.session.add(commitment)
    db.session.flush()
    audit.record("insight.social_value_committed", commitment, actor_id=user.id,
                 opportunity=opportunity.id, stage=stage, measure=measure,
                 amount=str(commitment.amount))
    db.session.commit()
    return commitment


def withdraw_commitment(commitment, user):
    """Take back a commitment before the contract is awarded; after award it is part of the
    contract and stays."""
    _require_acting_for(commitment.organisation, user)
    if commitment.opportunity.status == "awarded":
        raise DomainError("Once the contract is awarded its commitments stay: report what you "
                          "deliver instead")
    audit.record("insight.social_value_withdrawn", commitment, actor_id=user.id,
                 opportunity=commitment.opportunity_id, stage=commitment.stage,
                 measure=commitment.measure, amount=str(commitment.amount))
    db.session.delete(commitment)
    db.session.commit()


def report_delivery(commitment, user, period_end, amount, note=None):
    """Report what was delivered against a commitment in the period ending on `period_end`:
    only by the organisation that committed, only once the contract is awarded to it, and once
    for each period."""
    _require_acting_for(commitment.organisation, user)
    _require_delivering(commitment)
    _check_period(commitment, period_end)
    report = SocialValueReport(commitment_id=commitment.id, reported_by_id=user.id,
                               note=_note(note))
    report.set(period_end, checked_amount(commitment.measure, amount, zero_allowed=True))
    db.session.add(report)
    db.session.flush()
    audit.record("insight.social_value_delivered", report, actor_id=user.id,
                 organisation_id=commitment.organisation_id, commitment=commitment.id,
                 opportunity=commitment.opportunity_id, period_end=period_end.isoformat(),
                 amount=str(report.amount))
    db.session.commit()
    return report


def _require_delivering(commitment):
    opportunity = commitment.opportunity
    if opportunity.status != "awarded" or not is_winner(opportunity, commitment.organisation):
        raise DomainError("Delivery can be reported once the contract is awarded to your "
                          "organisation")


def _check_period(commitment, period_end):
    if period_end is None:
        raise DomainError("Enter the last day of the period", field="period_end")
    if period_end > uk_now().date():
        raise DomainError("The period must have ended: enter today's date or an earlier one",
                          field="period_end")
    awarded_on = commitment.opportunity.award.awarded_on
    if period_end < awarded_on:
        raise DomainError(f"The period must end on or after the award on "
                          f"{awarded_on.day} {awarded_on:%B %Y}", field="period_end")
    if db.session.scalar(select(SocialValueReport.id).where(
            SocialValueReport.commitment_id == commitment.id,
            SocialValueReport.period_end == period_end)) is not None:
        raise DomainError(f"You have already reported for the period ending "
                          f"{period_end.day} {period_end:%B %Y}", field="period_end")


def commitments_for_entry(opportunity):
    """Every commitment made for the entry, with its reports, by supplier."""
    return db.session.scalars(
        select(SocialValueCommitment).join(
            Organisation, Organisation.id == SocialValueCommitment.organisation_id)
        .where(SocialValueCommitment.opportunity_id == opportunity.id)
        .options(selectinload(SocialValueCommitment.reports),
                 selectinload(SocialValueCommitment.organisation))
        .order_by(Organisation.name, SocialValueCommitment.id)).all()


# --- The commissioner's view --------------------------------------------------------------------

@dataclass
class Line:
    """Committed against delivered for one measure."""

    measure: Measure
    committed: Decimal
    delivered: Decimal
    commitments: int
    suppliers: int

    @property
    def percent(self):
        return percent_of(self.delivered, self.committed)


def percent_of(delivered, committed):
    committed = Decimal(str(committed or 0))
    if not committed:
        return None
    return int((Decimal(str(delivered or 0)) * 100 / committed).to_integral_value())


@dataclass
class Summary:
    buyer: Organisation
    filters: InsightFilters
    lines: list
    suppliers: SelectPagination
    tables: dict

    @property
    def themes(self):
        """[(theme label, [Line])] in the order of the themes."""
        grouped = {}
        for line in self.lines:
            grouped.setdefault(line.measure.theme_label, []).append(line)
        return list(grouped.items())

    @property
    def commitments(self):
        return sum(line.commitments for line in self.lines)


def _delivered():
    """Each commitment's delivery so far, added up in the database."""
    return select(SocialValueReport.commitment_id,
                  func.sum(SocialValueReport.amount).label("amount")) \
        .group_by(SocialValueReport.commitment_id).subquery("delivered")


def _counted(buyer, filters, delivered, *columns):
    """SELECT `columns` over the commitments the summary counts: those of the winners of the
    buyer's awarded entries, within the filters."""
    won = select(AwardWinner.id).where(
        AwardWinner.award_id == Award.id,
        AwardWinner.organisation_id == SocialValueCommitment.organisation_id).exists()
    return (select(*columns).select_from(SocialValueCommitment)
            .join(Opportunity, Opportunity.id == SocialValueCommitment.opportunity_id)
            .join(Award, Award.opportunity_id == Opportunity.id)
            .outerjoin(delivered, delivered.c.commitment_id == SocialValueCommitment.id)
            .where(Opportunity.status == "awarded", won, *award_conditions(buyer, filters)))


def _progress(delivered):
    """(delivered so far, 1 when met in full else 0, share delivered capped at 1) as SQL."""
    so_far = func.coalesce(delivered.c.amount, 0)
    met = case((so_far >= SocialValueCommitment.amount, 1), else_=0)
    share = case((so_far >= SocialValueCommitment.amount, 1.0),
                 else_=cast(so_far, Float) / cast(SocialValueCommitment.amount, Float))
    return so_far, met, share


def _by_measure(buyer, filters):
    delivered = _delivered()
    so_far, _met, _share = _progress(delivered)
    stmt = _counted(buyer, filters, delivered, SocialValueCommitment.measure,
                    func.sum(SocialValueCommitment.amount), func.sum(so_far),
                    func.count(SocialValueCommitment.id),
                    func.count(SocialValueCommitment.organisation_id.distinct())) \
        .group_by(SocialValueCommitment.measure)
    lines = [Line(measure_for(key), _decimal(committed), _decimal(done), count, suppliers)
             for key, committed, done, count, suppliers in db.session.execute(stmt)]
    order = {key: n for n, key in enumerate(measures())}
    return sorted(lines, key=lambda line: (order.get(line.measure.key, len(order)),
                                           line.measure.key))


def _decimal(value):
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _grouped(buyer, filters, *keys):
    """Per group of `keys`: contracts, commitments, met in full and average progress (%)."""
    delivered = _delivered()
    _so_far, met, share = _progress(delivered)
    return _counted(buyer, filters, delivered, *keys,
                    func.count(Opportunity.id.distinct()),
                    func.count(SocialValueCommitment.id), func.sum(met),
                    func.avg(share) * 100).group_by(*keys)


def supplier_rows(buyer, filters, page=None):
    """(organisation id, name, contracts, commitments, met in full, average progress %) per
    supplier, most commitments first; one page of them when `page` is given."""
    stmt = _grouped(buyer, filters, Organisation.id, Organisation.name).join(
        Organisation, Organisation.id == SocialValueCommitment.organisation_id).order_by(
        func.count(SocialValueCommitment.id).desc(), Organisation.name)
    return _rows(stmt, page)


class RowPagination(SelectPagination):
    """Pages of a grouped SELECT, as rows rather than objects."""

    def _query_items(self):
        stmt = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return self._query_args["session"].execute(stmt).all()


def _rows(stmt, page):
    if page is None:
        return db.session.execute(stmt).all()
    return RowPagination(select=stmt, session=db.session(), page=page, per_page=PER_PAGE,
                         error_out=False)


def contract_rows(buyer, filters, page=None):
    """(entry id, title, reference, awarded on, 1, commitments, met in full, average progress %,
    suppliers) per awarded entry, latest award first; one page of them when `page` is given."""
    stmt = _grouped(buyer, filters, Opportunity.id, Opportunity.title, Opportunity.reference,
                    Award.awarded_on)
    stmt = stmt.add_columns(func.count(SocialValueCommitment.organisation_id.distinct())) \
        .order_by(Award.awarded_on.desc(), Opportunity.id.desc())
    return _rows(stmt, page)


def pending_entries(buyer, limit=50):
    """The buyer's entries still being procured that suppliers have made commitments for,
    with how many: what bidders are offering before award."""
    return db.session.execute(
        select(Opportunity.id, Opportunity.title, func.count(SocialValueCommitment.id))
        .join(SocialValueCommitment, SocialValueCommitment.opportunity_id == Opportunity.id)
        .where(Opportunity.organisation_id == buyer.id,
               Opportunity.status.in_(LIVE_STATUSES))
        .group_by(Opportunity.id, Opportunity.title)
        .order_by(Opportunity.title).limit(limit)).all()


def summary(org_buyer, filters=None, page=1):
    """Committed against delivered for a commissioner: by measure within each theme and by
    supplier (one page of suppliers), added up in the database over the commitments of the
    winners of its awarded entries within the filters; each figure also as a Table."""
    filters = filters or InsightFilters()
    lines = _by_measure(org_buyer, filters)
    suppliers = supplier_rows(org_buyer, filters, page)
    return Summary(org_buyer, filters, lines, suppliers, {
        "themes": theme_table(lines), "suppliers": supplier_table(suppliers.items)})


def theme_table(lines):
    return Table(
        "themes", "Committed and delivered by measure",
        "What the winners of awarded contracts committed to, and what they have reported "
        "delivering so far, by measure. Delivered (%) is delivered as a share of committed.",
        ("Theme", "Measure", "Unit", "Committed", "Delivered", "Delivered (%)", "Commitments",
         "Suppliers"),
        [(line.measure.theme_label, line.measure.label, line.measure.unit,
          _figure(line.committed), _figure(line.delivered), line.percent, line.commitments,
          line.suppliers) for line in lines])


def supplier_table(rows):
    return Table(
        "suppliers", "Committed and delivered by supplier", SUPPLIER_DEFINITION,
        ("Supplier", "Contracts", "Commitments", "Met in full", "Average progress (%)"),
        [(name, contracts, count, int(met or 0), _whole(progress))
         for _id, name, contracts, count, met, progress in rows])


def contract_table(rows):
    return Table(
        "contracts", "Committed and delivered by contract", SUPPLIER_DEFINITION,
        ("Contract", "Reference", "Awarded on", "Suppliers", "Commitments", "Met in full",
         "Average progress (%)"),
        [(title, reference, awarded_on.isoformat(), suppliers, count, int(met or 0),
          _whole(progress))
         for _id, title, reference, awarded_on, _one, count, met, progress, suppliers in rows])


SUPPLIER_DEFINITION = (
    "Commitments of the winners of awarded contracts. A commitment is met in full when the "
    "deliveries reported add up to what was committed. Average progress is the mean, over "
    "the commitments, of the share delivered so far, each counted at most 100%.")


def _figure(amount):
    """A Decimal for a table: a whole number when it is one, so the CSV reads 120, not 120.00."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _whole(value):
    return None if value is None else int(round(float(value)))


# --- One contract, for its buyer ----------------------------------------------------------------

@dataclass
class EntryBreakdown:
    opportunity: Opportunity
    commitments: list
    winners: set

    def by_supplier(self):
        """[(organisation, won, [commitment])], the winners first, then by name."""
        grouped = {}
        for commitment in self.commitments:
            grouped.setdefault(commitment.organisation_id, []).append(commitment)
        found = [(items[0].organisation, org_id in self.winners, items)
                 for org_id, items in grouped.items()]
        return sorted(found, key=lambda group: not group[1])  # stable: names stay in order


def entry_breakdown(opportunity_id, user):
    """Every commitment made for one of the buyer's entries, with delivery; the entry of
    another buyer is missing (a site administrator sees any)."""
    opportunity = db.session.get(Opportunity, opportunity_id)
    if opportunity is None:
        raise NotFound("Forward plan entry not found")
    buyer = access.buyer_for(user, opportunity.organisation_id)
    if buyer.id != opportunity.organisation_id:
        raise NotFound("Forward plan entry not found")
    winners = {w.organisation_id for w in opportunity.award.winners if w.organisation_id} \
        if opportunity.award else set()
    return EntryBreakdown(opportunity, commitments_for_entry(opportunity), winners)


def csv_table(buyer, filters, key):
    """The table `key` ("themes", "suppliers" or "contracts") in full, for a CSV download."""
    if key == "themes":
        return theme_table(_by_measure(buyer, filters))
    if key == "suppliers":
        return supplier_table(supplier_rows(buyer, filters))
    if key == "contracts":
        return contract_table(contract_rows(buyer, filters))
    raise NotFound("Not found")


def latest_report_day(today=None):
    """The end of the last quarter that has ended: the period a supplier most likely reports."""
    today = today or uk_now().date()
    for month, day in ((12, 31), (9, 30), (6, 30), (3, 31)):
        end = date(today.year, month, day)
        if end <= today:
            return end
    return date(today.year - 1, 12, 31)
