"""What the health check reports: whether the database answers and both search indexes can be
read."""
from sqlalchemy import text

from portal.extensions import db
from portal.search import services as search_services


def database_health():
    """The database's status: "ok" and its dialect when it answers a query; otherwise "error"
    and the kind of failure (never its message, which can hold connection details)."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # report, do not raise: this is the health check
        return {"status": "error", "detail": error.__class__.__name__}
    return {"status": "ok", "dialect": db.engine.dialect.name}


def health():
    """(checks by name, all healthy?) for the database and each search index; an index being
    rebuilt is not healthy."""
    checks = {"database": database_health(), **search_services.health()}
    return checks, all(check["status"] == "ok" for check in checks.values())
