"""Read models for site administrators: people, organisations, the outbox and the audit trail."""
from sqlalchemy import or_, select

from portal.accounts.models import User
from portal.core.audit import AuditEvent
from portal.core.mail import OutboxMessage
from portal.extensions import db
from portal.organisations.models import Organisation


def _like(text):
    return f"%{text.strip().lower()}%"


def list_users(q="", page=1, per_page=50):
    query = select(User).order_by(User.created_at.desc(), User.id.desc())
    if q:
        query = query.where(or_(db.func.lower(User.email).like(_like(q)),
                                db.func.lower(User.name).like(_like(q))))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def list_organisations(q="", status="", page=1, per_page=50):
    query = select(Organisation).order_by(Organisation.name)
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
