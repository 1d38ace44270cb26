"""Outgoing email: SMTP when configured, otherwise kept in the outbox table for a site admin."""
import smtplib
from datetime import datetime
from email.message import EmailMessage

from flask import current_app, render_template
from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.mixins import utcnow
from portal.extensions import db


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    transport: Mapped[str] = mapped_column(String(10), nullable=False, default="outbox")


def send_email(recipient, subject, template, **context):
    """Render `template` (plain text) and deliver it. Always leaves a copy in the outbox table.

    The copy is added to the current session, so it is committed with the change that caused it.
    """
    body = render_template(template, **context)
    transport = "smtp" if current_app.config["MAIL_SERVER"] else "outbox"
    message = OutboxMessage(recipient=recipient, subject=subject, body=body, transport=transport)
    db.session.add(message)
    if transport == "smtp":
        _send_smtp(recipient, subject, body)
    else:
        current_app.logger.info("Email to %s: %s\n%s", recipient, subject, body)
    return message


def _send_smtp(recipient, subject, body):
    config = current_app.config
    msg = EmailMessage()
    msg["From"] = config["MAIL_DEFAULT_SENDER"]
    msg["To"] = recipient
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(msg)
