"""API tokens: an organisation's machine access to the API. Only a hash of the token is stored."""
import hashlib
import secrets
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.exceptions import DomainError
from portal.core.mixins import TimestampMixin, utcnow
from portal.extensions import db

TOKEN_PREFIX = "pf_"


def hash_api_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(TimestampMixin, db.Model):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    hint: Mapped[str] = mapped_column(String(12), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    organisation = relationship("Organisation")
    created_by = relationship("User")

    @classmethod
    def issue(cls, organisation, name, created_by):
        """Create a token; the plain value is returned once and never stored."""
        name = (name or "").strip()
        if not name:
            raise DomainError("Enter a name for the token", field="name")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = cls(organisation=organisation, name=name[:80], created_by=created_by,
                  token_hash=hash_api_token(token), hint=token[-4:])
        return row, token

    @property
    def is_active(self):
        return self.revoked_at is None

    def revoke(self):
        if self.revoked_at is None:
            self.revoked_at = utcnow()
