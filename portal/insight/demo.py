"""Demonstration history for the insight pages: four past years of a demo buyer's plan, built
from the titles, descriptions and categories of real notices already loaded, with generated
dates, awards to directory organisations, interest and questions. Every generated entry has
source "demo", and the pages say so. The same seed gives the same history."""
import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select

from portal.accounts.models import User
from portal.extensions import db
from portal.insight import maturity_demo, social_value_demo
from portal.matching.eligibility import SME_TURNOVER
from portal.organisations.demo import DEMO_EMAIL_DOMAIN
from portal.organisations.models import Organisation, organisation_cpv
from portal.pipeline.models import (
    INTEREST_KINDS, SOCIAL_VALUE_THEMES, Award, AwardWinner, Interest, Lot, Opportunity,
    Question, SocialValuePriority,
)

# Contracts Finder (England) notices, in the divisions a council's people services fall in:
# health and social work, education, community and recreation services, business services.
CONTRACTS_FINDER = "ocds-b5fd17"
SERVICE_DIVISIONS = ("85", "80", "98", "92", "79", "75")
YEARS = 4
ENTRIES_PER_YEAR = 14
LIVE_ENTRIES = 8
SEED = 2026
QUESTIONS = (
    "Will the service be commissioned as one contract or split into lots?",
    "Is there an incumbent provider, and will TUPE apply?",
    "Would a consortium led by a local VCSE be welcome to bid?",
    "What level of accreditation will be expected of providers?",
    "How will social value be weighted in the evaluation?",
)


def _buyer():
    user = db.session.scalar(select(User).where(User.email == f"commissioner@{DEMO_EMAIL_DOMAIN}"))
    return user.organisation if user is not None else None


def _templates(rng):
    """Real English notices for services a council commissions, with enough text to stand in
    for a plan entry."""
    rows = db.session.scalars(select(Opportunity).where(
        Opportunity.source == "ocds", Opportunity.ocid.like(f"{CONTRACTS_FINDER}%"),
        or_(*[Opportunity.main_cpv_code.like(f"{d}%") for d in SERVICE_DIVISIONS]),
        func.length(Opportunity.description) > 200).order_by(Opportunity.id).limit(600)).all()
    rng.shuffle(rows)
    return rows


def _suppliers(rng):
    """{CPV division: [organisations]} of active VCSEs and primes, to pick winners from."""
    rows = db.session.execute(
        select(func.substr(organisation_cpv.c.cpv_code, 1, 2), Organisation)
        .join(Organisation, Organisation.id == organisation_cpv.c.organisation_id)
        .where(Organisation.org_type.in_(("vcse", "prime")), Organisation.status == "active")
        .limit(20000)).all()
    by_division = {}
    for division, org in rows:
        by_division.setdefault(division, []).append(org)
    return by_division


def _moment(day):
    return datetime.combine(day, time(10, 0))


def _before_now(start, days):
    """A moment up to `days` after `start`, never in the future."""
    return min(start + timedelta(days=random.Random(start.toordinal() + days).randint(1, days)),
               datetime.now().replace(microsecond=0))


class _History:
    def __init__(self, buyer, rng):
        self.buyer, self.rng = buyer, rng
        self.templates, self.suppliers = _templates(rng), _suppliers(rng)
        self.everyone = [org for orgs in self.suppliers.values() for org in orgs]
        self.areas = self._areas()
        self.count = 0

    def _areas(self):
        for entry in db.session.scalars(select(Opportunity).where(
                Opportunity.organisation_id == self.buyer.id)):
            if entry.areas:
                return list(entry.areas)
        return list(self.buyer.areas)

    def entry(self, year, progress):
        """One entry of `year`; `progress` (0 to 1) improves notice and VCSE openness."""
        template = self.templates[self.count % len(self.templates)]
        self.count += 1
        rng = self.rng
        published = date(year, rng.randint(1, 10), rng.randint(1, 28))
        notice_months = rng.choice((1, 2, 2, 3, 4, 6) if progress < 0.5 else (2, 3, 4, 5, 6, 8))
        tender = published + timedelta(days=30 * notice_months + rng.randint(0, 20))
        entry = Opportunity(organisation=self.buyer, reference=f"DEMO-{year}-{self.count:03d}",
                            source="demo", title=template.title, description=template.description,
                            main_cpv_code=template.main_cpv_code, areas=self.areas,
                            suitable_vcse=rng.random() < 0.3 + 0.35 * progress,
                            suitable_sme=rng.random() < 0.6,
                            tender_publish_on=tender, closing_at=_moment(tender + timedelta(30)),
                            procurement_route=rng.choice(("open", "light_touch", "below_threshold")))
        entry.published_at = _moment(published)
        entry.set_value(rng.choice((60_000, 120_000, 250_000, 400_000, 750_000, 1_500_000)),
                        None, "whole_life", rng.choice((12, 24, 24, 36, 36, 48, 60)))
        self._extras(entry)
        return entry

    def _extras(self, entry):
        rng = self.rng
        themes = rng.sample(list(SOCIAL_VALUE_THEMES), rng.randint(0, 2))
        entry.social_value = [SocialValuePriority(theme=t, weighting=rng.choice((5, 10)))
                              for t in themes]
        if rng.random() < 0.25:
            entry.lots = [Lot(number=n, title=f"Lot {n}") for n in (1, 2)]

    def award(self, entry, progress):
        rng = self.rng
        pool = self.suppliers.get(entry.main_cpv_code[:2]) or self.everyone
        vcses = [o for o in pool if o.org_type == "vcse"] or pool
        others = [o for o in pool if o.org_type != "vcse"] or pool
        count = 1 if rng.random() < 0.8 else 2
        winners = [rng.choice(vcses if rng.random() < 0.15 + 0.25 * progress else others)
                   for _ in range(count)]
        awarded_on = entry.closing_at.date() + timedelta(days=rng.randint(30, 70))
        entry.contract_start_on = awarded_on + timedelta(days=60)
        entry.award = Award(awarded_on=awarded_on, value=entry.whole_life_value,
                            notes="Demonstration award", winners=[
                                AwardWinner(organisation=o, name=o.name[:300],
                                            is_vcse=o.org_type == "vcse",
                                            is_sme=o.org_type == "vcse" or (
                                                o.latest_income is not None
                                                and o.latest_income < SME_TURNOVER))
                                for o in {w.id: w for w in winners}.values()])

    def engagement(self, entry):
        rng = self.rng
        for org in {o.id: o for o in rng.sample(self.everyone, min(len(self.everyone),
                                                                   rng.randint(0, 6)))}.values():
            entry.interests.append(Interest(organisation=org, kind=rng.choice(list(INTEREST_KINDS)),
                                            created_at=_before_now(entry.published_at, 40)))
        for text in rng.sample(QUESTIONS, rng.randint(0, 2)):
            entry.questions.append(Question(organisation=rng.choice(self.everyone), question=text,
                                            asked_at=_before_now(entry.published_at, 50)))


def _past_year(history, year, progress):
    for _ in range(ENTRIES_PER_YEAR):
        entry = history.entry(year, progress)
        history.award(entry, progress)
        history.engagement(entry)
        entry.load_status("awarded")
        db.session.add(entry)


def _live_entries(history, today):
    for n in range(LIVE_ENTRIES):
        entry = history.entry(today.year, 1.0)
        entry.published_at = _moment(today - timedelta(days=history.rng.randint(5, 60)))
        entry.tender_publish_on = today + timedelta(days=history.rng.choice((20, 45, 90, 150)))
        entry.closing_at = _moment(entry.tender_publish_on + timedelta(days=30))
        history.engagement(entry)
        entry.load_status("planned" if n % 2 else "market_engagement")
        db.session.add(entry)


def load_demo(progress=None, today=None):
    """Add the demo buyer's history, then its self-assessment; returns counts for
    `flask seed demo`."""
    counts = load_history(today)
    counts.update(maturity_demo.load_demo(progress) or {})
    counts.update(social_value_demo.seed_demo_social_value() or {})
    return counts


def load_history(today=None):
    """Add the demo buyer's history once."""
    buyer = _buyer()
    if buyer is None or db.session.scalar(select(Opportunity.id).where(
            Opportunity.organisation_id == buyer.id, Opportunity.source == "demo").limit(1)):
        return {}
    history = _History(buyer, random.Random(SEED))
    if not history.templates or not history.everyone:
        return {}
    today = today or date.today()
    for offset in range(YEARS, 0, -1):
        _past_year(history, today.year - offset, (YEARS - offset) / (YEARS - 1))
    _live_entries(history, today)
    db.session.commit()
    return {"Demonstration history entries for the demo buyer": history.count}
