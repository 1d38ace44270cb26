"""Engagement with a buyer's plan: expressions of interest and questions per entry, by the kind
of organisation that sent them (VCSE, SME, large), and how they grew over time."""
from dataclasses import dataclass

from sqlalchemy import case, extract, func, select

from portal.extensions import db
from portal.insight.filters import entry_conditions
from portal.matching.eligibility import SME_TURNOVER
from portal.organisations.models import Organisation
from portal.pipeline.models import Interest, Opportunity, Question

SIZES = {"vcse": "VCSE", "sme": "SME", "large": "Large business", "unknown": "Size not known"}


def size_class():
    """A SQL expression sorting an organisation into SIZES: a prime whose income is known to be
    under the SME turnover limit is an SME."""
    return case((Organisation.org_type == "vcse", "vcse"),
                (Organisation.latest_income.is_(None), "unknown"),
                (Organisation.latest_income < SME_TURNOVER, "sme"), else_="large")


@dataclass
class Engagement:
    entries: int
    by_size: dict        # size -> (interests, questions)
    by_quarter: list     # (label, interests, questions), oldest first

    def per_entry(self, size, kind):
        counts = self.by_size.get(size, (0, 0))
        value = counts[0 if kind == "interests" else 1]
        return round(value / self.entries, 2) if self.entries else None


def _counts(model, dated, conditions, extra=()):
    """{(size, year, quarter): count} for `model` rows (interests or questions) in one pass."""
    # One object per expression, so PostgreSQL sees the same bound values in SELECT and GROUP BY.
    size, year = size_class(), extract("year", dated)
    quarter = func.floor((extract("month", dated) + 2) / 3)
    stmt = (select(size, year, quarter, func.count()).select_from(model)
            .join(Opportunity, model.opportunity_id == Opportunity.id)
            .join(Organisation, model.organisation_id == Organisation.id)
            .where(*conditions, *extra).group_by(size, year, quarter))
    return {(size, int(y), int(q)): n for size, y, q, n in db.session.execute(stmt).all()}


def _by(counts, part):
    totals = {}
    for key, n in counts.items():
        totals[part(key)] = totals.get(part(key), 0) + n
    return totals


def engagement(buyer, filters):
    """Interest and questions on `buyer`'s published entries under `filters`."""
    conditions = entry_conditions(buyer, filters) + [Opportunity.status != "draft"]
    interests = _counts(Interest, Interest.created_at, conditions,
                        (Interest.withdrawn_at.is_(None),))
    questions = _counts(Question, Question.asked_at, conditions)
    entries = db.session.scalar(select(func.count()).select_from(Opportunity).where(*conditions))
    sizes_i, sizes_q = _by(interests, lambda k: k[0]), _by(questions, lambda k: k[0])
    by_size = {size: (sizes_i.get(size, 0), sizes_q.get(size, 0)) for size in SIZES}
    quarters_i, quarters_q = _by(interests, lambda k: k[1:]), _by(questions, lambda k: k[1:])
    by_quarter = [(f"{y} Q{q}", quarters_i.get((y, q), 0), quarters_q.get((y, q), 0))
                  for y, q in sorted(set(quarters_i) | set(quarters_q))]
    return Engagement(entries or 0, by_size, by_quarter)
