"""Use cases for API tokens: an organisation admin issues and revokes them."""
from sqlalchemy import select

from portal.api.models import ApiToken
from portal.core.audit import record
from portal.core.exceptions import NotFound
from portal.extensions import db


def list_tokens(admin):
    return db.session.scalars(select(ApiToken).where(ApiToken.organisation_id == admin.organisation_id)
                              .order_by(ApiToken.created_at.desc())).all()


def issue_token(admin, name):
    """Create a token for the admin's organisation; returns (row, plain token shown once)."""
    if not admin.is_org_admin:
        raise NotFound("Not found")
    row, token = ApiToken.issue(admin.organisation, name, admin)
    db.session.add(row)
    db.session.flush()
    record("api.token_issued", row, name=row.name)
    db.session.commit()
    return row, token


def revoke_token(admin, token_id):
    row = db.session.get(ApiToken, token_id)
    if not admin.is_org_admin or row is None or row.organisation_id != admin.organisation_id:
        raise NotFound("Not found")
    row.revoke()
    record("api.token_revoked", row)
    db.session.commit()
