"""Each host's indexes follow the index change log (portal/search/follow.py): every commit logs
the documents it changed in its own transaction, and an index elsewhere applies them from a
cursor of its own, without skipping a change that commits late."""
import time

import pytest
from sqlalchemy import insert, select

from portal.core.change_log import IndexChange
from portal.organisations.models import Organisation
from portal.pipeline import services as pipeline
from portal.search import follow, services
from portal.search.index import SearchIndex, get_index, write_keys
from portal.search.opportunities import OpportunityIndex, get_opportunity_index


def _logged(db):
    return db.session.execute(select(IndexChange.document_type, IndexChange.key)
                              .order_by(IndexChange.id)).all()


def _other_host(app, db, tmp_path, kind="organisations"):
    """An index on another host's disk, built from the database (its cursor with it)."""
    make = SearchIndex if kind == "organisations" else OpportunityIndex
    index = make(str(tmp_path / "other-host" / "search"), get_index(app).kind
                 if kind == "organisations" else get_opportunity_index(app).kind)
    index.rebuild(index.kind.load(db.session))
    return index


def _follow(index):
    return follow.catch_up(index, lambda keys: write_keys(index, keys))


def test_a_commit_logs_each_changed_document_once(db, make_org):
    org = make_org("Harbour Lights Trust", commit=False)
    db.session.flush()
    org.description = "Befriending"
    db.session.flush()
    assert _logged(db) == []  # nothing before the commit
    db.session.commit()
    assert _logged(db) == [("organisations", org.id)]


def test_a_rollback_logs_nothing(db, make_org):
    make_org("Rolled Back Trust", commit=False)
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert _logged(db) == []


def test_a_change_inside_a_savepoint_is_logged_with_the_outer_commit(db, make_org):
    org = make_org("Outer Trust", commit=False)
    with db.session.begin_nested():
        org.description = "Inside a savepoint"
    assert _logged(db) == []
    db.session.commit()
    assert _logged(db) == [("organisations", org.id)]


def test_another_host_follows_writes_and_deletions(app, db, make_org, tmp_path):
    other = _other_host(app, db, tmp_path)
    org = make_org("Quayside Befriending Trust")
    assert other.search_ids("quayside") == []
    assert _follow(other) == 1
    assert other.search_ids("quayside") == [org.id]
    db.session.delete(org)
    db.session.commit()
    _follow(other)
    assert other.search_ids("quayside") == []
    assert follow.lag(other) == 0


def test_forward_plan_entries_are_followed_too(app, db, make_org, make_user, tmp_path):
    council = make_org("Riverside Council", org_type="commissioner")
    officer = make_user(council)
    other = _other_host(app, db, tmp_path, kind="opportunities")
    entry = pipeline.create_opportunity(council, {
        "title": "Lighthouse keeping service", "description": "Advice and short breaks",
        "main_cpv_code": "85312000", "areas": "Leeds", "value_min": 400_000,
        "value_basis": "whole_life", "suitable_vcse": True}, officer)
    assert follow.lag(other) == 1
    _follow(other)
    assert other.search_ids("lighthouse") == [entry.id]


def test_a_change_committed_late_below_the_cursor_is_not_skipped(app, db, make_org, tmp_path):
    """Id 2 becomes visible before id 1 (two transactions committing out of order): the
    cursor moves past 1 but keeps it as a gap, and applies it once it appears."""
    first, second = make_org("Early Trust", commit=False), make_org("Late Trust", commit=False)
    db.session.commit()
    other = _other_host(app, db, tmp_path)
    base = (db.session.scalar(select(db.func.max(IndexChange.id))) or 0) + 100
    follow.save(other, follow.Cursor(last=base, at=time.time(), token=follow.load(other).token))
    db.session.execute(insert(IndexChange), [{"id": base + 2, "document_type": "organisations",
                                              "key": second.id, "created_at": _now()}])
    db.session.commit()
    other.write([], [first.id, second.id])  # as if neither were indexed there yet
    _follow(other)
    cursor = follow.load(other)
    assert cursor.last == base + 2 and [g[:2] for g in cursor.gaps] == [[base + 1, base + 1]]
    assert other.search_ids("late") == [second.id] and other.search_ids("early") == []
    db.session.execute(insert(IndexChange), [{"id": base + 1,
                                              "document_type": "organisations",
                                              "key": first.id, "created_at": _now()}])
    db.session.commit()
    _follow(other)
    assert other.search_ids("early") == [first.id]
    assert follow.load(other).gaps == []


def _now():
    from portal.core.mixins import utcnow
    return utcnow()


def test_the_cursor_keeps_gaps_for_the_grace_period_only():
    cursor = follow.Cursor(last=10, gaps=[[3, 5, 100.0]], at=100.0, token="t")
    moved = follow.advance(cursor, [4, 12, 15], now=150.0, grace=120)
    assert moved.last == 15
    assert moved.gaps == [[3, 3, 100.0], [5, 5, 100.0], [11, 11, 150.0], [13, 14, 150.0]]
    later = follow.advance(moved, [], now=230.0, grace=120)
    assert later.gaps == [[11, 11, 150.0], [13, 14, 150.0]]  # the first two given up
    assert follow.advance(later, [11, 13, 14], now=231.0, grace=120).gaps == []


def test_the_cursor_is_written_after_the_index(app, db, make_org, tmp_path):
    """A write that fails leaves the cursor where it was: the change is read again."""
    other = _other_host(app, db, tmp_path)
    make_org("Unlucky Trust")
    before = follow.load(other)

    def failing(keys):
        raise OSError("disk full")
    with pytest.raises(OSError):
        follow.catch_up(other, failing)
    assert follow.load(other) == before
    _follow(other)
    assert other.search_ids("unlucky")


def test_a_cursor_older_than_the_kept_log_rebuilds(app, db, make_org):
    org = make_org("Long Asleep Trust")
    index = get_index(app)
    follow.save(index, follow.Cursor(last=0, at=time.time() - 30 * 86400, token="old"))
    index.write([], [org.id])
    assert services.follow_changes()["organisations"] == "rebuilt"
    assert index.search_ids("asleep") == [org.id]
    assert follow.usable(follow.load(index))


def test_pruning_keeps_recent_changes_and_the_newest(db, make_org):
    make_org("Old Trust")
    make_org("Older Trust")
    db.session.execute(IndexChange.__table__.update().values(created_at=_now().replace(year=2020)))
    db.session.commit()
    assert services.prune_changes(days=7) == 1  # the newest row stays, however old
    make_org("New Trust")
    assert services.prune_changes(days=7) == 1
    assert [name for _kind, name in _logged(db)] == [
        db.session.scalar(select(Organisation.id).where(Organisation.name == "New Trust"))]


def test_the_health_check_reports_changes_behind(client, make_org):
    make_org("Healthy Trust")
    body = client.get("/healthz").get_json()
    assert body["checks"]["search"]["changes_behind"] == 0
    assert body["checks"]["forward_plan_search"]["changes_behind"] == 0
