"""Outcomes of a buyer's procurements: awards by count and value, and the share that went to
VCSEs and SMEs, by year, by category and by area; the value reaching VCSEs as consortium
partners and sub-contractors; and progress against the buyer's own targets.

An award's value is split equally between its winners, so a joint award to a VCSE and a large
firm counts half its value to the VCSE; an award counts towards the VCSE share of contracts when
any of its winners is a VCSE."""
from dataclasses import dataclass

from sqlalchemy import Float, case, cast, extract, func, literal, select

from portal.consortia.models import Consortium, ConsortiumMember, Subcontract
from portal.extensions import db
from portal.insight.filters import award_conditions
from portal.insight.models import SHARE_MEASURES, ShareTarget
from portal.insight.shares import Share
from portal.organisations.models import Organisation
from portal.pipeline.models import Award, AwardWinner, Opportunity, opportunity_area
from portal.reference.models import Area, CpvCode


@dataclass
class OutcomeRow:
    key: object
    label: str
    awards: int = 0
    vcse_awards: int = 0
    sme_awards: int = 0
    value: float = 0
    vcse_value: float = 0
    sme_value: float = 0

    def share(self, measure):
        """The Share for a SHARE_MEASURES key (value shares in whole pounds)."""
        kind, basis = measure.split("_")
        if basis == "count":
            return Share(getattr(self, f"{kind}_awards"), self.awards)
        return Share(round(getattr(self, f"{kind}_value")), round(self.value))


def _winner_flags():
    vcse = case((AwardWinner.is_vcse.is_(True), 1), else_=0)
    sme = case((AwardWinner.is_sme.is_(True), 1), else_=0)
    return (select(AwardWinner.award_id, func.count().label("n"),
                   func.sum(vcse).label("n_vcse"), func.sum(sme).label("n_sme"))
            .group_by(AwardWinner.award_id).subquery())


def _columns(flags):
    def part(count):
        return func.coalesce(cast(Award.value, Float) * count / flags.c.n, 0)
    return (func.count(Award.id), func.sum(case((flags.c.n_vcse > 0, 1), else_=0)),
            func.sum(case((flags.c.n_sme > 0, 1), else_=0)),
            func.coalesce(func.sum(Award.value), 0),
            func.sum(part(flags.c.n_vcse)), func.sum(part(flags.c.n_sme)))


def _grouped(conditions, key=None, join_areas=False):
    """{key: figures} for awards under `conditions`, grouped by `key` (one group when None)."""
    flags = _winner_flags()
    stmt = (select(key if key is not None else literal("all"), *_columns(flags)).select_from(Award)
            .join(Opportunity, Award.opportunity_id == Opportunity.id)
            .outerjoin(flags, flags.c.award_id == Award.id))
    if join_areas:
        stmt = stmt.join(opportunity_area, opportunity_area.c.opportunity_id == Opportunity.id)
    stmt = stmt.where(*conditions)
    rows = db.session.execute(stmt.group_by(key) if key is not None else stmt).all()
    return {row[0]: [int(row[1] or 0), int(row[2] or 0), int(row[3] or 0), float(row[4] or 0),
                     float(row[5] or 0), float(row[6] or 0)] for row in rows}


def _rows(grouped, labels):
    return [OutcomeRow(key, labels.get(key, str(key)), *figures)
            for key, figures in grouped.items()]


def totals(buyer, filters):
    figures = _grouped(award_conditions(buyer, filters)).get("all")
    return OutcomeRow("all", "All awards", *(figures or []))


def by_year(buyer, filters):
    year = extract("year", Award.awarded_on)
    rows = _rows({int(k): v for k, v in _grouped(award_conditions(buyer, filters), year).items()},
                 {})
    return sorted(rows, key=lambda row: row.key)


def by_category(buyer, filters):
    division = func.substr(Opportunity.main_cpv_code, 1, 2)
    grouped = _grouped(award_conditions(buyer, filters), division)
    codes = [f"{key}000000" for key in grouped if key]
    names = dict(db.session.execute(select(CpvCode.code, CpvCode.description)
                                    .where(CpvCode.code.in_(codes))).all())
    labels = {key: names.get(f"{key}000000", "Not categorised") for key in grouped}
    return sorted(_rows(grouped, labels), key=lambda row: -row.value)


def by_area(buyer, filters):
    grouped = _grouped(award_conditions(buyer, filters), opportunity_area.c.area_code,
                       join_areas=True)
    names = dict(db.session.execute(select(Area.code, Area.name)
                                    .where(Area.code.in_(list(grouped)))).all())
    return sorted(_rows(grouped, names), key=lambda row: -row.value)


def _vcse(org_id_column):
    return (select(Organisation.id).where(Organisation.id == org_id_column,
                                          Organisation.org_type == "vcse").exists())


def subcontracted_to_vcses(buyer, filters):
    """Value of sub-contracts recorded on the buyer's entries whose sub-contractor is a VCSE."""
    conditions = award_conditions(buyer, filters)
    return float(db.session.scalar(
        select(func.coalesce(func.sum(Subcontract.value), 0))
        .join(Opportunity, Subcontract.opportunity_id == Opportunity.id)
        .join(Award, Award.opportunity_id == Opportunity.id)
        .where(*conditions, _vcse(Subcontract.organisation_id))) or 0)


def partners_share_to_vcses(buyer, filters):
    """Value reaching VCSE partners of winning consortia: the award's value times each VCSE
    partner's agreed share of value."""
    conditions = award_conditions(buyer, filters)
    part = cast(Award.value, Float) * ConsortiumMember.value_share / 100
    stmt = (select(func.coalesce(func.sum(part), 0)).select_from(Consortium)
            .join(ConsortiumMember, ConsortiumMember.consortium_id == Consortium.id)
            .join(Opportunity, Consortium.opportunity_id == Opportunity.id)
            .join(Award, Award.opportunity_id == Opportunity.id)
            .join(AwardWinner, (AwardWinner.award_id == Award.id)
                  & (AwardWinner.organisation_id == Consortium.lead_organisation_id))
            .where(*conditions, ConsortiumMember.role != "lead",
                   ConsortiumMember.left_at.is_(None), _vcse(ConsortiumMember.organisation_id)))
    return float(db.session.scalar(stmt) or 0)


@dataclass
class TargetProgress:
    target: ShareTarget
    actual: Share

    @property
    def met(self):
        return self.actual.percent is not None and self.actual.percent >= self.target.target_percent


def targets(buyer, years):
    """Each of the buyer's targets with the share actually reached that year."""
    rows = db.session.scalars(select(ShareTarget).where(ShareTarget.organisation_id == buyer.id)
                              .order_by(ShareTarget.year, ShareTarget.measure)).all()
    by_key = {row.key: row for row in years}
    return [TargetProgress(t, by_key[t.year].share(t.measure) if t.year in by_key
                           else Share(0, 0)) for t in rows if t.measure in SHARE_MEASURES]
