"""Personal data is kept no longer than it is needed: the periods are settings (RETENTION_*
in config.py) and docs/operations.md gives the reasons. `flask retention apply` runs `apply`,
daily from the scheduler."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, delete, or_, select, update

from portal.accounts.models import Invitation, User
from portal.core.audit import AuditEvent, record
from portal.core.mail import OutboxMessage
from portal.core.mixins import utcnow
from portal.extensions import db


def apply():
    """Delete accounts whose email address was never confirmed, invitations long expired or
    revoked and email long sent, and forget the IP address of old audit events. One audit
    event records the counts, which are returned by name."""
    counts = {
        "unverified_accounts_deleted": _delete_unverified_accounts(),
        "invitations_deleted": _delete_invitations(),
        "emails_deleted": _delete_emails(),
        "audit_ip_addresses_removed": _forget_audit_addresses(),
    }
    record("retention.applied", None, **counts)
    db.session.commit()
    return counts


def _cutoff(setting):
    return utcnow() - timedelta(days=current_app.config[setting])


def _delete_unverified_accounts():
    """Self-registered accounts never confirmed. Each is deleted as a person deleting their
    own account is, so what refers to it is removed or let go alike; the organisation it
    registered stays (it is a public body's or a charity's, not the person's)."""
    users = db.session.scalars(select(User).where(
        User.email_verified_at.is_(None), User.is_site_admin.is_(False),
        User.created_at < _cutoff("RETENTION_UNVERIFIED_ACCOUNT_DAYS"))).all()
    for user in users:
        db.session.delete(user)
    db.session.flush()
    return len(users)


def _delete_invitations():
    """Invitations nobody accepted, expired or revoked long enough ago: each holds the email
    address of someone who never joined."""
    cutoff = _cutoff("RETENTION_INVITATION_DAYS")
    finished = or_(Invitation.expires_at < cutoff, Invitation.revoked_at < cutoff)
    return _bulk(delete(Invitation).where(Invitation.accepted_at.is_(None), finished))


def _delete_emails():
    """Messages sent, or kept in the outbox without a mail server, or given up on, long
    enough ago; one still queued for the mail server stays."""
    cutoff = _cutoff("RETENTION_MAIL_DAYS")
    sent = and_(OutboxMessage.status == "sent", OutboxMessage.sent_at < cutoff)
    never_going = and_(OutboxMessage.status.in_(("stored", "failed")),
                       OutboxMessage.created_at < cutoff)
    return _bulk(delete(OutboxMessage).where(or_(sent, never_going)))


def _forget_audit_addresses():
    """The audit trail keeps what happened, by whom, for good; the address a request came
    from is personal data with a shorter period. Emptying that one column is the only change
    ever made to an event (a bulk statement, which the guard on single events does not see)."""
    old = and_(AuditEvent.occurred_at < _cutoff("RETENTION_AUDIT_IP_DAYS"),
               AuditEvent.ip_address.is_not(None))
    return _bulk(update(AuditEvent).where(old).values(ip_address=None))


def _bulk(statement):
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    return result.rowcount
