"""Each host's indexes as replicas of the database, fed from the change log.

The database is the one source of truth; each host keeps its own Whoosh indexes on local disk.
Every commit writes the documents it altered to the change log (`index_changes`, see
portal.core.change_log) in its own transaction. An index follows that log from a cursor kept
beside it: after each of its own commits a web worker brings its host's index up to the log
(so a change is searchable on that host as soon as the response returns), and the
`flask search follow` process does so every half second, for the changes made on other hosts.

Crash safety. The index is written first and the cursor after it, each batch (the cursor file
is replaced atomically). A crash between the two leaves the cursor behind the index: the batch
is written again, which changes nothing, as indexing a key writes what the database holds for it
now. Nothing is ever skipped.

The gap. Ids come from one sequence, taken just before each commit, but transactions commit in
their own order: a reader may see id 12 while id 11 is still committing, so "id > cursor" alone
would skip 11 for good. The cursor therefore keeps, besides the highest id read (`last`), the
ids below it not seen yet (`gaps`, as ranges, with when each was first missed), and every read
asks for those again. A gap is dropped after `SEARCH_CHANGES_GRACE_SECONDS`: it was a rolled-back
transaction (PostgreSQL never gives an id back) or one still committing after that long. We chose
this over re-reading a trailing window of recent seconds because a quiet log then costs one
indexed query per read, and a busy one re-indexes nothing twice; the id is taken in the commit
itself (not at the first flush) precisely so that the time an id can stay unseen is short.

A new index (a rebuild) starts its cursor at the newest change older than the grace period: the
changes after it are applied again on top of the rebuilt documents (harmless), which covers any
transaction that was committing while the rebuild read the database.

A cursor older than the oldest change kept (the log is pruned after `SEARCH_CHANGES_KEEP_DAYS`)
cannot be followed: the host's follower rebuilds its indexes instead.
"""
import fcntl
import json
import logging
import os
import threading
import time
import uuid
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field

from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from portal.core.change_log import IndexChange
from portal.extensions import db

log = logging.getLogger(__name__)
CURSOR_FILE = "changes-cursor.json"
# Changes read (and applied in one index commit, then the cursor written) at a time.
BATCH = 500
# Gap ranges kept at most: beyond this the oldest are dropped (each is logged).
MAX_GAPS = 1000
_LOCKS = {}
_LOCKS_GUARD = threading.Lock()


@dataclass
class Cursor:
    """How far an index has followed the log: every change up to `last` is applied except
    those in `gaps` ([low, high, first missed at] ranges); `at` is when the log was last read;
    `token` names the index the cursor belongs to (a rebuild gives a new one)."""

    last: int = 0
    gaps: list = field(default_factory=list)
    at: float = 0.0
    token: str = ""


def grace_seconds():
    return float(current_app.config.get("SEARCH_CHANGES_GRACE_SECONDS", 120))


def keep_days():
    return float(current_app.config.get("SEARCH_CHANGES_KEEP_DAYS", 7))


# --- the cursor, stored beside the index ------------------------------------------------------

def load(index):
    """The index's cursor, or None when it has none (never followed, or lost)."""
    if not index.directory:
        return getattr(index, "cursor", None)
    try:
        with open(os.path.join(index.directory, CURSOR_FILE)) as handle:
            return Cursor(**json.load(handle))
    except (OSError, ValueError, TypeError):
        return None


def save(index, cursor):
    """Store the cursor: in memory, or written to a new file then renamed over the old one, so
    a crash leaves either the old cursor or the new one."""
    if not index.directory:
        index.cursor = cursor
        return
    path = os.path.join(index.directory, CURSOR_FILE)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w") as handle:
        json.dump(asdict(cursor), handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def usable(cursor, now=None):
    """Whether the log still holds everything after the cursor: pruning deletes changes older
    than the kept days, and every change after `last` was made after the cursor was last read
    (less the grace period)."""
    now = time.time() if now is None else now
    horizon = keep_days() * 86400 - grace_seconds()
    return cursor is not None and now - cursor.at < horizon


@contextmanager
def locked(index):
    """Hold the index's follow lock: one thread of one process on the host applies the log to
    it at a time (a thread lock here, and a lock file beside the index for other processes)."""
    key = index.directory or id(index)
    with _LOCKS_GUARD:
        thread_lock = _LOCKS.setdefault(key, threading.Lock())
    with thread_lock:
        if not index.directory:
            yield
            return
        fd = os.open(os.path.abspath(index.directory) + ".follow-lock",
                     os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


# --- reading the log ----------------------------------------------------------------------------

def start_position(now=None):
    """A cursor for an index about to be built from the database: at the newest change older
    than the grace period, so the changes after it are applied again over the new documents."""
    now = time.time() if now is None else now
    cutoff = _as_datetime(now - grace_seconds())
    with db.engine.connect() as connection:
        last = connection.scalar(select(func.max(IndexChange.id))
                                 .where(IndexChange.created_at < cutoff)) or 0
    return Cursor(last=last, gaps=[], at=now, token=uuid.uuid4().hex)


def starting_cursor():
    """`start_position()`, or None when the log cannot be read (a database not yet upgraded):
    the index then has no cursor, and is written commit by commit as on a single host."""
    try:
        return start_position()
    except SQLAlchemyError:
        log.warning("The change log cannot be read; the rebuilt index will not follow it",
                    exc_info=True)
        return None


def _as_datetime(seconds):
    from datetime import datetime, timezone
    return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)


def _unseen(cursor):
    """The condition for changes the cursor has not seen: after `last`, or in a gap."""
    return or_(IndexChange.id > cursor.last,
               *[IndexChange.id.between(low, high) for low, high, _since in cursor.gaps])


def read(cursor, limit=BATCH):
    """[(id, document type, key)] of changes not yet seen, lowest id first, at most `limit`."""
    query = select(IndexChange.id, IndexChange.document_type, IndexChange.key)
    with db.engine.connect() as connection:
        return connection.execute(query.where(_unseen(cursor)).order_by(IndexChange.id)
                                  .limit(limit)).all()


def lag(index):
    """Changes to this index's documents in the log that it has not applied yet (None when it
    has no usable cursor)."""
    cursor = load(index)
    if not usable(cursor):
        return None
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).where(
            and_(_unseen(cursor), IndexChange.document_type == index.kind.name)))


def advance(cursor, ids, now, grace, complete=True):
    """The cursor after reading the changes `ids` (sorted; every unseen change up to the
    highest of them when the read was cut at its limit). Ids skipped above the old `last`
    become gaps; gaps seen are closed; gaps older than `grace` are given up."""
    seen = set(ids)
    gaps = [piece for low, high, since in cursor.gaps
            for piece in _without(low, high, since, seen)]
    last = cursor.last
    for change_id in sorted(i for i in seen if i > cursor.last):
        if change_id > last + 1:
            gaps.append([last + 1, change_id - 1, now])
        last = change_id
    kept = [gap for gap in gaps if now - gap[2] < grace]
    for low, high, _since in gaps:
        if now - _since >= grace:
            log.info("Change log ids %s-%s never appeared in %ss: taken as rolled back",
                     low, high, grace)
    if len(kept) > MAX_GAPS:
        log.warning("Change log: %s gaps waiting; the oldest are given up", len(kept))
        kept = kept[-MAX_GAPS:]
    return Cursor(last=last, gaps=kept, at=now, token=cursor.token)


def _without(low, high, since, seen):
    """The range [low, high] less the ids in `seen`, as ranges."""
    pieces, start = [], low
    for change_id in sorted(i for i in seen if low <= i <= high):
        if change_id > start:
            pieces.append([start, change_id - 1, since])
        start = change_id + 1
    if start <= high:
        pieces.append([start, high, since])
    return pieces


# --- applying it --------------------------------------------------------------------------------

def catch_up(index, write, rounds=None):
    """Apply the log to `index` until nothing is left unseen (or for `rounds` batches):
    `write(keys)` indexes what the database holds now for keys of this index's documents, and
    raises on failure. Returns how many changes were read, or None when the index has no
    usable cursor (then nothing is done: a rebuild is needed)."""
    with locked(index):
        cursor = load(index)
        if not usable(cursor):
            return None
        total, done = 0, 0
        while rounds is None or done < rounds:
            cursor, count = _one_batch(index, cursor, write)
            total, done = total + count, done + 1
            if count < BATCH:
                break
        return total


def _one_batch(index, cursor, write):
    rows = read(cursor)
    keys = {key for _id, kind, key in rows if kind == index.kind.name}
    if keys:
        write(keys)
    moved = advance(cursor, [row[0] for row in rows], time.time(), grace_seconds())
    if rows or moved.gaps != cursor.gaps or moved.at - cursor.at > 60:
        _save_if_current(index, cursor, moved)
    return moved, len(rows)


def _save_if_current(index, loaded, cursor):
    """Save `cursor` unless the index was rebuilt (and given a new cursor) meanwhile."""
    current = load(index)
    if current is not None and current.token != loaded.token:
        return
    save(index, cursor)


def restart(index, cursor):
    """Give a rebuilt index its cursor (see `start_position`), or none (`cursor` None)."""
    with locked(index):
        if cursor is not None:
            save(index, cursor)
        elif index.directory:
            with suppress(FileNotFoundError):
                os.remove(os.path.join(index.directory, CURSOR_FILE))
        else:
            index.cursor = None
