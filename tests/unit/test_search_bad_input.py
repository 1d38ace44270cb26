"""Whatever is typed into a search box gives a sensible answer, and a damaged or missing index
is rebuilt from the database instead of taking the site down."""
import logging
import os
import shutil
import time

import pytest

from portal.search import services
from portal.search.index import SearchIndex

STRAY = ["AND", "OR", "NOT", "(", ")", '"', "*", "~", "AND OR (", '"unclosed', "befriend*",
         "befriend~", "title:", ":", "^2", "[a TO", "{", "\\", "-", "+", "''", "((((", "~~~",
         "name:(", "befriend AND", "OR befriend", '"befriend', "befriend)"]


@pytest.fixture
def befrienders(make_org):
    return make_org(name="Riverside Befriending", description="Befriending older people")


@pytest.mark.parametrize("text", STRAY)
def test_stray_syntax_never_errors(app, db, befrienders, text):
    found = services.search_organisation_ids(text)
    assert isinstance(found, list)
    if "befriend" in text:
        assert found == [befrienders.id]


@pytest.mark.parametrize("text", ["", "   ", None, "\n\t", "ø", "Café crème", "社区", "🙂",
                                  "\x00", "naïve befriending", "ÅÄÖ"])
def test_empty_and_unicode(app, db, befrienders, text):
    found = services.search_organisation_ids(text)
    assert isinstance(found, list)
    if text and "befriending" in text:
        assert found == [befrienders.id]


def test_very_long_query_is_quick_and_still_finds(app, db, befrienders):
    text = " ".join(f"word{n}" for n in range(5000)) + " befriending"
    started = time.perf_counter()
    found = services.search_organisation_ids(text)
    assert time.perf_counter() - started < 5
    assert found == [befrienders.id]
    assert services.search_organisation_ids("x" * 100_000) == []


def test_directory_page_survives_bad_queries(client, db, befrienders):
    for text in ['AND OR ( " * ~', "x" * 5000, "社区 🙂", ""]:
        response = client.get("/organisations", query_string={"q": text})
        assert response.status_code == 200


@pytest.fixture
def disk_index(app, tmp_path):
    """Put the app on an index in a real directory for the test, then restore it."""
    previous = app.extensions["search_index"]
    index = SearchIndex(str(tmp_path / "search"))
    app.extensions["search_index"] = index
    yield index
    repair = app.extensions["search_index"].repair_thread
    if repair is not None:
        repair.join(30)
    app.extensions["search_index"] = previous


def _reopen(app, index):
    """A fresh process: nothing open yet."""
    fresh = SearchIndex(index.directory)
    app.extensions["search_index"] = fresh
    return fresh


def test_corrupt_index_is_rebuilt_from_database(app, db, disk_index, befrienders, caplog):
    services.rebuild()
    assert services.search_organisation_ids("befriending") == [befrienders.id]
    for name in os.listdir(disk_index.directory):
        with open(os.path.join(disk_index.directory, name), "wb") as handle:
            handle.write(b"\x00garbage" * 10)
    _reopen(app, disk_index)
    with caplog.at_level(logging.WARNING):
        assert services.search_organisation_ids("befriending") == [befrienders.id]
    assert "rebuil" in caplog.text.lower()
    assert services.check() == {"missing": [], "stale": [], "extra": []}


def test_missing_index_is_rebuilt_from_database(app, db, disk_index, befrienders, caplog):
    services.rebuild()
    shutil.rmtree(disk_index.directory)
    _reopen(app, disk_index)
    with caplog.at_level(logging.WARNING):
        assert services.search_organisation_ids("befriending") == [befrienders.id]
    assert "rebuil" in caplog.text.lower()
