"""Figures that are slow to count at national scale (the market map) kept in the worker for a
while. An entry is used again while nothing audited has changed since it was counted, or for
INSIGHT_CACHE_SECONDS even if something has: the map is then at most that old, which the page
says. Each worker keeps its own; 0 seconds turns the cache off."""
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from threading import Lock

from flask import current_app
from sqlalchemy import func, select

from portal.core.audit import AuditEvent
from portal.extensions import db

MAX_ENTRIES = 200


@dataclass
class _Entry:
    value: object
    version: tuple
    counted_at: float


class FigureCache:
    def __init__(self):
        self._entries = OrderedDict()
        self._lock = Lock()

    def get(self, key):
        with self._lock:
            return self._entries.get(key)

    def put(self, key, entry):
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)


def data_version():
    """Changes whenever anything audited changes, and each day (accreditations expire)."""
    return db.session.scalar(select(func.max(AuditEvent.id))), date.today()


def cached(key, compute):
    """compute(), or what it gave last time for `key` if that is still fresh enough."""
    seconds = current_app.config.get("INSIGHT_CACHE_SECONDS", 0)
    if seconds <= 0:
        return compute()
    cache = current_app.extensions.setdefault("insight_cache", FigureCache())
    version, now = data_version(), time.monotonic()
    entry = cache.get(key)
    if entry is not None and (entry.version == version or now - entry.counted_at < seconds):
        return entry.value
    value = compute()
    cache.put(key, _Entry(value, version, now))
    return value
