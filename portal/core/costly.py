"""Results that take long to work out, kept per process while what they depend on is unchanged.

Each result is kept under a key (what was asked) with a version (a value that changes when
what the result depends on changes: an index's version, the newest change to the entries). A
result is reused while its version is current and it is younger than `fresh_seconds`; the
age limit covers changes the version never sees (rows written in bulk SQL).

A result that was slow to work out (`slow_seconds` or more) is also reused for up to
`stale_seconds` after its version changed. At national scale one profile edit every few
seconds would otherwise have every process recount a whole directory after each edit; a
count a few seconds behind is the better trade there. A quick result is never reused past
a change, so a small portal always shows what is current.
"""
import threading
import time
from collections import OrderedDict


class CostlyCache:
    def __init__(self, size=64, fresh_seconds=300, stale_seconds=30, slow_seconds=0.05):
        self.size, self.fresh, self.stale, self.slow = (size, fresh_seconds, stale_seconds,
                                                        slow_seconds)
        self._kept = OrderedDict()  # key -> (version, made at, seconds it took, result)
        self._lock = threading.Lock()

    def get(self, key, version, work, keep=True):
        """The result for `key` at `version`: a kept one when it may be reused, else
        `work()`'s, kept unless `keep` is false (a result worked out from a stand-in)."""
        now = time.monotonic()
        with self._lock:
            found = self._kept.get(key)
            if found is not None and self._reusable(found, version, now):
                self._kept.move_to_end(key)
                return found[3]
        result = work()
        took = time.monotonic() - now
        if keep:
            self._keep(key, (version, now, took, result))
        return result

    def _reusable(self, found, version, now):
        kept_version, made, took, _result = found
        age = now - made
        if kept_version == version:
            return age < self.fresh
        return took >= self.slow and age < self.stale

    def _keep(self, key, item):
        with self._lock:
            self._kept[key] = item
            self._kept.move_to_end(key)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
