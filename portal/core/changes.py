"""One place where committed changes are handed on: the change dispatcher.

After each flush the rows added, changed or deleted are shown to every subscriber, which says
which keys (ids of documents, entries, suppliers) they affect; the keys are collected on the
session. Once the outermost transaction has committed and ended (so the session can be used
again, as a subscriber reading through it may), each subscriber is given its keys, in the order
they were subscribed; an outermost rollback drops them. A subscriber's failure is logged and never undoes
the commit, nor stops the subscribers after it.

A subscriber that keeps a per-host copy (a search index) names the document type it keeps: its
keys are then also written to the change log (portal.core.change_log) just before the
outermost commit (after a last flush, so nothing is missed), in the same transaction as the
change: every host's copy can follow the commit, and a crash after it loses nothing. Writing
them at the commit rather than at each flush keeps the time between a log id being taken and
becoming visible to other hosts as short as the commit itself (see portal.search.follow).

Subscribers are registered explicitly, in order, by `create_app` (see `init_app`): the search
indexes first, so that what follows (recommendations) reads the new documents.
"""
import logging
from dataclasses import dataclass
from typing import Callable

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.core import change_log

log = logging.getLogger(__name__)
_PENDING_KEY = "changes_pending"
_COMMITTED_KEY = "changes_committed"


@dataclass(frozen=True)
class Subscriber:
    """`keys(obj)` gives the keys a changed row affects (an iterable, maybe empty), called
    after the flush while the row's history is still known; `act(app, keys)` runs after the
    commit with every key collected since the last one. With `logged_as` (a document type) the
    keys are also written to the change log in the committing transaction."""

    name: str
    keys: Callable
    act: Callable
    logged_as: str | None = None


def init_app(app, subscribers):
    """Hand this app's commits to `subscribers`, in this order."""
    app.extensions["changes"] = tuple(subscribers)
    _listen()


def subscribers(app=None):
    app = app or _current_app()
    return app.extensions.get("changes", ()) if app is not None else ()


def _current_app():
    try:
        return current_app._get_current_object()
    except RuntimeError:  # no app: a script working on the database alone
        return None


def _listen():
    if getattr(_listen, "done", False):
        return
    event.listen(Session, "after_flush", _collect)
    event.listen(Session, "before_commit", _log)
    event.listen(Session, "after_commit", _committed)
    event.listen(Session, "after_transaction_end", _dispatch)
    event.listen(Session, "after_soft_rollback", _drop)
    _listen.done = True


def _collect(session, _flush_context):
    changed = list(session.new) + list(session.dirty) + list(session.deleted)
    if not changed:
        return
    pending = session.info.setdefault(_PENDING_KEY, {})
    for subscriber in subscribers():
        keys = {key for obj in changed for key in subscriber.keys(obj) or ()}
        if keys:
            pending.setdefault(subscriber.name, set()).update(keys)


def _log(session):
    """Before the outermost commit: flush what is left (so its keys are collected), then write
    one change-log row per document a logged subscriber keeps."""
    if session.in_nested_transaction():
        return
    session.flush()
    pending = session.info.get(_PENDING_KEY)
    if not pending:
        return
    changed = {(subscriber.logged_as, key) for subscriber in subscribers()
               if subscriber.logged_as for key in pending.get(subscriber.name, ())}
    change_log.record(session, sorted(changed))


def _committed(session):
    if session.in_nested_transaction():
        return  # a savepoint: the outer transaction is not committed yet
    pending = session.info.pop(_PENDING_KEY, None)
    if pending:
        session.info[_COMMITTED_KEY] = pending


def _dispatch(session, transaction):
    # After the commit itself the session is still closing its transaction and refuses SQL;
    # once the outermost transaction has ended, a subscriber may use it again.
    if transaction.parent is not None or _COMMITTED_KEY not in session.info:
        return
    pending = session.info.pop(_COMMITTED_KEY)
    app = _current_app()
    if app is None:
        return
    for subscriber in subscribers(app):
        if subscriber.name in pending:
            _act(app, subscriber, pending[subscriber.name])


def _act(app, subscriber, keys):
    try:
        subscriber.act(app, keys)
    except Exception:  # the commit stands; each subscriber has its own way to catch up
        log.exception("After a commit, %s failed for %s keys", subscriber.name, len(keys))


def _drop(session, previous_transaction):
    # Only the outermost transaction's rollback discards the collected changes: rolling back a
    # savepoint leaves the outer transaction's own changes to be handed on at its commit (each
    # subscriber reads the database afresh then, so what the savepoint touched is harmless).
    if previous_transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)


def one(key_of):
    """A `keys` function from one that gives a single key or None."""
    def keys(obj):
        key = key_of(obj)
        return () if key is None else (key,)
    return keys
