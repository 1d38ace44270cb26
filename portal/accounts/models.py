"""People who sign in, and invitations to join an organisation."""
import hashlib
import secrets
from datetime import datetime, timedelta

from flask_login import UserMixin
from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.core.exceptions import DomainError
from portal.core.mixins import TimestampMixin, utcnow
from portal.extensions import db

ORG_ROLES = ("admin", "member")
USER_STATUSES = ("active", "suspended")


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True
    )
    org_role: Mapped[str] = mapped_column(String(10), default="member", nullable=False)
    is_site_admin: Mapped[bool] = mapped_column(default=False, nullable=False)
    status: Mapped[str] = mapped_column(String(10), default="active", nullable=False)
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime)
    session_version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    # Two-step sign-in: the authenticator secret is stored sealed (portal/accounts/totp.py) and
    # the last time step used, so that no code is accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    mfa_enabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set when an administrator resets a lost device: the person sets it up again to continue.
    mfa_reset_at: Mapped[datetime | None] = mapped_column(DateTime)

    organisation = relationship("Organisation", back_populates="members",
                                foreign_keys=[organisation_id])
    recovery_codes = relationship("RecoveryCode", back_populates="user",
                                  cascade="all, delete-orphan")

    def set_password(self, password):
        self.password_hash = generate_password_hash(password)
        # Changing the password signs out every other session.
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    def get_id(self):
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self):
        return self.status == "active" and (
            self.organisation is None or self.organisation.status == "active"
        )

    @property
    def is_verified(self):
        return self.email_verified_at is not None

    @property
    def is_org_admin(self):
        return self.organisation_id is not None and self.org_role == "admin"

    def set_role(self, role):
        if role not in ORG_ROLES:
            raise DomainError("Choose admin or member", field="role")
        self.org_role = role

    def set_status(self, status):
        if status not in USER_STATUSES:
            raise DomainError("Unknown account status")
        self.status = status
        self.session_version += 1

    @property
    def mfa_enabled(self):
        return self.mfa_enabled_at is not None

    @property
    def in_mfa_role(self):
        """Roles that must use two-step sign-in: site admins, everyone at an accreditation body
        (its members assess, its admins form the board) and a buyer's admins."""
        if self.is_site_admin:
            return True
        org_type = self.organisation.org_type if self.organisation else None
        return org_type == "accreditation_body" or (org_type == "commissioner"
                                                     and self.org_role == "admin")

    def turn_on_mfa(self, sealed_secret, step, recovery_codes):
        if self.mfa_enabled:
            raise DomainError("Two-step sign-in is already on")
        self.totp_secret, self.totp_last_step = sealed_secret, step
        self.mfa_enabled_at, self.mfa_reset_at = utcnow(), None
        self.set_recovery_codes(recovery_codes)

    def set_recovery_codes(self, codes):
        """Replace every recovery code (used or not) with hashes of `codes`."""
        self.recovery_codes = [RecoveryCode.for_code(code) for code in codes]

    def turn_off_mfa(self):
        self.totp_secret = self.totp_last_step = self.mfa_enabled_at = None
        self.recovery_codes = []

    def reset_mfa(self):
        """A lost device: two-step sign-in is cleared, must be set up again, and every session
        ends (the device may still be signed in)."""
        self.turn_off_mfa()
        self.mfa_reset_at = utcnow()
        self.session_version += 1

    @property
    def unused_recovery_codes(self):
        return [code for code in self.recovery_codes if code.used_at is None]


class RecoveryCode(db.Model):
    """A single-use code for signing in without the authenticator; stored as a password hash."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                         nullable=False, index=True)
    code_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user = relationship("User", back_populates="recovery_codes")

    @classmethod
    def for_code(cls, code):
        return cls(code_hash=generate_password_hash(code))

    def matches(self, code):
        return self.used_at is None and check_password_hash(self.code_hash, code)


def hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(TimestampMixin, db.Model):
    """An invitation for a colleague to join an organisation; only the token's hash is stored."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True
    )
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    role: Mapped[str] = mapped_column(String(10), default="member", nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    organisation = relationship("Organisation")
    invited_by = relationship("User")

    @classmethod
    def issue(cls, organisation, email, role, invited_by, max_age_seconds):
        """Create an invitation and return it with the plain token (sent once, never stored)."""
        if role not in ORG_ROLES:
            raise DomainError("Choose admin or member", field="role")
        token = secrets.token_urlsafe(32)
        invitation = cls(
            organisation=organisation, email=email, role=role, invited_by=invited_by,
            token_hash=hash_token(token),
            expires_at=utcnow() + timedelta(seconds=max_age_seconds),
        )
        return invitation, token

    @property
    def is_open(self):
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > utcnow()

    def accept(self):
        if not self.is_open:
            raise DomainError("This invitation has expired or has already been used")
        self.accepted_at = utcnow()
