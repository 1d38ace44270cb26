"""Append-only audit trail. `record()` adds an event to the current transaction."""
from datetime import datetime

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.mixins import utcnow
from portal.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    ip_address: Mapped[str | None] = mapped_column(String(64))


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(mapper, connection, target):
    raise RuntimeError("Audit events are append-only")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise RuntimeError("Audit events are append-only")


def _current_actor_id():
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return current_user.id
    return None


def record(action, obj=None, *, actor_id=None, organisation_id=None, **details):
    """Add an audit event for `action` on `obj` to the session (committed with the change)."""
    if organisation_id is None and obj is not None:
        organisation_id = getattr(obj, "organisation_id", None)
        if organisation_id is None and type(obj).__name__ == "Organisation":
            organisation_id = obj.id
    event_row = AuditEvent(
        actor_id=actor_id if actor_id is not None else _current_actor_id(),
        organisation_id=organisation_id,
        action=action,
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=getattr(obj, "id", None),
        details=details,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event_row)
    return event_row
