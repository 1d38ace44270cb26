"""The index change log: which searchable document (by type and key) each commit altered.

Every host keeps search indexes of its own on local disk; the database is the one source of
truth. So that a change made through one host reaches every host's indexes, the change
dispatcher (portal.core.changes) writes one row per changed document into `index_changes` just
before each commit, in the transaction that makes the change: the row commits with the change or not at
all, and a crash after the commit cannot lose it. Each host follows the log from a cursor of its
own (portal.search.follow). Rows are only added, never changed; `prune` deletes the old ones.
"""
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, delete, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.mixins import utcnow
from portal.extensions import db


class IndexChange(db.Model):
    __tablename__ = "index_changes"
    # The newest change to one type of document is a version of what is worked out from them
    # (the forward plan's filter counts: pipeline/queries.py).
    __table_args__ = (Index("ix_index_changes_type_newest", "document_type", "id"),)

    # bigserial on PostgreSQL; SQLite's rowid (an INTEGER primary key) elsewhere.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    document_type: Mapped[str] = mapped_column(String(40), nullable=False)
    key: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)


def record(session, changed):
    """Add a row for each (document type, key) in `changed`, on the session's connection (so
    in its transaction). Core rather than the ORM: it runs while the session commits."""
    if changed:
        now = utcnow()
        session.connection().execute(insert(IndexChange.__table__), [
            {"document_type": kind, "key": key, "created_at": now} for kind, key in changed])


def prune(session, days):
    """Delete changes older than `days` days, keeping the newest row whatever its age; returns
    how many went. A host whose cursor is older than that rebuilds its indexes instead."""
    newest = session.scalar(select(db.func.max(IndexChange.id)))
    cutoff = utcnow() - timedelta(days=days)
    result = session.execute(delete(IndexChange).where(IndexChange.created_at < cutoff,
                                                       IndexChange.id != newest))
    return result.rowcount or 0
