"""Teaming and consortia: posts on an entry's teaming board, the open roles a lead wants filled,
invitations that can be answered, and the consortium a lead and its partners form, with the
shares and the fair-terms charter they agree."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON, Date, DateTime, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from portal.core.exceptions import DomainError
from portal.core.mixins import utcnow
from portal.extensions import db

POST_KINDS = {
    "lead": "We intend to bid and are looking for partners",
    "available": "We are available as a partner",
}
MEMBER_ROLES = {"lead": "Lead", "partner": "Partner", "subcontractor": "Sub-contractor"}
INVITATION_STATUSES = {"sent": "Waiting for an answer", "accepted": "Accepted",
                       "declined": "Declined", "withdrawn": "Withdrawn"}
# The National Procurement Strategy toolkit's fair-payment aim: members paid within 30 days.
FAIR_PAYMENT_DAYS = 30
MAX_PAYMENT_DAYS = 365
MAX_TEXT = 2000
MAX_SUMMARY = 1000


def clean_text(value, field, label, required=False, limit=MAX_TEXT):
    """Stripped text, or None; too long or missing when required is an error on the field."""
    value = (value or "").strip() or None
    if required and value is None:
        raise DomainError(f"Enter {label}", field=field)
    if value and len(value) > limit:
        raise DomainError(f"{label[0].upper()}{label[1:]} must be {limit:,} characters or fewer",
                          field=field)
    return value


def check_percent(value, field, label):
    """A whole or decimal percentage from 0 to 100, or None."""
    if value is None:
        return None
    if not 0 <= value <= 100:
        raise DomainError(f"{label} must be between 0 and 100%", field=field)
    return value


class TeamingPost(db.Model):
    """One organisation on an entry's (or a lot's) teaming board: either a lead looking for
    partners, with the roles it wants filled, or an organisation available as a partner."""

    __tablename__ = "teaming_post"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True)
    lot_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunity_lot.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)

    opportunity = relationship("Opportunity")
    lot = relationship("Lot")
    organisation = relationship("Organisation")
    roles = relationship("PartnerRole", back_populates="post", cascade="all, delete-orphan",
                         order_by="PartnerRole.id")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.kind not in POST_KINDS:
            raise DomainError("Choose whether you are looking for partners or available as one",
                              field="kind")
        self.describe(self.summary)

    def describe(self, summary):
        field = "summary"
        label = "what you will bid for and the partners you need" if self.kind == "lead" \
            else "what you can offer as a partner"
        self.summary = clean_text(summary, field, label, required=True, limit=MAX_SUMMARY)
        self.updated_at = utcnow()

    @property
    def kind_label(self):
        return POST_KINDS[self.kind]

    @property
    def is_open(self):
        """Open while not withdrawn and the entry still takes expressions of interest."""
        return self.withdrawn_at is None and self.opportunity.interest_open

    @property
    def state_label(self):
        if self.withdrawn_at is not None:
            return "Withdrawn"
        return "Open" if self.is_open else "Closed"

    def withdraw(self):
        if self.withdrawn_at is not None:
            raise DomainError("This post has already been withdrawn")
        self.withdrawn_at = utcnow()

    def open_roles(self):
        return [role for role in self.roles if role.is_open]

    @property
    def team_complete(self):
        """A lead whose roles have all been filled is no longer looking for partners."""
        live = [role for role in self.roles if role.removed_at is None]
        return self.kind == "lead" and bool(live) and not any(r.is_open for r in live)


class PartnerRole(db.Model):
    """A part of the work a lead wants a partner for: what it delivers (categories, areas,
    client groups), the accreditation level recommended and an indicative share."""

    __tablename__ = "partner_role"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("teaming_post.id", ondelete="CASCADE"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    delivers: Mapped[str | None] = mapped_column(Text)
    cpv_codes: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    area_codes: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    client_group_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    recommended_tier: Mapped[int | None] = mapped_column(Integer)
    work_share: Mapped[int | None] = mapped_column(Integer)
    value_share: Mapped[int | None] = mapped_column(Integer)
    filled_by_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"))
    filled_at: Mapped[datetime | None] = mapped_column(DateTime)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)

    post = relationship("TeamingPost", back_populates="roles")
    filled_by = relationship("Organisation")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.describe(title=self.title, delivers=self.delivers, cpv_codes=self.cpv_codes or [],
                      area_codes=self.area_codes or [],
                      client_group_ids=self.client_group_ids or [],
                      recommended_tier=self.recommended_tier, work_share=self.work_share,
                      value_share=self.value_share)

    def describe(self, *, title, delivers, cpv_codes, area_codes, client_group_ids,
                 recommended_tier, work_share, value_share):
        """Set what the role is. It needs a name and something it delivers: a description or
        at least one category."""
        title = clean_text(title, "title", "a name for the role", required=True, limit=200)
        delivers = clean_text(delivers, "delivers", "what the role delivers")
        if not delivers and not cpv_codes:
            raise DomainError("Say what the role delivers, or choose at least one category",
                              field="delivers")
        if recommended_tier not in (None, 1, 2, 3):
            raise DomainError("Choose tier 1, 2 or 3, or no level", field="recommended_tier")
        check_percent(work_share, "work_share", "The share of the work")
        check_percent(value_share, "value_share", "The share of the value")
        # Only once everything has been checked, so a refusal changes nothing.
        self.title, self.delivers = title, delivers
        self.cpv_codes, self.area_codes = list(cpv_codes), list(area_codes)
        self.client_group_ids = list(client_group_ids)
        self.recommended_tier = recommended_tier
        self.work_share, self.value_share = work_share, value_share

    @property
    def is_open(self):
        return self.removed_at is None and self.filled_by_organisation_id is None

    @property
    def state_label(self):
        if self.removed_at is not None:
            return "Removed"
        return "Filled" if self.filled_by_organisation_id else "Open"


class PartnerInvitation(db.Model):
    """A lead asking an organisation to join its bid for an entry, for a named role or none.
    The invited organisation accepts, declines with a reason, or replies; the lead may
    withdraw it while it waits."""

    __tablename__ = "partner_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True)
    lot_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunity_lot.id", ondelete="SET NULL"))
    role_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner_role.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    invited_by_organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    invited_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"))
    message: Mapped[str | None] = mapped_column(Text)
    reasons: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="sent", index=True)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    opportunity = relationship("Opportunity")
    lot = relationship("Lot")
    role = relationship("PartnerRole")
    organisation = relationship("Organisation", foreign_keys=[organisation_id])
    invited_by = relationship("Organisation", foreign_keys=[invited_by_organisation_id])
    replies = relationship("InvitationReply", back_populates="invitation",
                           cascade="all, delete-orphan", order_by="InvitationReply.id")

    def __init__(self, **kwargs):
        kwargs.setdefault("status", "sent")
        super().__init__(**kwargs)
        if self.organisation_id == self.invited_by_organisation_id:
            raise DomainError("An organisation cannot invite itself")
        self.message = clean_text(self.message, "message", "your message", limit=1000)

    @property
    def status_label(self):
        return INVITATION_STATUSES[self.status]

    @property
    def is_waiting(self):
        return self.status == "sent"

    def _answer(self, status, user_id):
        if not self.is_waiting:
            raise DomainError(f"This invitation has already been {self.status}")
        self.status, self.answered_at, self.answered_by_user_id = status, utcnow(), user_id

    def accept(self, user_id):
        self._answer("accepted", user_id)

    def decline(self, user_id, reason):
        reason = clean_text(reason, "reason", "why you are declining", required=True)
        self._answer("declined", user_id)
        self.decline_reason = reason

    def withdraw(self, user_id):
        self._answer("withdrawn", user_id)


class Message:
    """What a message says and who wrote it, for the two conversations: an invitation's and a
    consortium's thread."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    @declared_attr
    def organisation(cls):
        return relationship("Organisation")

    @declared_attr
    def user(cls):
        return relationship("User")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.body = clean_text(self.body, "body", "your message", required=True)


class InvitationReply(Message, db.Model):
    """A message in the conversation an invitation opens, from either side."""

    __tablename__ = "partner_invitation_reply"

    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("partner_invitation.id", ondelete="CASCADE"), nullable=False, index=True)
    invitation = relationship("PartnerInvitation", back_populates="replies")


class Consortium(db.Model):
    """A team bidding together for an entry or one of its lots: a lead, its partners and
    sub-contractors, the shares of work and value each takes, and a fair-terms charter every
    member confirms."""

    __tablename__ = "consortium"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True)
    lot_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunity_lot.id", ondelete="SET NULL"))
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("teaming_post.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    lead_organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    interest_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunity_interest.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    # The charter: version 0 until the lead first writes it; each change is a new version
    # that every member must confirm again.
    charter_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    payment_days: Mapped[int | None] = mapped_column(Integer)
    management_fee: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    risk_sharing: Mapped[str | None] = mapped_column(Text)
    disputes: Mapped[str | None] = mapped_column(Text)
    charter_updated_at: Mapped[datetime | None] = mapped_column(DateTime)

    opportunity = relationship("Opportunity")
    lot = relationship("Lot")
    post = relationship("TeamingPost")
    lead = relationship("Organisation")
    interest = relationship("Interest")
    all_members = relationship("ConsortiumMember", back_populates="consortium",
                               cascade="all, delete-orphan", order_by="ConsortiumMember.id")
    messages = relationship("ConsortiumMessage", back_populates="consortium",
                            cascade="all, delete-orphan", order_by="ConsortiumMessage.id")
    files = relationship("ConsortiumFile", back_populates="consortium",
                         cascade="all, delete-orphan", order_by="ConsortiumFile.id")

    def __init__(self, **kwargs):
        kwargs.setdefault("charter_version", 0)
        super().__init__(**kwargs)
        self.name = clean_text(self.name, "name", "a name for the team", required=True,
                               limit=200)

    @property
    def members(self):
        """Members who have not left, the lead first."""
        current = [m for m in self.all_members if m.left_at is None]
        return sorted(current, key=lambda m: (m.role != "lead", m.id or 0))

    def member_for(self, organisation_id):
        return next((m for m in self.members if m.organisation_id == organisation_id), None)

    def add_member(self, organisation_id, role, delivers=None):
        if role not in MEMBER_ROLES:
            raise DomainError("Choose lead, partner or sub-contractor", field="role")
        if self.member_for(organisation_id) is not None:
            raise DomainError("That organisation is already in the team")
        member = ConsortiumMember(organisation_id=organisation_id, role=role,
                                  delivers=clean_text(delivers, "delivers", "what it delivers"))
        self.all_members.append(member)
        return member

    # --- shares ------------------------------------------------------------------------------

    def set_shares(self, shares):
        """Set every member's work and value shares at once: {member id: (work, value)}. Each
        column adds up to 100% (or is left blank for all)."""
        members = {m.id: m for m in self.members}
        if set(shares) != set(members):
            raise DomainError("Give a share for every member of the team")
        for column, label in ((0, "work"), (1, "value")):
            given = [s[column] for s in shares.values()]
            for value in given:
                check_percent(value, f"{label}_share", f"A share of the {label}")
            if any(v is not None for v in given) and \
                    (None in given or sum(given) != 100):
                raise DomainError(f"The shares of the {label} must add up to 100% "
                                  f"(they add up to {sum(v or 0 for v in given):g}%)",
                                  field=f"{label}_share")
        for member_id, (work, value) in shares.items():
            members[member_id].work_share, members[member_id].value_share = work, value

    def set_member_roles(self, roles):
        """Make members partners or sub-contractors: {member id: role}. The lead stays lead
        (handing it over is a step of its own)."""
        members = {m.id: m for m in self.members}
        for member_id, role in roles.items():
            member = members.get(member_id)
            if member is None or member.role == "lead":
                raise DomainError("Change the role of members other than the lead only")
            if role not in ("partner", "subcontractor"):
                raise DomainError("Choose partner or sub-contractor",
                                  field=f"role_{member_id}")
        for member_id, role in roles.items():
            members[member_id].role = role

    def describe_members(self, delivers):
        """Say what each member delivers: {member id: text}, checked before any is set."""
        members = {m.id: m for m in self.members}
        if set(delivers) - set(members):
            raise DomainError("Describe members of the team only")
        cleaned = {member_id: clean_text(text, f"delivers_{member_id}", "what it delivers",
                                         limit=500) for member_id, text in delivers.items()}
        for member_id, text in cleaned.items():
            members[member_id].delivers = text

    def shares_state(self):
        """'unset', 'agreed' (both columns add up to 100) or 'incomplete'."""
        members = self.members
        work = [m.work_share for m in members]
        value = [m.value_share for m in members]
        if all(v is None for v in work + value):
            return "unset"
        if None not in work + value and sum(work) == 100 and sum(value) == 100:
            return "agreed"
        return "incomplete"

    # --- leadership --------------------------------------------------------------------------

    def hand_lead_to(self, organisation_id):
        new_lead = self.member_for(organisation_id)
        if new_lead is None:
            raise DomainError("Choose a member of the team", field="member")
        if new_lead.organisation_id == self.lead_organisation_id:
            raise DomainError("That organisation already leads the team", field="member")
        self.member_for(self.lead_organisation_id).role = "partner"
        new_lead.role, self.lead_organisation_id = "lead", organisation_id

    def leave(self, organisation_id):
        member = self.member_for(organisation_id)
        if member is None:
            raise DomainError("Your organisation is not in this team")
        if organisation_id == self.lead_organisation_id:
            raise DomainError("Hand the lead to another member before you leave")
        member.left_at = utcnow()
        # What the others agreed included the member who left: the shares are agreed again.
        for other in self.members:
            other.work_share = other.value_share = None
        return member

    # --- the fair-terms charter --------------------------------------------------------------

    def write_charter(self, *, payment_days, management_fee, risk_sharing, disputes):
        """A new version of the charter; every member must confirm it again."""
        if payment_days is None:
            raise DomainError("Enter the number of days within which members are paid",
                              field="payment_days")
        if not 1 <= payment_days <= MAX_PAYMENT_DAYS:
            raise DomainError(f"Days to pay must be between 1 and {MAX_PAYMENT_DAYS}",
                              field="payment_days")
        if management_fee is None:
            raise DomainError("Enter the management fee the lead keeps (0 if none)",
                              field="management_fee")
        check_percent(management_fee, "management_fee", "The management fee")
        risk_sharing = clean_text(risk_sharing, "risk_sharing",
                                  "how risk and penalties are shared", required=True)
        disputes = clean_text(disputes, "disputes", "how disputes are handled", required=True)
        self.risk_sharing, self.disputes = risk_sharing, disputes
        self.payment_days, self.management_fee = payment_days, management_fee
        self.charter_version += 1
        self.charter_updated_at = utcnow()

    @property
    def has_charter(self):
        return self.charter_version > 0

    @property
    def slow_payment(self):
        return self.payment_days is not None and self.payment_days > FAIR_PAYMENT_DAYS

    def waiting_to_confirm(self):
        return [m for m in self.members if not m.has_confirmed]

    @property
    def charter_state(self):
        """'none' (not written), 'waiting' (some members have not confirmed this version) or
        'agreed'."""
        if not self.has_charter:
            return "none"
        return "waiting" if self.waiting_to_confirm() else "agreed"


class ConsortiumMember(db.Model):
    __tablename__ = "consortium_member"
    __table_args__ = (UniqueConstraint("consortium_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consortium_id: Mapped[int] = mapped_column(
        ForeignKey("consortium.id", ondelete="CASCADE"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(15), nullable=False)
    delivers: Mapped[str | None] = mapped_column(Text)
    area_codes: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    work_share: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    value_share: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    joined_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    left_at: Mapped[datetime | None] = mapped_column(DateTime)
    confirmed_version: Mapped[int | None] = mapped_column(Integer)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    confirmed_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"))

    consortium = relationship("Consortium", back_populates="all_members")
    organisation = relationship("Organisation")
    confirmed_by = relationship("User")

    @property
    def role_label(self):
        return MEMBER_ROLES[self.role]

    @property
    def has_confirmed(self):
        return self.confirmed_version == self.consortium.charter_version

    def confirm_charter(self, user_id):
        if not self.consortium.has_charter:
            raise DomainError("The lead has not written the charter yet")
        if self.has_confirmed:
            raise DomainError("Your organisation has already confirmed this version")
        self.confirmed_version = self.consortium.charter_version
        self.confirmed_at, self.confirmed_by_user_id = utcnow(), user_id


class ConsortiumMessage(Message, db.Model):
    """A message on a consortium's thread; the other members are emailed."""

    __tablename__ = "consortium_message"

    consortium_id: Mapped[int] = mapped_column(
        ForeignKey("consortium.id", ondelete="CASCADE"), nullable=False, index=True)
    consortium = relationship("Consortium", back_populates="messages")


class ConsortiumFile(db.Model):
    """A file a member shares with the team (a draft method statement, a budget), checked and
    stored as accreditation evidence is; only members can download it."""

    __tablename__ = "consortium_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    consortium_id: Mapped[int] = mapped_column(
        ForeignKey("consortium.id", ondelete="CASCADE"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    stored_name: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    consortium = relationship("Consortium", back_populates="files")
    organisation = relationship("Organisation")

    @property
    def size_label(self):
        return f"{self.size / 1024:,.0f} KB" if self.size < 1024 * 1024 else \
            f"{self.size / (1024 * 1024):,.1f} MB"


class PartnerFit(db.Model):
    """A supplier the matching engine found fits an open role or a sub-contract package, with
    evidence about the service: what its dashboard suggests it take part in. Worked out when
    the role or package is posted or changed."""

    __tablename__ = "partner_fit"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    role_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner_role.id", ondelete="CASCADE"), index=True)
    package_id: Mapped[int | None] = mapped_column(
        ForeignKey("subcontract_package.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(db.Float, nullable=False)
    strength: Mapped[str] = mapped_column(String(10), nullable=False)
    reasons: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    role = relationship("PartnerRole")
    package = relationship("SubcontractPackage")


# --- Sub-contracting and fairness after award --------------------------------------------------

PACKAGE_STATES = {"open": "Open for responses", "awarded": "Sub-contract recorded",
                  "withdrawn": "Withdrawn"}
RESPONSE_STATES = {"submitted": "Submitted", "shortlisted": "Shortlisted",
                   "selected": "Selected", "not_selected": "Not selected"}
CONCERN_STATES = {"open": "Waiting for the commissioner", "answered": "Answered"}
MAX_POUNDS = 10**12


def check_dates(starts_on, ends_on):
    if starts_on and ends_on and ends_on < starts_on:
        raise DomainError("The end date must be on or after the start date", field="ends_on")


class SubcontractPackage(db.Model):
    """Part of an entry's work (or of an awarded contract's) that a prime or a consortium lead
    offers to sub-contractors: what is needed, where, its value and dates, the level
    recommended and how to respond."""

    __tablename__ = "subcontract_package"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    cpv_codes: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    area_codes: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    value: Mapped[int | None] = mapped_column(Integer)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date, nullable=False)
    recommended_tier: Mapped[int | None] = mapped_column(Integer)
    how_to_respond: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open", index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    opportunity = relationship("Opportunity")
    organisation = relationship("Organisation")
    responses = relationship("PackageResponse", back_populates="package",
                             cascade="all, delete-orphan", order_by="PackageResponse.id")

    def __init__(self, **kwargs):
        kwargs.setdefault("status", "open")
        fields = {k: kwargs.pop(k) for k in PACKAGE_FIELDS if k in kwargs}
        super().__init__(**kwargs)
        self.describe(**{k: fields.get(k) for k in PACKAGE_FIELDS})

    def describe(self, *, title, description, cpv_codes, area_codes, value, starts_on,
                 ends_on, closes_on, recommended_tier, how_to_respond, today=None):
        """Set what the package offers; a closing date must be today or later."""
        title = clean_text(title, "title", "a title", required=True, limit=200)
        description = clean_text(description, "description", "what is needed", required=True)
        how_to_respond = clean_text(how_to_respond, "how_to_respond", "how to respond")
        if value is not None and not 0 <= value <= MAX_POUNDS:
            raise DomainError("Enter a value of £0 or more", field="value")
        if closes_on is None:
            raise DomainError("Enter the closing date for responses", field="closes_on")
        if closes_on < (today or date.today()):
            raise DomainError("The closing date must be today or in the future",
                              field="closes_on")
        check_dates(starts_on, ends_on)
        if recommended_tier not in (None, 1, 2, 3):
            raise DomainError("Choose tier 1, 2 or 3, or no level", field="recommended_tier")
        # Only once everything has been checked, so a refusal changes nothing.
        self.title, self.description, self.how_to_respond = title, description, how_to_respond
        self.cpv_codes, self.area_codes = list(cpv_codes or []), list(area_codes or [])
        self.value, self.starts_on, self.ends_on = value, starts_on, ends_on
        self.closes_on, self.recommended_tier = closes_on, recommended_tier

    @property
    def status_label(self):
        if self.status == "open" and not self.is_open:
            return "Closed for responses"
        return PACKAGE_STATES[self.status]

    @property
    def is_open(self):
        return self.status == "open" and self.closes_on >= date.today()

    def withdraw(self):
        if self.status != "open":
            raise DomainError("Only an open package can be withdrawn")
        self.status = "withdrawn"

    def response_from(self, organisation_id):
        return next((r for r in self.responses if r.organisation_id == organisation_id), None)


PACKAGE_FIELDS = ("title", "description", "cpv_codes", "area_codes", "value", "starts_on",
                  "ends_on", "closes_on", "recommended_tier", "how_to_respond")


class PackageResponse(db.Model):
    """An organisation's expression of interest in a sub-contract package, and how the prime
    has treated it (shortlisted, selected, not selected)."""

    __tablename__ = "subcontract_response"
    __table_args__ = (UniqueConstraint("package_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(
        ForeignKey("subcontract_package.id", ondelete="CASCADE"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(15), nullable=False, default="submitted")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    package = relationship("SubcontractPackage", back_populates="responses")
    organisation = relationship("Organisation")

    MOVES = {"submitted": ("shortlisted", "not_selected"),
             "shortlisted": ("selected", "not_selected"), "selected": (), "not_selected": ()}

    def __init__(self, **kwargs):
        kwargs.setdefault("status", "submitted")
        super().__init__(**kwargs)
        self.note = clean_text(self.note, "note", "what you would offer", required=True)

    @property
    def status_label(self):
        return RESPONSE_STATES[self.status]

    def move_to(self, status):
        if status not in self.MOVES[self.status]:
            raise DomainError(f"A response that is {self.status_label.lower()} cannot be "
                              f"{RESPONSE_STATES.get(status, status).lower()}")
        self.status = status


class Subcontract(db.Model):
    """A sub-contract a prime has recorded: who, for what value and dates. It counts as the
    sub-contractor's track record, and its payments are reported against it."""

    __tablename__ = "subcontract"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True)
    package_id: Mapped[int | None] = mapped_column(
        ForeignKey("subcontract_package.id", ondelete="SET NULL"), index=True)
    prime_organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    value: Mapped[int | None] = mapped_column(Integer)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    opportunity = relationship("Opportunity")
    package = relationship("SubcontractPackage")
    prime = relationship("Organisation", foreign_keys=[prime_organisation_id])
    organisation = relationship("Organisation", foreign_keys=[organisation_id])

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.value is not None and not 0 <= self.value <= MAX_POUNDS:
            raise DomainError("Enter a value of £0 or more", field="value")
        check_dates(self.starts_on, self.ends_on)


class PaymentReport(db.Model):
    """A partner's or sub-contractor's report of how one invoice was paid by the prime: the
    dates, or simply whether it was paid within the agreed terms."""

    __tablename__ = "payment_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True)
    prime_organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    invoiced_on: Mapped[date | None] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)
    # When no dates are given: paid within the agreed terms (True) or late (False).
    within_terms: Mapped[bool | None] = mapped_column(db.Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    opportunity = relationship("Opportunity")
    prime = relationship("Organisation", foreign_keys=[prime_organisation_id])
    organisation = relationship("Organisation", foreign_keys=[organisation_id])

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.invoiced_on is None and self.within_terms is None:
            raise DomainError("Enter the invoice date, or say whether it was paid within "
                              "the agreed terms", field="invoiced_on")
        if self.paid_on and self.invoiced_on and self.paid_on < self.invoiced_on:
            raise DomainError("The payment date must be on or after the invoice date",
                              field="paid_on")
        if self.invoiced_on and self.invoiced_on > date.today():
            raise DomainError("The invoice date must be today or in the past",
                              field="invoiced_on")

    @property
    def days_to_pay(self):
        if self.invoiced_on is None or self.paid_on is None:
            return None
        return (self.paid_on - self.invoiced_on).days

    def paid_within(self, days, today=None):
        """True, False, or None when it cannot be told (no dates and no yes-or-no)."""
        if self.invoiced_on is None:  # a plain "within terms" or "late"
            if self.within_terms:
                return True
            return False if days <= FAIR_PAYMENT_DAYS else None
        if self.paid_on is not None:
            return self.days_to_pay <= days
        return False if ((today or date.today()) - self.invoiced_on).days > days else None


class Concern(db.Model):
    """A partner or sub-contractor telling the buyer how a prime has treated it, with its name
    withheld from the prime if it chooses; the buyer answers and records the outcome."""

    __tablename__ = "supply_chain_concern"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True)
    prime_organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    withhold_name: Mapped[bool] = mapped_column(db.Boolean, nullable=False, default=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    response: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    opportunity = relationship("Opportunity")
    prime = relationship("Organisation", foreign_keys=[prime_organisation_id])
    organisation = relationship("Organisation", foreign_keys=[organisation_id])

    def __init__(self, **kwargs):
        kwargs.setdefault("status", "open")
        kwargs.setdefault("withhold_name", False)
        super().__init__(**kwargs)
        self.body = clean_text(self.body, "body", "what happened", required=True, limit=4000)

    @property
    def status_label(self):
        return CONCERN_STATES[self.status]

    def answer(self, user_id, response, outcome):
        response = clean_text(response, "response", "your response", required=True, limit=4000)
        outcome = clean_text(outcome, "outcome", "the outcome", required=True)
        self.response, self.outcome = response, outcome
        self.status, self.answered_at, self.answered_by_user_id = "answered", utcnow(), user_id
