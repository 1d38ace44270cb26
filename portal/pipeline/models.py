"""The forward procurement plan: opportunities, their lots, documents, questions, interest and awards.

An opportunity guards its own lifecycle: `status` can only be changed through `move_to`, which
refuses moves the lifecycle does not allow and checks that the entry has what the new stage
needs (an engagement event, a closing time, a reason for stopping) and that its dates agree.
"""
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, String, Table, Text,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.exceptions import DomainError
from portal.core.mixins import TimestampMixin, utcnow
from portal.extensions import db

UK_TIME = ZoneInfo("Europe/London")

STATUSES = {
    "draft": "Draft",
    "planned": "Planned",
    "market_engagement": "Market engagement",
    "open": "Open for tenders",
    "evaluation": "Evaluating tenders",
    "awarded": "Awarded",
    "cancelled": "Cancelled",
    "withdrawn": "Withdrawn",
}
PUBLIC_STATUSES = tuple(s for s in STATUSES if s != "draft")
LIVE_STATUSES = ("planned", "market_engagement", "open", "evaluation")
# Before a tender is published an entry is "withdrawn" from the plan; once tenders have been
# invited, stopping is a "cancellation", which suppliers who bid need to hear about.
TRANSITIONS = {
    "draft": ("planned", "withdrawn"),
    "planned": ("market_engagement", "open", "withdrawn"),
    "market_engagement": ("open", "withdrawn"),
    "open": ("evaluation", "cancelled"),
    "evaluation": ("awarded", "cancelled"),
    "awarded": (),
    "cancelled": (),
    "withdrawn": (),
}
ACTION_LABELS = {
    "planned": "Publish in the forward plan",
    "market_engagement": "Start market engagement",
    "open": "Open for tenders",
    "evaluation": "Close and start evaluation",
    "awarded": "Record the award",
    "cancelled": "Cancel the procurement",
    "withdrawn": "Withdraw from the plan",
}


class Route:
    def __init__(self, label, may_require_accreditation=False, below_threshold=False):
        self.label = label
        self.may_require_accreditation = may_require_accreditation
        self.below_threshold = below_threshold


ROUTES = {
    "open": Route("Open procedure"),
    "competitive_flexible": Route("Competitive flexible procedure"),
    "light_touch": Route("Light touch contract (health, social, education and other services)"),
    "below_threshold": Route("Below-threshold open procurement", below_threshold=True),
    # Grant funding sits outside procurement law, so a funder may set eligibility conditions.
    "grant": Route("Grant funding", may_require_accreditation=True),
    "dynamic": Route("Dynamic purchasing system or dynamic market"),
    "direct_award": Route("Direct award"),
    "psr_direct": Route("NHS Provider Selection Regime: direct award"),
    "psr_most_suitable": Route("NHS Provider Selection Regime: most suitable provider"),
    "psr_competitive": Route("NHS Provider Selection Regime: competitive process"),
}
ROUTE_LABELS = {key: route.label for key, route in ROUTES.items()}
VALUE_BASES = {"whole_life": "Whole life of the contract", "annual": "Per year"}
RESERVATIONS = {
    "sme_vcse": "Only small and medium-sized enterprises (SMEs) and VCSEs",
    "location": "Only suppliers based in a named area",
}
ACCREDITATION_TIERS = {1: "Tier 1 (foundation)", 2: "Tier 2 (established)",
                       3: "Tier 3 (advanced)"}
ACCREDITATION_REQUIREMENTS = {"advisory": "Recommended (advisory)",
                              "required": "Required to take part"}
# Themes follow the Social Value Model used across central government procurement.
SOCIAL_VALUE_THEMES = {
    "economic_inequality": "Tackling economic inequality",
    "climate": "Fighting climate change",
    "equal_opportunity": "Equal opportunity",
    "wellbeing": "Wellbeing",
    "local_community": "Supporting the local community and economy",
}
INTEREST_KINDS = {
    "sole": "Bidding on our own",
    "lead": "Leading a consortium",
    "partner": "Joining a consortium or as a sub-contractor",
    "info": "Tell me more",
}
MAX_POUNDS = 10**12
MAX_MONTHS = 600


def uk_now():
    """The time in the UK, without a zone, as closing times are entered and stored."""
    return datetime.now(UK_TIME).replace(tzinfo=None)


opportunity_cpv = Table(
    "opportunity_cpv", db.Model.metadata,
    Column("opportunity_id", ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True),
    Column("cpv_code", ForeignKey("cpv_code.code"), primary_key=True),
)
opportunity_area = Table(
    "opportunity_area", db.Model.metadata,
    Column("opportunity_id", ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True),
    Column("area_code", ForeignKey("area.code"), primary_key=True),
)
opportunity_term = Table(
    "opportunity_term", db.Model.metadata,
    Column("opportunity_id", ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True),
    Column("term_id", ForeignKey("vocabulary_term.id"), primary_key=True),
)
lot_cpv = Table(
    "opportunity_lot_cpv", db.Model.metadata,
    Column("lot_id", ForeignKey("opportunity_lot.id", ondelete="CASCADE"), primary_key=True),
    Column("cpv_code", ForeignKey("cpv_code.code"), primary_key=True),
)
lot_area = Table(
    "opportunity_lot_area", db.Model.metadata,
    Column("lot_id", ForeignKey("opportunity_lot.id", ondelete="CASCADE"), primary_key=True),
    Column("area_code", ForeignKey("area.code"), primary_key=True),
)


def check_value(minimum, maximum, field="value_min"):
    """Refuse negative, enormous or upside-down values."""
    for amount in (minimum, maximum):
        if amount is not None and not 0 <= amount < MAX_POUNDS:
            raise DomainError("Enter a value between £0 and £999,999,999,999", field=field)
    if minimum is not None and maximum is not None and maximum < minimum:
        raise DomainError("The highest value must be more than the lowest value",
                          field="value_max")


class Opportunity(TimestampMixin, db.Model):
    """One entry in a commissioner's forward plan."""

    __tablename__ = "opportunity"
    # The plan lists the most recently changed entries first: read from the index, in reverse.
    __table_args__ = (UniqueConstraint("organisation_id", "reference"),
                      Index("ix_opportunity_plan_order", "updated_at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    reference: Mapped[str] = mapped_column(String(60), nullable=False)
    ocid: Mapped[str | None] = mapped_column(String(120), unique=True)
    source: Mapped[str] = mapped_column(String(20), default="form", nullable=False)
    _status: Mapped[str] = mapped_column("status", String(20), default="draft", nullable=False,
                                         index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    published_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)

    title: Mapped[str] = mapped_column(String(300), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    outcomes: Mapped[str | None] = mapped_column(Text)
    main_cpv_code: Mapped[str | None] = mapped_column(ForeignKey("cpv_code.code"), index=True)

    value_min: Mapped[int | None] = mapped_column(BigInteger)
    value_max: Mapped[int | None] = mapped_column(BigInteger)
    value_basis: Mapped[str] = mapped_column(String(12), default="whole_life", nullable=False)
    whole_life_value: Mapped[int | None] = mapped_column(BigInteger, index=True)
    contract_months: Mapped[int | None] = mapped_column(Integer)
    extension_months: Mapped[int | None] = mapped_column(Integer)

    market_engagement_on: Mapped[date | None] = mapped_column(Date)
    engagement_details: Mapped[str | None] = mapped_column(Text)
    tender_publish_on: Mapped[date | None] = mapped_column(Date, index=True)
    question_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    closing_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    contract_start_on: Mapped[date | None] = mapped_column(Date)

    procurement_route: Mapped[str | None] = mapped_column(String(30), index=True)
    suitable_vcse: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    suitable_sme: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    consortium_welcome: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    subcontracting_expected: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    reservation: Mapped[str | None] = mapped_column(String(20))
    reservation_area_code: Mapped[str | None] = mapped_column(ForeignKey("area.code"))
    accreditation_tier: Mapped[int | None] = mapped_column(Integer)
    accreditation_requirement: Mapped[str] = mapped_column(String(10), default="advisory",
                                                           nullable=False)
    contact_role: Mapped[str | None] = mapped_column(String(120))

    organisation = relationship("Organisation")
    main_cpv = relationship("CpvCode", foreign_keys=[main_cpv_code])
    additional_cpv = relationship("CpvCode", secondary=opportunity_cpv, order_by="CpvCode.code")
    areas = relationship("Area", secondary=opportunity_area, order_by="Area.name")
    client_groups = relationship("VocabularyTerm", secondary=opportunity_term,
                                 order_by="VocabularyTerm.position")
    reservation_area = relationship("Area", foreign_keys=[reservation_area_code])
    lots = relationship("Lot", back_populates="opportunity", cascade="all, delete-orphan",
                        order_by="Lot.number")
    documents = relationship("OpportunityDocument", back_populates="opportunity",
                             cascade="all, delete-orphan", order_by="OpportunityDocument.id")
    social_value = relationship("SocialValuePriority", back_populates="opportunity",
                                cascade="all, delete-orphan",
                                order_by="SocialValuePriority.weighting.desc()")
    questions = relationship("Question", back_populates="opportunity",
                             cascade="all, delete-orphan", order_by="Question.asked_at")
    interests = relationship("Interest", back_populates="opportunity",
                             cascade="all, delete-orphan", order_by="Interest.created_at")
    award = relationship("Award", back_populates="opportunity", uselist=False,
                         cascade="all, delete-orphan")

    # Column defaults apply only when a row is written; the rules need them before that.
    DEFAULTS = {"_status": "draft", "value_basis": "whole_life", "accreditation_requirement":
                "advisory", "source": "form", "suitable_vcse": False, "suitable_sme": False,
                "consortium_welcome": False, "subcontracting_expected": False}

    def __init__(self, **kwargs):
        for key, value in self.DEFAULTS.items():
            kwargs.setdefault(key, value)
        super().__init__(**kwargs)

    # --- lifecycle -----------------------------------------------------------------------

    @hybrid_property
    def status(self):
        return self._status

    @status.inplace.setter
    def _status_setter(self, value):
        self.move_to(value)

    @status.inplace.expression
    @classmethod
    def _status_expression(cls):
        return cls._status

    @property
    def status_label(self):
        return STATUSES.get(self.status, self.status)

    # What an entry must have before it is published, and keep afterwards.
    PUBLICATION_NEEDS = (("description", "a description"), ("main_cpv_code", "a main category (CPV code)"),
                         ("areas", "at least one area"))

    @property
    def missing_for_publication(self):
        """(field, what it needs) for each thing publishing needs that the entry lacks."""
        return [(field, need) for field, need in self.PUBLICATION_NEEDS
                if not getattr(self, field)]

    @property
    def is_public(self):
        return self.status in PUBLIC_STATUSES

    @property
    def is_live(self):
        return self.status in LIVE_STATUSES

    def allowed_moves(self):
        return TRANSITIONS.get(self.status, ())

    def move_to(self, new_status, now=None, reason=None):
        """Change stage, refusing moves the lifecycle does not allow and entries not ready."""
        now = now or uk_now()
        current = self.status
        if new_status not in STATUSES:
            raise DomainError("Choose a stage from the list", field="status")
        if new_status not in TRANSITIONS[current]:
            raise DomainError(self._refusal(current, new_status), field="status")
        self._check_ready_for(new_status, now, reason)
        if new_status in ("cancelled", "withdrawn"):
            self.status_reason = reason.strip()
        if new_status == "planned" and self.published_at is None:
            self.published_at = utcnow()
        if new_status == "open" and self.tender_publish_on is None:
            self.tender_publish_on = now.date()
        self._status = new_status
        self.status_changed_at = utcnow()
        self.check_consistency()

    @staticmethod
    def _refusal(current, new_status):
        allowed = TRANSITIONS[current]
        where = f"An entry that is '{STATUSES[current].lower()}' cannot be moved to " \
                f"'{STATUSES[new_status].lower()}'."
        if not allowed:
            return f"{where} It is finished, so its stage can no longer change."
        options = ", ".join(f"'{STATUSES[s].lower()}'" for s in allowed)
        return f"{where} From here it can only move to {options}."

    def _check_ready_for(self, new_status, now, reason):
        if new_status == "planned":
            for field, need in self.missing_for_publication:
                raise DomainError(f"Add {need} before publishing", field=field)
        elif new_status == "market_engagement":
            self._require(self.market_engagement_on and self.engagement_details,
                          "Give the date and details of the market engagement event",
                          "engagement_details")
        elif new_status == "open":
            self._require(self.closing_at, "Set the closing date and time for tenders",
                          "closing_at")
            if self.closing_at <= now:
                raise DomainError("The closing date and time must be in the future",
                                  field="closing_at")
        elif new_status == "evaluation":
            if self.closing_at and self.closing_at > now:
                raise DomainError(
                    "Tenders are still open until " + self.closing_at.strftime("%-d %B %Y %H:%M")
                    + ". Evaluation can start after the closing time.", field="status")
        elif new_status == "awarded":
            self._require(self.award and self.award.winners,
                          "Record who won the contract before marking it awarded", "winners")
        elif new_status in ("cancelled", "withdrawn"):
            self._require((reason or "").strip(), "Give a reason, which is shown publicly",
                          "reason")

    @staticmethod
    def _require(value, message, field):
        if not value:
            raise DomainError(message, field=field)

    def load_status(self, status):
        """Set the stage of an entry imported from another system as it was there.

        Imported notices arrive part-way through their life, so there is no move to check;
        the stage must still be a known one and the dates must agree.
        """
        if status not in STATUSES:
            raise DomainError("Unknown stage", field="status")
        self._status = status
        self.status_changed_at = utcnow()
        if status != "draft" and self.published_at is None:
            self.published_at = utcnow()
        self.check_consistency()

    # --- values and dates ----------------------------------------------------------------

    def set_value(self, minimum, maximum, basis, contract_months, extension_months=None):
        """Record the estimated value (one figure, or a range) and the contract length."""
        if minimum is None and maximum is not None:
            minimum, maximum = maximum, None
        check_value(minimum, maximum)
        if basis not in VALUE_BASES:
            raise DomainError("Choose whether the value is per year or for the whole contract",
                              field="value_basis")
        for name, months in (("contract_months", contract_months),
                             ("extension_months", extension_months)):
            if months is not None and not 0 < months <= MAX_MONTHS:
                raise DomainError("Enter a number of months between 1 and 600", field=name)
        self.value_min, self.value_max, self.value_basis = minimum, maximum, basis
        self.contract_months, self.extension_months = contract_months, extension_months
        self.whole_life_value = self._whole_life()

    def _whole_life(self):
        headline = self.value_max if self.value_max is not None else self.value_min
        if headline is None:
            return None
        if self.value_basis == "annual" and self.contract_months:
            return min(headline * self.contract_months // 12, MAX_POUNDS - 1)
        return headline

    def date_problems(self):
        """Pairs of (field, message) for dates that contradict each other."""
        problems = []
        closing_day = self.closing_at.date() if self.closing_at else None
        checks = (
            ("tender_publish_on", self.market_engagement_on, self.tender_publish_on,
             "The tender must be published on or after the market engagement date"),
            ("closing_at", self.tender_publish_on, closing_day,
             "The closing date must be on or after the tender publication date"),
            ("question_deadline", self.question_deadline, self.closing_at,
             "The deadline for questions must be before the closing time"),
            ("contract_start_on", closing_day, self.contract_start_on,
             "The contract must start after the closing date"),
            ("contract_start_on", self.tender_publish_on, self.contract_start_on,
             "The contract must start after the tender is published"),
        )
        for field, earlier, later, message in checks:
            if earlier is None or later is None:
                continue
            strictly = field == "contract_start_on"
            if later < earlier or (strictly and later == earlier):
                problems.append((field, message))
        return problems

    def check_consistency(self):
        """Raise DomainError on the first rule the entry breaks."""
        for field, message in self.date_problems()[:1]:
            raise DomainError(message, field=field)
        check_value(self.value_min, self.value_max)
        self._check_reservation()
        self._check_accreditation()
        total = sum(p.weighting for p in self.social_value)
        if total > 100:
            raise DomainError("Social value weightings must add up to 100% or less",
                              field="social_value")

    def _check_reservation(self):
        if self.reservation is None:
            self.reservation_area_code = None
            return
        if self.reservation not in RESERVATIONS:
            raise DomainError("Choose who the contract is reserved for", field="reservation")
        route = ROUTES.get(self.procurement_route)
        if route is None or not route.below_threshold:
            raise DomainError("Only below-threshold procurements can be reserved for SMEs, "
                              "VCSEs or local suppliers", field="reservation")
        if self.reservation == "location" and not self.reservation_area_code:
            raise DomainError("Choose the area suppliers must be based in",
                              field="reservation_area")
        if self.reservation != "location":
            self.reservation_area_code = None

    def _check_accreditation(self):
        tier = self.accreditation_tier
        if tier is not None and tier not in ACCREDITATION_TIERS:
            raise DomainError("Choose tier 1, 2 or 3, or no tier", field="accreditation_tier")
        if self.accreditation_requirement not in ACCREDITATION_REQUIREMENTS:
            raise DomainError("Choose whether the tier is advisory or required",
                              field="accreditation_requirement")
        if self.accreditation_requirement == "required":
            route = ROUTES.get(self.procurement_route)
            if tier is None:
                raise DomainError("Choose the tier that is required", field="accreditation_tier")
            if route is None or not route.may_require_accreditation:
                raise DomainError("A tier can only be required for grant funding; for a "
                                  "procurement it can only be recommended",
                                  field="accreditation_requirement")

    # --- presentation --------------------------------------------------------------------

    @property
    def route_label(self):
        unknown = "Not decided yet" if self.status in ("draft", "planned", "market_engagement") \
            else "Not stated"
        return ROUTE_LABELS.get(self.procurement_route, unknown)

    @property
    def cpv_codes(self):
        return ([self.main_cpv] if self.main_cpv else []) + list(self.additional_cpv)

    @property
    def value_label(self):
        """The estimated value wherever an entry is shown. None and a bare £0 (which notices
        use for "not stated") both mean nobody has published one."""
        low, high = self.value_min, self.value_max
        if not (low or high):
            return "Value not published"
        if not low:
            text = f"Up to £{high:,}"
        elif high and high != low:
            text = f"£{low:,} to £{high:,}"
        else:
            text = f"£{low:,}"
        return text + (" a year" if self.value_basis == "annual" else " in total")

    @property
    def closes_in_days(self):
        if self.closing_at is None or self.status != "open":
            return None
        return (self.closing_at.date() - uk_now().date()).days

    @property
    def tenders_closed(self):
        """Whether the closing time has passed (or none was set), so evaluation may start."""
        return self.closing_at is None or self.closing_at <= uk_now()

    @property
    def questions_open(self):
        if self.status not in ("planned", "market_engagement", "open"):
            return False
        deadline = self.question_deadline or self.closing_at
        return deadline is None or deadline > uk_now()

    @property
    def interest_open(self):
        return self.status in ("planned", "market_engagement", "open")

    def published_questions(self):
        return [q for q in self.questions if q.status == "published"]

    def active_interests(self):
        return [i for i in self.interests if i.withdrawn_at is None]


def combine(day, at=None):
    """A closing date and time; noon when no time was given, as most tenders close then."""
    return datetime.combine(day, at or time(12, 0)) if day else None


class Lot(db.Model):
    __tablename__ = "opportunity_lot"
    __table_args__ = (UniqueConstraint("opportunity_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    value_min: Mapped[int | None] = mapped_column(BigInteger)
    value_max: Mapped[int | None] = mapped_column(BigInteger)

    opportunity = relationship("Opportunity", back_populates="lots")
    cpv_codes = relationship("CpvCode", secondary=lot_cpv, order_by="CpvCode.code")
    areas = relationship("Area", secondary=lot_area, order_by="Area.name")

    @property
    def value_label(self):
        if self.value_min is None:
            return "Not given"
        if self.value_max is not None and self.value_max != self.value_min:
            return f"£{self.value_min:,} to £{self.value_max:,}"
        return f"£{self.value_min:,}"


class SocialValuePriority(db.Model):
    __tablename__ = "opportunity_social_value"
    __table_args__ = (UniqueConstraint("opportunity_id", "theme"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True)
    theme: Mapped[str] = mapped_column(String(30), nullable=False)
    weighting: Mapped[int] = mapped_column(Integer, nullable=False)

    opportunity = relationship("Opportunity", back_populates="social_value")

    @property
    def theme_label(self):
        return SOCIAL_VALUE_THEMES.get(self.theme, self.theme)


class OpportunityDocument(db.Model):
    """A file attached to an entry; stored outside static/ under a random name."""

    __tablename__ = "opportunity_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    original_name: Mapped[str] = mapped_column(String(200), nullable=False)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    content_type: Mapped[str] = mapped_column(String(120), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    opportunity = relationship("Opportunity", back_populates="documents")

    @property
    def size_label(self):
        if self.size < 1024 * 1024:
            return f"{max(1, round(self.size / 1024))} KB"
        return f"{self.size / (1024 * 1024):.1f} MB"


class Question(db.Model):
    """A clarification question: private until the buyer publishes it with an answer."""

    __tablename__ = "opportunity_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    question: Mapped[str] = mapped_column(Text, nullable=False)
    published_question: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending", nullable=False)
    asked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)

    opportunity = relationship("Opportunity", back_populates="questions")
    organisation = relationship("Organisation")
    asked_by = relationship("User")

    def publish(self, published_question, answer):
        """Answer the question for everyone; the published wording hides who asked."""
        if self.status == "published":
            raise DomainError("This question has already been answered", field="answer")
        published_question, answer = (published_question or "").strip(), (answer or "").strip()
        if not published_question:
            raise DomainError("Enter the question as it will be published",
                              field="published_question")
        if not answer:
            raise DomainError("Enter the answer", field="answer")
        self.published_question, self.answer = published_question, answer
        self.status, self.answered_at = "published", utcnow()


class Interest(TimestampMixin, db.Model):
    """An organisation telling the buyer it may bid, and how."""

    __tablename__ = "opportunity_interest"
    __table_args__ = (UniqueConstraint("opportunity_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)

    opportunity = relationship("Opportunity", back_populates="interests")
    organisation = relationship("Organisation")

    @property
    def kind_label(self):
        return INTEREST_KINDS.get(self.kind, self.kind)

    @property
    def is_active(self):
        return self.withdrawn_at is None


class Award(TimestampMixin, db.Model):
    __tablename__ = "opportunity_award"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, unique=True)
    awarded_on: Mapped[date] = mapped_column(Date, nullable=False)
    value: Mapped[int | None] = mapped_column(BigInteger)
    notes: Mapped[str | None] = mapped_column(Text)

    opportunity = relationship("Opportunity", back_populates="award")
    winners = relationship("AwardWinner", back_populates="award", cascade="all, delete-orphan",
                           order_by="AwardWinner.id")


class AwardWinner(db.Model):
    __tablename__ = "opportunity_award_winner"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity_award.id", ondelete="CASCADE"), nullable=False, index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    is_vcse: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_sme: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    award = relationship("Award", back_populates="winners")
    organisation = relationship("Organisation")
