"""An index found missing or damaged while the portal runs.

A request reading it then gets the fallback its caller gives (the database, or "search is being
rebuilt"), never an error page, and one process rebuilds it in a background thread: a lock file
beside the index keeps the other workers from starting the same rebuild, and they notice the
new index when the lock is free and the index directory is another one (a rebuild swaps a new
directory in). Writes that failed meanwhile are remembered by each process and made again once
the index is back. A command (seeding, a refresh) rebuilds the index before it reads.
"""
import fcntl
import logging
import os
import threading
from contextlib import contextmanager

from flask import current_app, has_request_context

log = logging.getLogger(__name__)


class SearchUnavailable(Exception):
    """The index cannot answer now; it is being rebuilt."""


def directory_mark(directory):
    """What identifies the index directory now: its inode (a rebuild swaps in a new one), or
    None when there is none."""
    try:
        return os.stat(directory).st_ino
    except OSError:
        return None


def guarded(index, read, fallback, rebuild, reapply):
    """`read()` from `index`; while the index is damaged, or when reading finds it so, a
    request gets `fallback()` and a repair starts in the background (`rebuild()` from the
    database, then `reapply(ids)` for writes that failed meanwhile), and a command repairs it
    first and then reads."""
    if index.damaged and not _repaired(index, reapply):
        return _while_damaged(index, read, fallback, rebuild, reapply)
    answer = _read(index, read)
    if index.damaged:  # found missing or unreadable just now
        return _while_damaged(index, read, fallback, rebuild, reapply)
    return answer


def _while_damaged(index, read, fallback, rebuild, reapply):
    if has_request_context():
        start(index, rebuild, reapply)
        return fallback()
    with exclusive(index.directory):  # waits for a repair under way elsewhere
        _rebuild(index, rebuild, reapply)
    answer = _read(index, read)
    return fallback() if index.damaged else answer


def _read(index, read):
    try:
        return read()
    except SearchUnavailable:
        raise
    except Exception:
        log.exception("Search index at %s could not be read; answering without it while it "
                      "is rebuilt", index.directory or "memory")
        index.forget()
        return None


def start(index, rebuild, reapply):
    """Rebuild `index` in the background, unless this process or another is already at it."""
    if not index.directory:  # in memory: nothing to share, and quick
        _rebuild(index, rebuild, reapply)
        return
    running = index.repair_thread
    if running is not None and running.is_alive():
        return
    lock = _try_lock(index.directory)
    if lock is None:
        return
    app = current_app._get_current_object()
    index.repair_thread = threading.Thread(
        target=_repair_in_background, args=(app, index, rebuild, reapply, lock),
        name="search-repair", daemon=True)
    index.repair_thread.start()


def _repair_in_background(app, index, rebuild, reapply, lock):
    try:
        with app.app_context():
            _rebuild(index, rebuild, reapply)
    except Exception:
        log.exception("Rebuilding the search index at %s failed; `flask search rebuild` will "
                      "repair it", index.directory)
    finally:
        os.close(lock)


def _rebuild(index, rebuild, reapply):
    if _rebuilt_elsewhere(index):
        log.info("Search index at %s was rebuilt meanwhile", index.directory)
    else:
        log.warning("Rebuilding the search index at %s from the database",
                    index.directory or "memory")
        rebuild()
    _reapply_failed(index, reapply)


@contextmanager
def exclusive(directory):
    """Hold the index's repair lock (waiting for it), so that a rebuild asked for and one
    started by a repair never run at once."""
    if not directory:
        yield
        return
    fd = _open_lock(directory)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _repaired(index, reapply):
    """Whether another process has rebuilt the index since this one found it damaged: the
    lock is free and the directory is a new one that opens. Failed writes are made again."""
    if not index.directory or (index.repair_thread and index.repair_thread.is_alive()):
        return False
    lock = _try_lock(index.directory)
    if lock is None:
        return False
    try:
        if not _rebuilt_elsewhere(index):
            return False
    finally:
        os.close(lock)
    _reapply_failed(index, reapply)
    return True


def _rebuilt_elsewhere(index):
    """Whether the index directory is not the one found damaged, and opens whole."""
    mark = directory_mark(index.directory) if index.directory else None
    return mark is not None and mark != index.broken_mark and index.reopen()


def _reapply_failed(index, reapply):
    ids, index.failed_writes = index.failed_writes, set()
    if ids:
        reapply(ids)


def _open_lock(directory):
    parent = os.path.dirname(os.path.abspath(directory))
    os.makedirs(parent, exist_ok=True)
    return os.open(os.path.abspath(directory) + ".repair-lock", os.O_CREAT | os.O_RDWR, 0o600)


def _try_lock(directory):
    """A file descriptor holding the index's repair lock, or None if another process has it."""
    fd = _open_lock(directory)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


class Repairable:
    """What an index keeps for its repair: whether it is damaged, which directory was found so,
    the ids whose writes failed meanwhile, and the thread rebuilding it here."""

    damaged = False
    broken_mark = None
    repair_thread = None

    def found_damaged(self):
        self.damaged = True
        self.broken_mark = directory_mark(self.directory)
        self.failed_writes = getattr(self, "failed_writes", set())

    def forget(self):
        """Give up the open index after a failed read: the next open starts afresh."""
        self.found_damaged()
        self._ix = None

    def reopen(self):
        """Open the index on disk again; whether it is whole (opens, and its documents can be
        counted)."""
        self._ix = None
        self.damaged = False
        try:
            self.open().doc_count()
        except Exception:
            self.forget()
        return not self.damaged

    def remember_writes_while_damaged(self, ids):
        """A write to a damaged index is made, and also kept to be made again once the index is
        rebuilt: a rebuild may have read the database before this change was committed."""
        if self.damaged:
            self.failed_writes = getattr(self, "failed_writes", set()) | set(ids)
