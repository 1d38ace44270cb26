"""Read models for site administrators (people, organisations, the outbox and the audit
trail) and the check of who a buyer or accreditation body is."""
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal.accounts.models import User
from portal.core.audit import AuditEvent, record
from portal.core.exceptions import NotFound
from portal.core.mail import OutboxMessage, send_email
from portal.extensions import db
from portal.organisations.models import TYPES_NEEDING_VERIFICATION, Organisation


def _like(text):
    return f"%{text.strip().lower()}%"


def list_users(q="", page=1, per_page=50):
    """A page of people, newest first, with their organisations (one query for the page)."""
    query = select(User).order_by(User.created_at.desc(), User.id.desc()).options(
        selectinload(User.organisation))
    if q:
        query = query.where(or_(db.func.lower(User.email).like(_like(q)),
                                db.func.lower(User.name).like(_like(q))))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def list_organisations(q="", status="", page=1, per_page=50):
    """A page of organisations by name, each with its members (the page counts them: one query
    for the page rather than one per organisation)."""
    query = select(Organisation).order_by(Organisation.name).options(
        selectinload(Organisation.members).load_only(User.id))
    if q:
        query = query.where(db.func.lower(Organisation.name).like(_like(q)))
    if status:
        query = query.where(Organisation.status == status)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def list_outbox(page=1, per_page=50):
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def outbox_message(message_id):
    return db.get_or_404(OutboxMessage, message_id)


def list_audit(action="", page=1, per_page=50):
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action.like(f"{action}%"))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


# --- Verifying buyers and accreditation bodies --------------------------------------------------

def waiting_for_verification(page=1, per_page=50):
    """Buyers and accreditation bodies with people signed up that nobody has verified yet,
    longest waiting first. (One made from an imported notice has nobody who could act.)"""
    query = (select(Organisation)
             .where(Organisation.org_type.in_(TYPES_NEEDING_VERIFICATION),
                    Organisation.verified_at.is_(None), Organisation.status == "active",
                    Organisation.members.any())
             .order_by(Organisation.created_at, Organisation.id)
             .options(selectinload(Organisation.members).load_only(User.id)))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def organisation_to_verify(org_id):
    org = db.session.get(Organisation, org_id)
    if org is None or org.org_type not in TYPES_NEEDING_VERIFICATION:
        raise NotFound("Organisation not found")
    return org


def verify_organisation(admin, org_id, basis, note):
    """A site administrator records that they checked who the organisation is, on what basis
    and what they found. Its administrators are told by email."""
    if not admin.is_site_admin:
        raise NotFound("Not found")
    org = organisation_to_verify(org_id)
    org.verify(admin, basis, note)
    record("admin.organisation_verified", org, basis=basis, note=org.verification_note)
    for email in _admin_emails(org):
        send_email(email, f"{org.name} has been verified on Pathfinder"[:200],
                   "email/organisation_verified.txt", organisation=org)
    db.session.commit()
    return org


def _admin_emails(org):
    return db.session.scalars(select(User.email).where(
        User.organisation_id == org.id, User.org_role == "admin", User.status == "active",
        User.email_verified_at.is_not(None)).order_by(User.id)).all()
