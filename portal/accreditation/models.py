"""Models for the accreditation domain.

A scheme has numbered versions; a published version, with its levels and standards, never
changes, so an application and its decision always point at exactly what was assessed. Editing
a scheme publishes a new version.
"""
from datetime import date, datetime

from sqlalchemy import (
    JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, String, Text,
    UniqueConstraint, event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import files
from portal.core.exceptions import DomainError
from portal.core.mixins import TimestampMixin, utcnow
from portal.extensions import db

ANSWER_STATUSES = {"met": "Met", "partly": "Partly met", "not_yet": "Not yet met"}
VERDICTS = {"met": "Met", "partly": "Partly met", "not_met": "Not met"}
OUTCOMES = {
    "accredit": "Accredit at the level applied for",
    "accredit_lower": "Accredit at a lower level",
    "decline": "Decline",
}

APPLICATION_STATUSES = {
    "draft": "In progress",
    "submitted": "Submitted",
    "in_assessment": "Being assessed",
    "more_info": "More information needed",
    "accredited": "Accredited",
    "declined": "Declined",
}
APPLICATION_TRANSITIONS = {
    "draft": {"submitted"},
    "submitted": {"in_assessment", "more_info"},
    "in_assessment": {"more_info", "accredited", "declined"},
    "more_info": {"submitted", "in_assessment"},
    "accredited": set(),
    "declined": set(),
}
RECORD_STATUSES = {
    "active": "Accredited",
    "suspended": "Suspended",
    "revoked": "Revoked",
    "lapsed": "Expired",
    "renewed": "Replaced by a renewal",
}
RECORD_TRANSITIONS = {
    "active": {"suspended", "revoked", "lapsed", "renewed"},
    "suspended": {"active", "revoked", "lapsed", "renewed"},
    "revoked": set(),
    "lapsed": set(),
    "renewed": set(),
}


class Scheme(TimestampMixin, db.Model):
    """An accreditation scheme, such as a staged standard or a kite-mark."""

    __tablename__ = "accreditation_scheme"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # The accreditation body that runs the scheme; without one only site admins can run it.
    body_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    body = relationship("Organisation")
    versions = relationship("SchemeVersion", back_populates="scheme",
                            order_by="SchemeVersion.number", cascade="all, delete-orphan")

    @property
    def current(self):
        return self.versions[-1] if self.versions else None


class SchemeVersion(db.Model):
    """One published, unchangeable edition of a scheme's levels and standards."""

    __tablename__ = "accreditation_scheme_version"
    __table_args__ = (UniqueConstraint("scheme_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation_scheme.id", ondelete="CASCADE"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    summary: Mapped[str | None] = mapped_column(Text)
    source: Mapped[dict] = mapped_column(JSON, nullable=False)
    published_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    scheme = relationship("Scheme", back_populates="versions")
    levels = relationship("Level", back_populates="version", order_by="Level.rank",
                          cascade="all, delete-orphan")
    standards = relationship("Standard", back_populates="version",
                             order_by="Standard.position", cascade="all, delete-orphan")

    @property
    def label(self):
        return f"{self.name} (version {self.number})"

    def level_by_rank(self, rank):
        return next((level for level in self.levels if level.rank == rank), None)

    def standards_for(self, level):
        return [s for s in self.standards if s.from_rank <= level.rank]

    def areas_for(self, level):
        """Standards that apply at `level`, grouped by competence area in scheme order."""
        grouped = {}
        for standard in self.standards_for(level):
            grouped.setdefault(standard.area, []).append(standard)
        return grouped


class Level(db.Model):
    """A level (stage) of a scheme: who it suits and how far it lets a holder go."""

    __tablename__ = "accreditation_level"
    __table_args__ = (UniqueConstraint("version_id", "rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation_scheme_version.id", ondelete="CASCADE"), nullable=False,
        index=True)
    rank: Mapped[int] = mapped_column(Integer, nullable=False)
    # The portal-wide readiness tier (1 to 3) this level counts as when matching opportunities.
    tier: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    suits: Mapped[str | None] = mapped_column(String(300))
    income_bands: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    max_contract_value: Mapped[int | None] = mapped_column(BigInteger)
    validity_months: Mapped[int] = mapped_column(Integer, nullable=False)

    version = relationship("SchemeVersion", back_populates="levels")

    @property
    def is_top(self):
        return self.rank == max(level.rank for level in self.version.levels)

    @property
    def label(self):
        """The scheme's own name for the level, with the portal-wide tier second."""
        return f"{self.name} (tier {self.tier})"


class Standard(db.Model):
    """Something an applicant must show, in a competence area, from a given level up."""

    __tablename__ = "accreditation_standard"
    __table_args__ = (UniqueConstraint("version_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation_scheme_version.id", ondelete="CASCADE"), nullable=False,
        index=True)
    code: Mapped[str] = mapped_column(String(20), nullable=False)
    area: Mapped[str] = mapped_column(String(120), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    evidence_guidance: Mapped[str | None] = mapped_column(Text)
    # A kind of profile credential (like "insurance") whose certificate can be given as
    # evidence here without uploading it again.
    reuses_credential: Mapped[str | None] = mapped_column(String(20))
    from_rank: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)

    version = relationship("SchemeVersion", back_populates="standards")

    @property
    def label(self):
        return f"{self.code} {self.title}"


@event.listens_for(SchemeVersion, "before_update")
@event.listens_for(Level, "before_update")
@event.listens_for(Standard, "before_update")
def _published_is_final(mapper, connection, target):
    raise DomainError("A published scheme version cannot be changed; publish a new version")


class RecognisedMark(db.Model):
    """An existing quality mark or registration that can stand in for named standards."""

    __tablename__ = "accreditation_recognised_mark"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    # {scheme slug: [standard codes]}: codes, not rows, so a new scheme version keeps the mapping.
    satisfies: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)

    def covers(self, standard):
        return standard.code in self.satisfies.get(standard.version.scheme.slug, [])


class Application(TimestampMixin, db.Model):
    """An organisation's application for a level of a scheme version."""

    __tablename__ = "accreditation_application"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation_scheme_version.id"), nullable=False, index=True)
    level_id: Mapped[int] = mapped_column(ForeignKey("accreditation_level.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(20), default="draft", nullable=False, index=True)
    # The record being renewed (a plain id: records also point at applications).
    renewal_of_id: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    times_submitted: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    outcome: Mapped[str | None] = mapped_column(String(20))
    decided_level_id: Mapped[int | None] = mapped_column(ForeignKey("accreditation_level.id"))
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    moderation_notes: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    organisation = relationship("Organisation")
    version = relationship("SchemeVersion")
    level = relationship("Level", foreign_keys=[level_id])
    decided_level = relationship("Level", foreign_keys=[decided_level_id])
    answers = relationship("Answer", back_populates="application", cascade="all, delete-orphan")
    evidence = relationship("Evidence", back_populates="application",
                            cascade="all, delete-orphan", order_by="Evidence.uploaded_at")
    assignments = relationship("Assignment", back_populates="application",
                               cascade="all, delete-orphan", order_by="Assignment.id")
    info_requests = relationship("InfoRequest", back_populates="application",
                                 cascade="all, delete-orphan", order_by="InfoRequest.id")

    @property
    def status_label(self):
        return APPLICATION_STATUSES[self.status]

    @property
    def is_editable(self):
        return self.status in ("draft", "more_info")

    @property
    def is_private_draft(self):
        """Until it is submitted an application is its organisation's alone: not the body's,
        not a site admin's."""
        return self.status == "draft"

    @property
    def standards(self):
        return self.version.standards_for(self.level)

    @property
    def assessors_needed(self):
        return 2 if self.level.is_top and len(self.version.levels) > 1 else 1

    @property
    def open_request(self):
        return next((r for r in reversed(self.info_requests) if r.answered_at is None), None)

    def answer_for(self, standard):
        return next((a for a in self.answers if a.standard_id == standard.id), None)

    def evidence_for(self, standard):
        return [e for e in self.evidence if e.standard_id == standard.id]

    def move_to(self, status):
        """Change status, refusing any step the workflow does not allow."""
        if status not in APPLICATION_TRANSITIONS[self.status]:
            raise DomainError(f"An application that is {self.status_label.lower()} cannot "
                              f"become {APPLICATION_STATUSES[status].lower()}")
        self.status = status


class Answer(TimestampMixin, db.Model):
    """What the applicant says about one standard."""

    __tablename__ = "accreditation_answer"
    __table_args__ = (UniqueConstraint("application_id", "standard_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation_application.id", ondelete="CASCADE"), nullable=False,
        index=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("accreditation_standard.id"),
                                             nullable=False)
    status: Mapped[str | None] = mapped_column(String(10))
    narrative: Mapped[str | None] = mapped_column(Text)
    mark_id: Mapped[int | None] = mapped_column(ForeignKey("accreditation_recognised_mark.id"))
    mark_reference: Mapped[str | None] = mapped_column(String(120))

    application = relationship("Application", back_populates="answers")
    standard = relationship("Standard")
    mark = relationship("RecognisedMark")

    @property
    def status_label(self):
        return ANSWER_STATUSES.get(self.status, "")

    @property
    def is_complete(self):
        return bool(self.status and self.narrative)

    def set_status(self, status):
        if status not in ANSWER_STATUSES:
            raise DomainError("Choose met, partly met or not yet met", field="status")
        self.status = status


class Evidence(db.Model):
    """An uploaded file. Stored outside static/ under a random name; served only through a check."""

    __tablename__ = "accreditation_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation_application.id", ondelete="CASCADE"), nullable=False,
        index=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("accreditation_standard.id"),
                                             nullable=False)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    stored_name: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    application = relationship("Application", back_populates="evidence")
    standard = relationship("Standard")


# Renewals, and certificates given from the profile, point at the same stored file.
files.named_by(Evidence.stored_name)


class Assignment(db.Model):
    """An assessor's part in one application: conflict declaration, then reviews."""

    __tablename__ = "accreditation_assignment"
    __table_args__ = (UniqueConstraint("application_id", "assessor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation_application.id", ondelete="CASCADE"), nullable=False,
        index=True)
    assessor_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                             nullable=False, index=True)
    assigned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # None until declared; True blocks any sight of the file.
    has_conflict: Mapped[bool | None] = mapped_column(Boolean)
    conflict_details: Mapped[str | None] = mapped_column(Text)
    declared_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)

    application = relationship("Application", back_populates="assignments")
    assessor = relationship("User", foreign_keys=[assessor_id])
    reviews = relationship("Review", back_populates="assignment", cascade="all, delete-orphan")

    @property
    def may_see_file(self):
        return self.has_conflict is False

    def review_for(self, standard):
        return next((r for r in self.reviews if r.standard_id == standard.id), None)

    def declare(self, has_conflict, details):
        if self.declared_at is not None:
            raise DomainError("You have already declared your interests for this application")
        if has_conflict and not (details or "").strip():
            raise DomainError("Describe the conflict of interest", field="details")
        self.has_conflict, self.conflict_details = bool(has_conflict), (details or "").strip() or None
        self.declared_at = utcnow()


class BoardDeclaration(db.Model):
    """A board member who is not assessing an application declares any conflict of interest
    before seeing it, as an assessor does on its assignment. Once made it is final."""

    __tablename__ = "accreditation_board_declaration"
    __table_args__ = (UniqueConstraint("application_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation_application.id", ondelete="CASCADE"), nullable=False,
        index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                         nullable=False)
    has_conflict: Mapped[bool] = mapped_column(Boolean, nullable=False)
    details: Mapped[str | None] = mapped_column(Text)
    declared_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.details = (self.details or "").strip() or None
        if self.has_conflict and not self.details:
            raise DomainError("Describe the conflict of interest", field="details")


class Review(TimestampMixin, db.Model):
    """One assessor's verdict on one standard. The private note never reaches the applicant."""

    __tablename__ = "accreditation_review"
    __table_args__ = (UniqueConstraint("assignment_id", "standard_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation_assignment.id", ondelete="CASCADE"), nullable=False, index=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("accreditation_standard.id"),
                                             nullable=False)
    verdict: Mapped[str] = mapped_column(String(10), nullable=False)
    feedback: Mapped[str | None] = mapped_column(Text)
    private_note: Mapped[str | None] = mapped_column(Text)
    mark_verified: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    assignment = relationship("Assignment", back_populates="reviews")
    standard = relationship("Standard")

    @property
    def verdict_label(self):
        return VERDICTS.get(self.verdict, "")


class InfoRequest(db.Model):
    """Assessors asking the applicant for more: the message and the standards it concerns."""

    __tablename__ = "accreditation_info_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("accreditation_application.id", ondelete="CASCADE"), nullable=False,
        index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    standard_codes: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    response: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)

    application = relationship("Application", back_populates="info_requests")


class AccreditationRecord(TimestampMixin, db.Model):
    """An organisation's accreditation at a level, valid from start to expiry."""

    __tablename__ = "accreditation_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("accreditation_application.id", ondelete="SET NULL"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("accreditation_scheme.id"), nullable=False,
                                           index=True)
    level_id: Mapped[int] = mapped_column(ForeignKey("accreditation_level.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(12), default="active", nullable=False, index=True)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    expires_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reminder_90_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    reminder_30_sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    organisation = relationship("Organisation")
    application = relationship("Application", foreign_keys=[application_id])
    scheme = relationship("Scheme")
    level = relationship("Level")

    @property
    def status_label(self):
        return RECORD_STATUSES[self.status]

    def is_past_expiry(self, today=None):
        """Current to the end of the expiry date; expired from the day after."""
        return self.expires_on < (today or date.today())

    def is_current(self, today=None):
        return self.status == "active" and not self.is_past_expiry(today)

    def standing(self, today=None):
        """The status to show: past its expiry date a record is expired, even before the daily
        job lapses it, the same line the public register draws."""
        if self.status in ("active", "suspended") and self.is_past_expiry(today):
            return "lapsed"
        return self.status

    @property
    def standing_label(self):
        return RECORD_STATUSES[self.standing()]

    def set_status(self, status, reason=None):
        """Move to `status`; suspending or revoking needs a reason."""
        if status not in RECORD_TRANSITIONS[self.status]:
            raise DomainError(f"An accreditation that is {self.status_label.lower()} cannot "
                              f"become {RECORD_STATUSES[status].lower()}", field="status")
        if status in ("suspended", "revoked") and not (reason or "").strip():
            raise DomainError("Give a reason", field="reason")
        self.status, self.status_reason = status, (reason or "").strip() or None
        self.status_changed_at = utcnow()
