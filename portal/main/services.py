"""What the health check reports: whether the database answers and both search indexes can be
read (these decide the status), and how far behind the work done after a request is: email
waiting for the mail server and stored matches waiting to follow a change."""
from sqlalchemy import func, select, text

from portal.core.mail import OutboxMessage
from portal.core.mixins import utcnow
from portal.extensions import db
from portal.matching.models import MatchRefresh, SupplierRefresh
from portal.search import services as search_services


def database_health():
    """The database's status: "ok" and its dialect when it answers a query; otherwise "error"
    and the kind of failure (never its message, which can hold connection details)."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # report, do not raise: this is the health check
        db.session.rollback()
        return {"status": "error", "detail": error.__class__.__name__}
    return {"status": "ok", "dialect": db.engine.dialect.name}


def _age_seconds(moment):
    return None if moment is None else max(0, round((utcnow() - moment).total_seconds()))


def mail_backlog():
    """Email handed to no mail server yet: how many, and how long the oldest has waited."""
    queued = OutboxMessage.status == "queued"
    count, oldest = db.session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(queued)).one()
    failed = db.session.scalar(select(func.count()).where(OutboxMessage.status == "failed"))
    return {"status": "ok", "queued": count, "oldest_queued_seconds": _age_seconds(oldest),
            "failed": failed}


def matching_backlog():
    """Stored matches not yet following a change: suppliers waiting (with the oldest's wait)
    and forward-plan entries marked stale, for the worker or `flask matching refresh --stale`."""
    count, oldest = db.session.execute(
        select(func.count(), func.min(SupplierRefresh.requested_at))).one()
    stale = db.session.scalar(select(func.count()).where(MatchRefresh.stale.is_(True)))
    return {"status": "ok", "suppliers_waiting": count,
            "oldest_waiting_seconds": _age_seconds(oldest), "entries_stale": stale}


def health():
    """(checks by name, healthy?). Healthy means the database answers and neither index is
    missing or being rebuilt; a backlog is reported but does not make the portal unhealthy."""
    checks = {"database": database_health(), **search_services.health()}
    healthy = all(check["status"] == "ok" for check in checks.values())
    if checks["database"]["status"] == "ok":
        checks.update(mail_outbox=mail_backlog(), matching_backlog=matching_backlog())
    else:
        checks.update(mail_outbox={"status": "unknown"}, matching_backlog={"status": "unknown"})
    return checks, healthy
