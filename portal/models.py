"""Imports every model module so the metadata is complete (for Alembic and tests)."""
from portal.accounts.models import Invitation, User  # noqa: F401
from portal.core.audit import AuditEvent  # noqa: F401
from portal.core.mail import OutboxMessage  # noqa: F401
from portal.organisations.models import Credential, Organisation, PastWork  # noqa: F401
from portal.reference.models import Area, CpvCode, VocabularyTerm  # noqa: F401
