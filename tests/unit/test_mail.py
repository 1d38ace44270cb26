"""The mail outbox: SMTP only after commit, nothing on rollback, retries by `flush`."""
import smtplib

import pytest
from sqlalchemy import select

from portal.core import mail
from portal.core.mail import OutboxMessage


class FakeSMTP:
    sent = []
    fail = False

    def __init__(self, host, port, timeout):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        pass

    def login(self, *args):
        pass

    def send_message(self, message):
        if FakeSMTP.fail:
            raise smtplib.SMTPServerDisconnected("down")
        FakeSMTP.sent.append(message)


@pytest.fixture
def smtp(app, monkeypatch):
    FakeSMTP.sent, FakeSMTP.fail = [], False
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example")
    return FakeSMTP


def _send(app, db, commit=True):
    with app.test_request_context():
        mail.send_email("to@example.org", "Hello", "email/verify.txt",
                        user=type("U", (), {"name": "Ann"})(), url="http://x")
        if commit:
            db.session.commit()
        else:
            db.session.rollback()


def test_sent_after_commit(app, db, smtp):
    _send(app, db)
    assert len(smtp.sent) == 1 and smtp.sent[0]["Message-ID"]
    assert db.session.scalar(select(OutboxMessage.status)) == "sent"


def test_nothing_sent_on_rollback(app, db, smtp):
    _send(app, db, commit=False)
    assert smtp.sent == [] and db.session.scalar(select(OutboxMessage.id)) is None


def test_failed_send_stays_queued_and_flush_retries(app, db, smtp):
    smtp.fail = True
    _send(app, db)
    assert db.session.scalar(select(OutboxMessage.status)) == "queued"
    smtp.fail = False
    assert mail.flush(older_than_seconds=0) == 1
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMessage.status)) == "sent"
    assert mail.flush(older_than_seconds=0) == 0


def test_without_smtp_mail_stays_in_outbox(app, db):
    _send(app, db)
    message = db.session.scalar(select(OutboxMessage))
    assert (message.transport, message.status) == ("outbox", "stored")
