"""What a commissioner reports on: contracts that follow from awards (and prompt re-procurement),
the VCSE and SME shares it aims for each year, its self-assessment against the National
Procurement Strategy's maturity levels, and the social value suppliers commit to and deliver."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.exceptions import DomainError
from portal.core.mixins import TimestampMixin, utcnow
from portal.extensions import db

CONTRACT_SOURCES = {"award": "From an award on the portal", "manual": "Added by the buyer",
                    "demo": "Demonstration history"}
SHARE_MEASURES = {
    "vcse_value": "VCSE share of awarded value",
    "vcse_count": "VCSE share of contracts awarded",
    "sme_value": "SME share of awarded value",
    "sme_count": "SME share of contracts awarded",
}
MATURITY_LEVELS = {1: "Minimum", 2: "Developing", 3: "Mature", 4: "Leader", 5: "Innovator"}
COMMITMENT_STAGES = {"interest": "With an expression of interest",
                     "consortium": "By a consortium", "award": "At award"}


class Contract(TimestampMixin, db.Model):
    """A contract a buyer has let: from an award on the portal or entered by hand. Its end date
    is what prompts a re-procurement entry on the forward plan."""

    __tablename__ = "contract"
    __table_args__ = (Index("ix_contract_organisation_ends", "organisation_id", "ends_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False)
    award_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunity_award.id", ondelete="CASCADE"), unique=True)
    source: Mapped[str] = mapped_column(String(10), default="award", nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    supplier_names: Mapped[str | None] = mapped_column(String(600))
    main_cpv_code: Mapped[str | None] = mapped_column(ForeignKey("cpv_code.code"))
    value: Mapped[int | None] = mapped_column(BigInteger)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)
    extension_ends_on: Mapped[date | None] = mapped_column(Date)
    any_vcse: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    any_sme: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    reprocurement_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunity.id", ondelete="SET NULL"))

    organisation = relationship("Organisation")
    award = relationship("Award")
    main_cpv = relationship("CpvCode")
    reprocurement = relationship("Opportunity", foreign_keys=[reprocurement_id])

    def set_dates(self, starts_on, ends_on, extension_ends_on=None):
        """A contract ends after it starts, and any extension runs past the end."""
        if ends_on < starts_on:
            raise DomainError("The end date must be after the start date", field="ends_on")
        if extension_ends_on and extension_ends_on <= ends_on:
            raise DomainError("The extension must end after the contract's end date",
                              field="extension_ends_on")
        self.starts_on, self.ends_on, self.extension_ends_on = starts_on, ends_on, extension_ends_on

    def set_value(self, value):
        if value is not None and value < 0:
            raise DomainError("The value cannot be negative", field="value")
        self.value = value

    @property
    def final_end(self):
        """The last day the contract could run, with any extension."""
        return self.extension_ends_on or self.ends_on


class ShareTarget(db.Model):
    """A buyer's baseline and target for one share (e.g. VCSE share of awarded value) in one
    year, as the report to councillors states it."""

    __tablename__ = "share_target"
    __table_args__ = (UniqueConstraint("organisation_id", "year", "measure"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    measure: Mapped[str] = mapped_column(String(20), nullable=False)
    baseline_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    target_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    def set(self, measure, year, target_percent, baseline_percent=None):
        if measure not in SHARE_MEASURES:
            raise DomainError("Choose what the target measures", field="measure")
        if not 2000 <= year <= 2100:
            raise DomainError("Enter a year such as 2027", field="year")
        for field, value in (("target_percent", target_percent),
                             ("baseline_percent", baseline_percent)):
            if value is not None and not 0 <= value <= 100:
                raise DomainError("Enter a percentage from 0 to 100", field=field)
        self.measure, self.year = measure, year
        self.target_percent, self.baseline_percent = target_percent, baseline_percent

    @property
    def measure_label(self):
        return SHARE_MEASURES.get(self.measure, self.measure)


class MaturityRating(db.Model):
    """One self-assessment of one sub-area of the National Procurement Strategy: the level the
    buyer is at and the level it aims for. Ratings are kept, so the latest per sub-area is the
    current profile and the earlier ones are its history."""

    __tablename__ = "maturity_rating"
    __table_args__ = (Index("ix_maturity_rating_org_area", "organisation_id", "sub_area",
                            "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False)
    sub_area: Mapped[str] = mapped_column(String(60), nullable=False)
    current_level: Mapped[int] = mapped_column(Integer, nullable=False)
    target_level: Mapped[int] = mapped_column(Integer, nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)
    evidence_url: Mapped[str | None] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    recorded_by = relationship("User")

    def set_levels(self, current_level, target_level):
        """Both levels are on the five-step scale; the target is not below where the buyer is."""
        for field, level in (("current_level", current_level), ("target_level", target_level)):
            if level not in MATURITY_LEVELS:
                raise DomainError("Choose a level", field=field)
        if target_level < current_level:
            raise DomainError("The target cannot be below the current level",
                              field="target_level")
        self.current_level, self.target_level = current_level, target_level

    @property
    def current_label(self):
        return MATURITY_LEVELS[self.current_level]

    @property
    def target_label(self):
        return MATURITY_LEVELS[self.target_level]


class SocialValueCommitment(TimestampMixin, db.Model):
    """What a supplier promises to deliver for an entry, against one of our measures (a key of
    the measures list in seed/insight/social_value_measures.yaml), at a stage of the bid."""

    __tablename__ = "social_value_commitment"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    stage: Mapped[str] = mapped_column(String(12), nullable=False)
    measure: Mapped[str] = mapped_column(String(40), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    made_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    opportunity = relationship("Opportunity")
    organisation = relationship("Organisation")
    reports = relationship("SocialValueReport", back_populates="commitment",
                           cascade="all, delete-orphan", order_by="SocialValueReport.period_end")

    def set(self, stage, measure, amount, known_measures):
        if stage not in COMMITMENT_STAGES:
            raise DomainError("Choose when this commitment is made", field="stage")
        if measure not in known_measures:
            raise DomainError("Choose a measure", field="measure")
        if amount is None or amount <= 0:
            raise DomainError("Enter an amount greater than 0", field="amount")
        self.stage, self.measure, self.amount = stage, measure, amount

    @property
    def delivered(self):
        return sum((r.amount for r in self.reports), Decimal(0))


class SocialValueReport(db.Model):
    """Delivery against a commitment, reported by the supplier for a period."""

    __tablename__ = "social_value_report"
    __table_args__ = (UniqueConstraint("commitment_id", "period_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(
        ForeignKey("social_value_commitment.id", ondelete="CASCADE"), nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    commitment = relationship("SocialValueCommitment", back_populates="reports")

    def set(self, period_end, amount):
        if amount is None or amount < 0:
            raise DomainError("Enter the amount delivered, 0 or more", field="amount")
        self.period_end, self.amount = period_end, amount
