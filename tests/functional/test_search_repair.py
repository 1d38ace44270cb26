"""A search index deleted or damaged while the portal runs: pages keep answering (from the
database, or saying search is being rebuilt), one rebuild runs in the background, edits made
meanwhile reach the index afterwards, and /healthz says what is going on."""
import os
import shutil
from pathlib import Path

import pytest

from portal.search import services
from portal.search.index import SearchIndex
from portal.search.opportunities import OpportunityIndex
from portal.search.repair import _try_lock

SEARCHES = ["/organisations?q=riverside", "/forward-plan?q=befriending",
            "/api/v1/organisations?q=riverside", "/api/v1/opportunities?q=befriending"]


@pytest.fixture
def disk_indexes(app, db, tmp_path):
    """Both indexes on disk (the tests' own are in memory), built from the database."""
    originals = dict(app.extensions)
    directory = str(tmp_path / "search")
    app.extensions["search_index"] = SearchIndex(directory)
    app.extensions["opportunity_index"] = OpportunityIndex(directory)
    services.rebuild()
    yield directory
    for name in ("search_index", "opportunity_index"):
        _wait_for_repair(app.extensions[name])
        if name in originals:
            app.extensions[name] = originals[name]
        else:
            app.extensions.pop(name)


@pytest.fixture
def riverside(db, make_org, app, disk_indexes):
    org = make_org(name="Riverside Befriending", description="Befriending for older people")
    assert not any(index.damaged or index.repair_thread for index in _both(app))
    return org


def _wait_for_repair(index):
    if index.repair_thread is not None:
        index.repair_thread.join(60)


def _both(app):
    return [app.extensions["search_index"], app.extensions["opportunity_index"]]


def test_deleted_indexes_answer_from_the_database_then_come_back(app, client, riverside,
                                                                 disk_indexes):
    assert "Riverside Befriending" in client.get("/organisations?q=riverside").text
    shutil.rmtree(disk_indexes)
    shutil.rmtree(disk_indexes + "-opportunities")
    lock = _try_lock(disk_indexes)  # another worker is rebuilding, so the page says so
    try:
        for path in SEARCHES:
            assert client.get(path).status_code == 200, path
        page = client.get("/organisations?q=riverside+hackney").text
        assert "Riverside Befriending" in page and "Search is being rebuilt" in page
        assert "Search is being rebuilt" in client.get("/forward-plan?q=befriending").text
    finally:
        os.close(lock)
    assert "Riverside Befriending" in client.get("/organisations?q=riverside").text
    for index in _both(app):
        _wait_for_repair(index)
    assert os.path.isdir(disk_indexes) and os.path.isdir(disk_indexes + "-opportunities")
    with app.app_context():
        assert services.search_organisation_ids("riverside") == [riverside.id]
    assert client.get("/healthz").status_code == 200


def test_a_truncated_segment_is_noticed_and_rebuilt(app, client, riverside, disk_indexes):
    segment = max((p for p in Path(disk_indexes).iterdir() if p.suffix in (".seg", ".pst",
                                                                           ".trm")),
                  key=lambda p: p.stat().st_size)
    with segment.open("r+b") as handle:
        handle.truncate(segment.stat().st_size // 3)
    # A worker that opens the index now (one that had the file mapped before may be killed by
    # the operating system when it reads past the new end; gunicorn starts a new one).
    app.extensions["search_index"] = SearchIndex(disk_indexes)
    assert "Riverside Befriending" in client.get("/organisations?q=riverside").text
    _wait_for_repair(app.extensions["search_index"])
    with app.app_context():
        assert services.search_organisation_ids("riverside") == [riverside.id]


def test_healthz_checks_both_indexes_and_reports_a_rebuild(app, client, riverside,
                                                           disk_indexes):
    body = client.get("/healthz").get_json()
    assert body["checks"]["search"]["status"] == "ok"
    assert body["checks"]["forward_plan_search"]["status"] == "ok"
    lock = _try_lock(disk_indexes + "-opportunities")  # as if another worker were rebuilding
    try:
        shutil.rmtree(disk_indexes + "-opportunities")
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.get_json()["checks"]["forward_plan_search"]["status"] == "rebuilding"
    finally:
        os.close(lock)


def test_edits_while_another_worker_rebuilds_reach_the_index(app, db, make_org, riverside,
                                                             disk_indexes):
    index = app.extensions["search_index"]
    lock = _try_lock(disk_indexes)  # another worker holds the repair
    try:
        request = app.test_request_context()
        request.push()  # as a web worker: answers from the database rather than waiting
        shutil.rmtree(disk_indexes)
        assert services.search_organisation_ids("riverside") == [riverside.id]
        assert index.damaged and index.repair_thread is None
        newcomer = make_org(name="Newcomer Advice Centre")  # its index write is refused, kept
        assert newcomer.id in index.failed_writes
        assert services.search_organisation_ids("newcomer") == [newcomer.id]  # database
        # The other worker's rebuild read the database before the newcomer was committed.
        staging = SearchIndex(disk_indexes)
        staging.rebuild([riverside])
    finally:
        os.close(lock)
        request.pop()
    assert services.search_organisation_ids("newcomer") == [newcomer.id]
    assert not index.damaged and not index.failed_writes
    assert index.search_ids("newcomer") == [newcomer.id]


def test_a_damaged_index_makes_matching_say_so_not_fail(app, riverside, disk_indexes):
    lock = _try_lock(disk_indexes)
    try:
        shutil.rmtree(disk_indexes)
        with app.test_request_context(), pytest.raises(services.SearchUnavailable):
            services.match_organisations([("befriend", 1.0)])
    finally:
        os.close(lock)


def test_a_command_rebuilds_a_missing_index_before_reading_it(app, riverside, disk_indexes):
    shutil.rmtree(disk_indexes)
    index = app.extensions["search_index"]
    index.forget()
    assert services.search_organisation_ids("riverside") == [riverside.id]
    assert not index.damaged and index.repair_thread is None
    assert index.search_ids("riverside") == [riverside.id]


def test_a_page_that_needs_the_index_says_it_is_being_rebuilt(app):
    with app.test_request_context("/forward-plan/1/matches"):
        response = app.make_response(
            app.handle_user_exception(services.SearchUnavailable("rebuilding")))
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "being rebuilt" in response.get_data(as_text=True)
