"""Unit tests that build no app still search with the Whoosh speed-ups the test configuration
asks for (SEARCH_WHOOSH_SPEEDUPS; an app sets them itself when it is made)."""
import pytest

from config import TestingConfig
from portal.search import whoosh_internals


@pytest.fixture(scope="session", autouse=True)
def whoosh_speedups():
    whoosh_internals.use_speedups(TestingConfig.SEARCH_WHOOSH_SPEEDUPS)
