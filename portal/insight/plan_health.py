"""Forward plan health: where a buyer's entries are in their lifecycle, how much notice the
market gets before a tender, how long contracts run, how open they are to VCSEs, and which
descriptions need plainer English. Each figure is one SQL aggregate over the buyer's entries."""
from dataclasses import dataclass, field

from sqlalchemy import and_, case, exists, func, select

from portal.extensions import db
from portal.insight import readability
from portal.insight.filters import entry_conditions
from portal.insight.months import add_months
from portal.insight.shares import Share, middle
from portal.pipeline.models import LIVE_STATUSES, STATUSES, Lot, Opportunity

NOTICE_MONTHS = 3
LONG_CONTRACT_MONTHS = 36
READABILITY_SAMPLE = 400  # the most recently published live entries are scored
HARD_TO_READ_SHOWN = 10


@dataclass
class Notice:
    months: list = field(default_factory=list)  # months of notice of each dated entry

    @property
    def median(self):
        value = middle(self.months)
        return None if value is None else round(value, 1)

    @property
    def enough(self):
        return Share(sum(1 for m in self.months if m >= NOTICE_MONTHS), len(self.months))


@dataclass
class PlanHealth:
    stages: list
    notice: Notice
    long_contracts: Share
    vcse_suitable: Share
    with_lots: Share
    reserved: Share
    hard_to_read: list

    @property
    def total(self):
        return sum(count for _, _, count in self.stages)


def months_between(start, end):
    """Whole and part months from `start` to `end`, counted by the calendar (1 March to
    1 June is 3.0)."""
    whole = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        whole -= 1
    return round(whole + (end - add_months(start, whole)).days / 30.44, 2)


def stages(conditions):
    rows = dict(db.session.execute(select(Opportunity.status, func.count())
                                   .where(*conditions).group_by(Opportunity.status)).all())
    return [(key, label, rows.get(key, 0)) for key, label in STATUSES.items()]


def notice(conditions):
    """Months from first publication to the tender, for entries planned on the portal (notices
    imported from other systems were published there when the tender was, so say nothing)."""
    rows = db.session.execute(select(Opportunity.published_at, Opportunity.tender_publish_on)
                              .where(*conditions, Opportunity.source != "ocds",
                                     Opportunity.published_at.is_not(None),
                                     Opportunity.tender_publish_on.is_not(None))).all()
    return Notice([months_between(published.date(), tender) for published, tender in rows])


def _shares(conditions):
    """The plan's shares in one pass over its published entries."""
    has_months = Opportunity.contract_months.is_not(None)
    long_ = and_(has_months, Opportunity.contract_months >= LONG_CONTRACT_MONTHS)
    reserved = and_(Opportunity.reservation.is_not(None),
                    Opportunity.procurement_route == "below_threshold")
    counts = [func.count(case((test, 1))) for test in (
        long_, has_months, Opportunity.suitable_vcse.is_(True), _has_lots(), reserved)]
    row = db.session.execute(select(func.count(), *counts)
                             .where(*conditions, Opportunity.status != "draft")).one()
    total, long_count, dated, vcse, lots, reserved_count = (n or 0 for n in row)
    return {"long_contracts": Share(long_count, dated), "vcse_suitable": Share(vcse, total),
            "with_lots": Share(lots, total), "reserved": Share(reserved_count, total)}


def _has_lots():
    return exists().where(Lot.opportunity_id == Opportunity.id)


def hard_to_read(conditions):
    """Live entries whose description scores below plain English, hardest first."""
    rows = db.session.execute(
        select(Opportunity.id, Opportunity.reference, Opportunity.title, Opportunity.description)
        .where(*conditions, Opportunity.status.in_(LIVE_STATUSES))
        .order_by(Opportunity.published_at.desc()).limit(READABILITY_SAMPLE)).all()
    scored = [(row, readability.score(row.description)) for row in rows]
    hard = [(row, s) for row, s in scored if s is not None and s.ease < readability.PLAIN]
    return sorted(hard, key=lambda pair: pair[1].ease)[:HARD_TO_READ_SHOWN]


def plan_health(buyer, filters):
    """Every plan-health figure for `buyer` (all buyers when None) under `filters`."""
    conditions = entry_conditions(buyer, filters)
    everything = entry_conditions(buyer, filters, dated_by=Opportunity.created_at)
    return PlanHealth(stages=stages(everything), notice=notice(conditions),
                      hard_to_read=hard_to_read(conditions), **_shares(conditions))
