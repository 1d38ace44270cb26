"""`flask retention apply` deletes personal data kept past its period (docs/operations.md):
accounts never confirmed, old unaccepted invitations, old email, and old audit events' IP
addresses; it keeps everything younger, and records what it did in one audit event."""
from datetime import timedelta

from sqlalchemy import select

from portal.accounts.models import Invitation, User
from portal.core.audit import AuditEvent
from portal.core.mail import OutboxMessage
from portal.core.mixins import utcnow
from portal.extensions import db as _db

DAY = timedelta(days=1)


def _ago(days):
    return utcnow() - days * DAY


def _invitation(org, email, expires_days_ago, **fields):
    invitation, _token = Invitation.issue(org, email, "member", None, 60)
    invitation.expires_at = _ago(expires_days_ago)
    for name, value in fields.items():
        setattr(invitation, name, value)
    _db.session.add(invitation)
    return invitation


def _message(recipient, status, created_days_ago, sent_days_ago=None):
    message = OutboxMessage(recipient=recipient, subject="Hello", body="Hi", status=status,
                            created_at=_ago(created_days_ago),
                            sent_at=_ago(sent_days_ago) if sent_days_ago is not None else None)
    _db.session.add(message)
    return message


def _world(make_org, make_user):
    org = make_org("Riverside Advice")
    people = {
        "old_unverified": make_user(org, email="old@example.org", verified=False),
        "new_unverified": make_user(org, email="new@example.org", verified=False),
        "old_verified": make_user(org, email="kept@example.org"),
        "old_admin": make_user(None, email="admin@example.org", verified=False, site_admin=True),
    }
    for key in ("old_unverified", "old_verified", "old_admin"):
        people[key].created_at = _ago(31)
    people["new_unverified"].created_at = _ago(29)
    _invitation(org, "expired-long-ago@example.org", 91)
    _invitation(org, "expired-lately@example.org", 89)
    _invitation(org, "revoked-long-ago@example.org", -5, revoked_at=_ago(91))
    _invitation(org, "accepted@example.org", 200, accepted_at=_ago(210))
    _message("sent-long-ago@example.org", "sent", 100, sent_days_ago=91)
    _message("sent-lately@example.org", "sent", 100, sent_days_ago=89)
    _message("stored-long-ago@example.org", "stored", 91)
    _message("failed-long-ago@example.org", "failed", 91)
    _message("still-queued@example.org", "queued", 200)
    _db.session.add_all([
        AuditEvent(action="account.signed_in", ip_address="192.0.2.1", occurred_at=_ago(366)),
        AuditEvent(action="account.signed_in", ip_address="192.0.2.2", occurred_at=_ago(364))])
    _db.session.commit()
    return people


def _run(app):
    result = app.test_cli_runner().invoke(args=["retention", "apply"])
    assert result.exit_code == 0, result.output
    return result.output


def test_retention_deletes_what_is_past_its_period_and_keeps_the_rest(app, db, make_org,
                                                                      make_user):
    people = _world(make_org, make_user)
    ids = {key: user.id for key, user in people.items()}
    output = _run(app)
    db.session.expire_all()
    assert "unverified_accounts_deleted: 1" in output and "emails_deleted: 3" in output
    assert db.session.get(User, ids["old_unverified"]) is None
    assert all(db.session.get(User, ids[key]) for key in ("new_unverified", "old_verified",
                                                          "old_admin"))
    assert sorted(db.session.scalars(select(Invitation.email))) == [
        "accepted@example.org", "expired-lately@example.org"]
    assert sorted(db.session.scalars(select(OutboxMessage.recipient))) == [
        "sent-lately@example.org", "still-queued@example.org"]
    addresses = db.session.execute(select(AuditEvent.action, AuditEvent.ip_address)
                                   .where(AuditEvent.action == "account.signed_in")).all()
    assert sorted(address for _action, address in addresses if address) == ["192.0.2.2"]
    assert len(addresses) == 2  # the events themselves stay


def test_retention_is_audited_with_its_counts_and_safe_to_repeat(app, db, make_org, make_user):
    _world(make_org, make_user)
    _run(app)
    second = _run(app)
    assert all(line.endswith(": 0") for line in second.strip().splitlines())
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.applied")
                                .order_by(AuditEvent.id)).all()
    assert [event.details for event in events] == [
        {"unverified_accounts_deleted": 1, "invitations_deleted": 2, "emails_deleted": 3,
         "audit_ip_addresses_removed": 1},
        {"unverified_accounts_deleted": 0, "invitations_deleted": 0, "emails_deleted": 0,
         "audit_ip_addresses_removed": 0}]


def test_retention_periods_are_settings(app, db, make_org, make_user, monkeypatch):
    _world(make_org, make_user)
    monkeypatch.setitem(app.config, "RETENTION_UNVERIFIED_ACCOUNT_DAYS", 10)
    monkeypatch.setitem(app.config, "RETENTION_MAIL_DAYS", 1000)
    output = _run(app)
    assert "unverified_accounts_deleted: 2" in output and "emails_deleted: 0" in output
