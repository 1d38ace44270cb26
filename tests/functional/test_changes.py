"""The change dispatcher hands each commit's changes to its subscribers in order, drops them on
rollback, and stored matches follow a profile edit after the request rather than inside it."""
import threading

import pytest

from portal.core import changes
from portal.core.changes import Subscriber
from portal.matching import following, rescore
from portal.organisations import services as organisations
from portal.search.services import search_organisation_ids


@pytest.fixture
def recorded(app):
    """Two extra subscribers, after the real ones, that record what they are handed."""
    seen = []
    original = app.extensions["changes"]
    extra = [Subscriber(name, changes.one(lambda obj: getattr(obj, "name", None)),
                        lambda _app, keys, name=name: seen.append((name, sorted(keys))))
             for name in ("first", "second")]
    app.extensions["changes"] = original + tuple(extra)
    yield seen
    app.extensions["changes"] = original


def test_subscribers_act_after_the_commit_in_order(recorded, db, make_org):
    org = make_org("Harbour Lights Trust", commit=False)
    db.session.flush()
    assert recorded == []  # nothing before the commit
    db.session.commit()
    assert recorded == [("first", ["Harbour Lights Trust"]), ("second", ["Harbour Lights Trust"])]
    assert search_organisation_ids("harbour") == [org.id]  # the index acted before them


def test_a_rollback_drops_the_changes(recorded, db, make_org):
    make_org("Rolled Back Trust", commit=False)
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert recorded == []


def test_a_savepoint_rolled_back_keeps_the_outer_changes(recorded, db, make_org):
    make_org("Outer Trust", commit=False)
    db.session.flush()
    savepoint = db.session.begin_nested()
    make_org("Inner Trust", commit=False)
    db.session.flush()
    savepoint.rollback()
    db.session.commit()
    assert ("first", ["Inner Trust", "Outer Trust"]) in recorded
    assert search_organisation_ids("trust") != []
    assert search_organisation_ids("inner") == []  # never committed


def test_one_subscribers_failure_does_not_stop_the_next(app, recorded, db, make_org, caplog):
    def broken(_app, _keys):
        raise RuntimeError("subscriber down")
    app.extensions["changes"] = (Subscriber("broken", changes.one(lambda o: 1), broken),) \
        + app.extensions["changes"]
    org = make_org("Still Indexed Trust")
    assert "broken failed" in caplog.text
    assert search_organisation_ids("indexed") == [org.id]
    assert recorded[0][0] == "first"


def test_a_profile_edit_in_a_request_is_rescored_after_it(app, db, make_org, monkeypatch):
    """In "background" mode the request only records the supplier as waiting; a thread of the
    worker scores it again, and the record is gone once it has."""
    supplier = make_org("Wharfedale Carers", description="Short breaks for carers")
    release, scored = threading.Event(), []
    real = rescore.rescore_supplier

    def slow(session, organisation_id, now=None):
        assert release.wait(10)
        scored.append(organisation_id)
        return real(session, organisation_id, now)

    monkeypatch.setattr(rescore, "rescore_supplier", slow)
    monkeypatch.setitem(app.config, "MATCHING_REFRESH", "background")
    with app.test_request_context("/organisations"):
        organisations.update_profile(supplier, {"description": "Breaks and advice for carers"},
                                     None)
        # The edit is committed and searchable; the rescoring has not happened yet.
        assert search_organisation_ids("advice") == [supplier.id]
        assert following.is_updating(db.session, organisation_id=supplier.id)
        assert scored == []
    release.set()
    following.refresher(app).wait()
    db.session.expire_all()
    assert scored == [supplier.id]
    assert not following.is_updating(db.session, organisation_id=supplier.id)


def test_the_command_catches_up_with_waiting_suppliers(app, db, make_org, monkeypatch):
    supplier = make_org("Airedale Advice", description="Money advice")
    monkeypatch.setattr(following.Refresher, "submit", lambda *_args: None)  # a worker died
    organisations.update_profile(supplier, {"description": "Money and debt advice"}, None)
    assert following.is_updating(db.session, organisation_id=supplier.id)
    assert following.refresh_suppliers(db.session) == 1
    assert not following.is_updating(db.session, organisation_id=supplier.id)


def test_the_recommendations_page_says_it_is_updating(app, client, db, make_org, make_user,
                                                       monkeypatch):
    from tests.conftest import sign_in

    supplier = make_org("Calder Valley Carers", description="Breaks for carers")
    make_user(supplier, email="lead@calder.example")
    monkeypatch.setattr(following.Refresher, "submit", lambda *_args: None)  # not yet done
    organisations.update_profile(supplier, {"description": "Breaks and advice"}, None)
    sign_in(client, "lead@calder.example")
    page = client.get("/recommendations").get_data(as_text=True)
    assert "Your recommendations are being updated" in page
    following.refresh_suppliers(db.session)
    page = client.get("/recommendations").get_data(as_text=True)
    assert "being updated" not in page


def test_a_subscriber_may_read_through_the_session(app, db, make_org):
    """A subscriber that reads (as a search repair or a rescoring does, through the app's
    session) gets an answer: it runs once the committed transaction has ended, not while the
    session is still closing it."""
    from sqlalchemy import func, select

    from portal.organisations.models import Organisation

    counted = []
    original = app.extensions["changes"]
    app.extensions["changes"] = original + (Subscriber(
        "reader", changes.one(lambda obj: getattr(obj, "id", None)),
        lambda _app, _keys: counted.append(db.session.scalar(
            select(func.count()).select_from(Organisation)))),)
    try:
        make_org("Session Reading Trust")
    finally:
        app.extensions["changes"] = original
    assert counted == [1]
