"""Use cases for API tokens: an organisation admin issues and revokes them, and a request
presenting one is told whose it is."""
from datetime import timedelta

from sqlalchemy import select

from portal.accounts.services import require_org_admin
from portal.api.models import ApiToken, hash_api_token
from portal.core.audit import record
from portal.core.exceptions import NotFound
from portal.core.mixins import utcnow
from portal.extensions import db

# A token's last use is kept to within this much: a request writes it only when the time
# recorded is older, so a busy client does not cost a write (and a commit) per request.
LAST_USE_PRECISION = timedelta(minutes=5)


def list_tokens(admin):
    return db.session.scalars(select(ApiToken).where(ApiToken.organisation_id == admin.organisation_id)
                              .order_by(ApiToken.created_at.desc())).all()


def issue_token(admin, name):
    """Create a token for the admin's organisation; returns (row, plain token shown once)."""
    require_org_admin(admin, "create API tokens")
    row, token = ApiToken.issue(admin.organisation, name, admin)
    db.session.add(row)
    db.session.flush()
    record("api.token_issued", row, name=row.name)
    db.session.commit()
    return row, token


def revoke_token(admin, token_id):
    row = db.session.get(ApiToken, token_id)
    if row is None or row.organisation_id != admin.organisation_id:
        raise NotFound("Not found")
    require_org_admin(admin, "revoke API tokens")
    row.revoke()
    record("api.token_revoked", row)
    db.session.commit()


def token_in_use(plain):
    """The token `plain` names when it may be used (not revoked, its organisation active), or
    None. Notes the time of use when the one recorded is older than LAST_USE_PRECISION."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_api_token(plain)))
    if row is None or not row.is_active or row.organisation.status != "active":
        return None
    _note_use(row, utcnow())
    return row


def _note_use(row, now):
    if row.last_used_at is None or now - row.last_used_at >= LAST_USE_PRECISION:
        row.last_used_at = now
        db.session.commit()
