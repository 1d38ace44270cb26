"""Factories for test data, committed through the real session."""
import itertools

from portal.accounts.models import User
from portal.core.mixins import utcnow
from portal.extensions import db
from portal.organisations.models import Organisation

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


def make_org(name=None, org_type="vcse", legal_form=None, commit=True, verified=True, **fields):
    """An organisation. A buyer or accreditation body is verified unless `verified=False`."""
    legal_form = legal_form or {"vcse": "registered_charity", "commissioner": "council",
                                "prime": "private_company",
                                "accreditation_body": "infrastructure_body"}[org_type]
    org = Organisation(name=name or f"Organisation {next(_seq)}", **fields)
    org.set_type(org_type, legal_form)
    if verified and org.needs_verification:
        org.verify(None, "other", "Verified by the test factory")
    db.session.add(org)
    if commit:
        db.session.commit()
    return org


def make_user(org=None, email=None, role="admin", verified=True, site_admin=False,
              password=PASSWORD, name="Test Person", commit=True):
    user = User(email=email or f"person{next(_seq)}@example.org", name=name,
                organisation=org, org_role=role, is_site_admin=site_admin,
                email_verified_at=utcnow() if verified else None)
    user.set_password(password)
    db.session.add(user)
    if commit:
        db.session.commit()
    return user
