"""A small in-process cache of response bodies, for exports that are slow to build and change
rarely. Callers put what the body depends on (the data's version) into the key, so an entry is
never stale, only unused; the least recently used go once the byte budget is spent."""
from collections import OrderedDict
from threading import Lock

from flask import current_app

DEFAULT_BUDGET = 32 * 1024 * 1024


class BodyCache:
    """Bytes by key, least recently used first out. Safe to share between threads."""

    def __init__(self, budget=DEFAULT_BUDGET):
        self.budget = budget
        self._bodies = OrderedDict()
        self._size = 0
        self._lock = Lock()

    def get(self, key):
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def put(self, key, body):
        if len(body) > self.budget:
            return
        with self._lock:
            self._size += len(body) - len(self._bodies.pop(key, b""))
            self._bodies[key] = body
            while self._size > self.budget:
                _key, oldest = self._bodies.popitem(last=False)
                self._size -= len(oldest)

    def clear(self):
        with self._lock:
            self._bodies.clear()
            self._size = 0


def app_cache(name):
    """The app's cache called `name`, made on first use (one per process and app)."""
    return current_app.extensions.setdefault(f"body_cache:{name}", BodyCache())
