"""Outgoing email through a transactional outbox.

`send_email` adds a message to the outbox table in the caller's transaction, so an email exists
exactly when the change that caused it is committed. With SMTP configured the message is queued
and handed to the mail server after the commit; `flask mail flush` retries anything still queued
(after a crash, say). Without SMTP the outbox is where mail stays: site admins can read it.
"""
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, render_template
from sqlalchemy import JSON, DateTime, Integer, String, Text, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.core.mixins import utcnow
from portal.extensions import db

_QUEUED_KEY = "mail_queued"


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    transport: Mapped[str] = mapped_column(String(10), nullable=False, default="outbox")
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="stored", index=True)
    headers: Mapped[dict | None] = mapped_column(JSON)
    message_id: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


def send_email(recipient, subject, template, headers=None, **context):
    """Render `template` (plain text) and put the message in the outbox with the current change."""
    body = render_template(template, **context)
    smtp = bool(current_app.config["MAIL_SERVER"])
    message = OutboxMessage(recipient=recipient, subject=subject, body=body, headers=headers or None,
                            transport="smtp" if smtp else "outbox",
                            status="queued" if smtp else "stored",
                            message_id=make_msgid(domain="pathfinder"))
    db.session.add(message)
    if smtp:
        db.session.info.setdefault(_QUEUED_KEY, []).append(message)
    else:
        # Not the address nor the body: logs are kept longer and read more widely than the
        # outbox, and a body may hold a sign-in or password reset link.
        current_app.logger.info("Email kept in the outbox (no mail server): %s", subject)
    return message


def _after_commit(session):
    queued = session.info.pop(_QUEUED_KEY, None)
    if queued:
        try:
            app = current_app._get_current_object()
        except RuntimeError:
            return
        dispatch([m.id for m in queued], app)


def _after_rollback(session):
    session.info.pop(_QUEUED_KEY, None)


def dispatch(message_ids, app=None):
    """Hand queued messages to the SMTP server, each in its own small transaction."""
    app = app or current_app._get_current_object()
    sent = 0
    with db.engine.connect() as connection:
        session = Session(bind=connection)
        for message_id in message_ids:
            message = session.get(OutboxMessage, message_id)
            if message is None or message.status != "queued":
                continue
            message.attempts += 1
            try:
                _send_smtp(app.config, message)
            except (OSError, smtplib.SMTPException):
                app.logger.exception("Could not send email %s; it stays queued", message.id)
                message.status = "failed" if message.attempts >= 5 else "queued"
            else:
                message.status, message.sent_at = "sent", utcnow()
                sent += 1
            session.commit()
        session.close()
    return sent


def flush(older_than_seconds=60):
    """Retry messages still queued (for example after a crash between commit and sending)."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    ids = db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.status == "queued", OutboxMessage.created_at <= cutoff)).all()
    return dispatch(ids)


def _send_smtp(config, message):
    msg = EmailMessage()
    msg["From"] = config["MAIL_DEFAULT_SENDER"]
    msg["To"] = message.recipient
    msg["Subject"] = message.subject
    msg["Message-ID"] = message.message_id  # the same id on a retry lets mail systems drop a repeat
    for name, value in (message.headers or {}).items():
        msg[name] = value
    msg.set_content(message.body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(msg)


def init_app(app):
    if not getattr(init_app, "_listening", False):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
        init_app._listening = True
