"""Locks that keep two runs of one batch job apart, across processes and hosts.

Cron may start `flask alerts send` again while the last run is still going, and an operator may
run a job by hand at the same moment: two runs at once would send the same email twice or do
the same work twice. On PostgreSQL the lock is an advisory lock held by a connection of its
own, so it is shared by every host using the database and is let go if the process dies. On
SQLite (one host) it is a file lock beside the database file.
"""
import fcntl
import hashlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select

from portal.extensions import db


def _key(name):
    """A stable signed 64-bit number for `name` (advisory locks are keyed by number)."""
    return int.from_bytes(hashlib.sha256(f"pathfinder:{name}".encode()).digest()[:8], "big",
                          signed=True)


@contextmanager
def _advisory_lock(name):
    with db.engine.connect() as connection:
        key = _key(name)
        held = connection.execute(select(func.pg_try_advisory_lock(key))).scalar()
        connection.commit()
        try:
            yield bool(held)
        finally:
            if held:
                connection.execute(select(func.pg_advisory_unlock(key)))
                connection.commit()


def _lock_path(name):
    database = db.engine.url.database
    folder = Path(database).parent if database and database != ":memory:" else Path(
        tempfile.gettempdir())
    return folder / f".{name}.lock"


@contextmanager
def _file_lock(name):
    handle = os.open(_lock_path(name), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(handle)  # closing the file lets the lock go


@contextmanager
def job_lock(name):
    """Yield True while this process alone runs the job `name`, or False at once when another
    run holds it (the caller then does nothing)."""
    lock = _advisory_lock if db.engine.dialect.name == "postgresql" else _file_lock
    with lock(name) as held:
        yield held
