"""Demonstration social value: for awarded entries won by organisations in the directory, the
winners' commitments against the themes each entry weighted, and quarterly delivery reports
since the award, some behind the pace the commitment needs and some ahead of it.

Every row says in its note that it is demonstration data. Rows are written directly rather
than through the services: they are made by no one and need no audit event. Numbers come from a
random generator seeded by the entry and winner, so a reload gives the same figures."""
import random
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.insight.months import add_months
from portal.insight.models import SocialValueCommitment, SocialValueReport
from portal.insight.social_value import measures
from portal.organisations.demo import DEMO_EMAIL_DOMAIN
from portal.organisations.models import Organisation
from portal.pipeline.models import SOCIAL_VALUE_THEMES, Award, AwardWinner, Opportunity, uk_now

DEMO_NOTE = "Demonstration data."
MAX_CONTRACTS = 40
MAX_MEASURES = 3
MAX_QUARTERS = 12
# How fast delivery runs against the pace that would meet the commitment on time.
PACES = (0.45, 0.7, 0.9, 1.0, 1.1, 1.35)
QUARTER_ENDS = ((3, 31), (6, 30), (9, 30), (12, 31))


def seed_demo_social_value(limit=MAX_CONTRACTS):
    """Add demonstration commitments and quarterly delivery reports to up to `limit` awarded
    entries (the demo commissioner's first) whose winners are directory suppliers. Does
    nothing once demonstration commitments exist; returns counts for `flask seed demo`."""
    if db.session.scalar(select(SocialValueCommitment.id).where(
            SocialValueCommitment.note.startswith(DEMO_NOTE)).limit(1)) is not None:
        return {}
    commitments = reports = 0
    for opportunity, organisation in _winners(limit):
        for commitment in _commitments(opportunity, organisation):
            db.session.add(commitment)
            commitments += 1
            reports += len(commitment.reports)
    db.session.commit()
    return {"social value commitments": commitments, "social value delivery reports": reports}


def _demo_buyer_id():
    user = db.session.scalar(select(User).where(
        User.email == f"commissioner@{DEMO_EMAIL_DOMAIN}"))
    return user.organisation_id if user is not None else None


def _winners(limit):
    """(entry, winning supplier) pairs, the demo commissioner's entries first, then the latest
    awards."""
    first = Opportunity.organisation_id == (_demo_buyer_id() or 0)
    return db.session.execute(
        select(Opportunity, Organisation)
        .join(Award, Award.opportunity_id == Opportunity.id)
        .join(AwardWinner, AwardWinner.award_id == Award.id)
        .join(Organisation, Organisation.id == AwardWinner.organisation_id)
        .where(Opportunity.status == "awarded", Organisation.org_type.in_(("vcse", "prime")),
               Organisation.status == "active")
        .order_by(first.desc(), Award.awarded_on.desc(), Opportunity.id, Organisation.id)
        .limit(limit)).all()


def _commitments(opportunity, organisation):
    rng = random.Random(opportunity.id * 7919 + organisation.id)
    award = opportunity.award
    value = award.value or opportunity.whole_life_value or 250_000
    quarters = _quarters(award.awarded_on, opportunity.contract_months)
    planned = max(4, (opportunity.contract_months or 36) // 3)
    return [_commitment(opportunity, organisation, measure, _amount(measure, value, rng),
                        quarters, planned, rng)
            for measure in _measures_for(opportunity, rng)]


def _measures_for(opportunity, rng):
    """One measure from each theme the entry weights most (any themes when it weights none)."""
    themes = [p.theme for p in opportunity.social_value] or \
        rng.sample(list(SOCIAL_VALUE_THEMES), 2)
    return [rng.choice([m for m in measures().values() if m.theme == theme])
            for theme in themes[:MAX_MEASURES]]


def _amount(measure, value, rng):
    """A commitment of plausible size for the measure and the contract's value."""
    if measure.is_money:
        return Decimal(max(500, round(value * rng.uniform(0.01, 0.05), -2)))
    low, high, step = {"people": (2, 12, 1), "hours": (100, 800, 20), "weeks": (52, 156, 52),
                       "tonnes CO2e": (5, 40, 1), "miles": (2000, 10000, 500),
                       "tonnes": (2, 20, 1), "sessions": (12, 48, 4),
                       "events": (4, 12, 1)}.get(measure.unit, (10, 100, 5))
    return Decimal(rng.randrange(low, high + 1, step))


def _commitment(opportunity, organisation, measure, amount, quarters, planned, rng):
    pace = rng.choice(PACES)
    commitment = SocialValueCommitment(
        opportunity_id=opportunity.id, organisation_id=organisation.id, stage="award",
        measure=measure.key, amount=amount,
        note=f"{DEMO_NOTE} Committed at award; not reported by {organisation.name}.")
    for end in quarters:
        delivered = amount / planned * Decimal(pace * rng.uniform(0.7, 1.3))
        commitment.reports.append(SocialValueReport(
            period_end=end, amount=_rounded(delivered, measure),
            note=f"{DEMO_NOTE} Quarterly report generated to show how delivery reads."))
    return commitment


def _rounded(amount, measure):
    """Whole units, as a supplier would report hours, weeks or tonnes; pence only for money."""
    if measure.unit == "£":
        return amount.quantize(Decimal("0.01"))
    return amount.quantize(Decimal(1))


def _quarters(awarded_on, contract_months, today=None):
    """Ends of the quarters from the award to today (or the contract's end), at most twelve."""
    today = today or uk_now().date()
    months = contract_months or 36
    last = min(today, add_months(awarded_on, months))
    ends = [date(year, month, day) for year in range(awarded_on.year, last.year + 1)
            for month, day in QUARTER_ENDS]
    return [end for end in ends if awarded_on < end <= last][:MAX_QUARTERS]
