"""Results kept while what they depend on is unchanged (portal.core.costly)."""
import pytest

from portal.core import costly
from portal.core.costly import CostlyCache


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(costly.time, "monotonic", clock)
    return clock


def counting(clock, takes=0.0):
    """A piece of work that says how many times it ran and takes `takes` seconds."""
    calls = []

    def work():
        calls.append(1)
        clock.now += takes
        return len(calls)
    return work, calls


def test_a_result_is_reused_while_its_version_is_current_and_it_is_fresh(clock):
    cache, (work, calls) = CostlyCache(fresh_seconds=300), counting(clock)
    assert cache.get("k", 1, work) == 1
    clock.now += 299
    assert cache.get("k", 1, work) == 1
    clock.now += 2
    assert cache.get("k", 1, work) == 2  # too old, whatever the version says


def test_a_quick_result_is_worked_out_again_as_soon_as_its_version_changes(clock):
    cache, (work, calls) = CostlyCache(stale_seconds=30, slow_seconds=0.05), counting(clock, .001)
    cache.get("k", 1, work)
    assert cache.get("k", 2, work) == 2 and len(calls) == 2


def test_a_slow_result_is_shown_for_a_while_after_a_change_then_worked_out_again(clock):
    cache, (work, calls) = CostlyCache(stale_seconds=30, slow_seconds=0.05), counting(clock, .5)
    cache.get("k", 1, work)
    clock.now += 20
    assert cache.get("k", 2, work) == 1
    clock.now += 11
    assert cache.get("k", 2, work) == 2
    assert cache.get("k", 2, work) == 2 and len(calls) == 2


def test_no_stale_result_when_stale_seconds_is_zero(clock):
    cache, (work, calls) = CostlyCache(stale_seconds=0), counting(clock, 5)
    cache.get("k", 1, work)
    assert cache.get("k", 2, work) == 2


def test_a_result_not_to_keep_is_not_kept(clock):
    cache, (work, calls) = CostlyCache(), counting(clock)
    cache.get("k", 1, work, keep=False)
    assert cache.get("k", 1, work) == 2


def test_the_least_recently_used_key_goes_first(clock):
    cache = CostlyCache(size=2)
    cache.get("a", 1, lambda: "a")
    cache.get("b", 1, lambda: "b")
    cache.get("a", 1, lambda: "a again")  # "a" is used, so "b" is the oldest
    cache.get("c", 1, lambda: "c")
    assert cache.get("a", 1, lambda: "new") == "a"
    assert cache.get("b", 1, lambda: "new") == "new"
