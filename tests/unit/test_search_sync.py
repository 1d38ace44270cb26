"""The organisation index follows the database: written after commit, dropped on rollback, and
re-indexed when a child row changes."""
from datetime import date

import pytest

from portal.organisations.models import Credential, PastWork
from portal.reference.models import Area
from portal.search import services
from portal.search.index import get_index


def indexed(app):
    return set(get_index(app).stored_versions())


def features_of(app, org_id):
    searcher = get_index(app).searcher()
    docnum = searcher.document_number(id=str(org_id))
    return searcher.stored_fields(docnum)["features"]


def test_insert_is_indexed_after_commit(app, db, make_org):
    org = make_org(name="Riverside Befriending", description="Befriending older people")
    assert str(org.id) in indexed(app)
    assert services.search_organisation_ids("befriend") == [org.id]


def test_update_reindexes(app, db, make_org):
    org = make_org(name="Riverside Befriending")
    org.description = "Welfare rights advice for carers"
    db.session.commit()
    assert services.search_organisation_ids("carers") == [org.id]
    assert services.check() == {"missing": [], "stale": [], "extra": []}


def test_past_work_change_reindexes_parent(app, db, make_org):
    org = make_org(name="Hillside Trust")
    db.session.add(PastWork(organisation_id=org.id, title="Allotment project",
                            description="Growing food with refugees", funder_name="The Tudor Trust",
                            amount=5000, awarded_on=date(2020, 1, 1)))
    db.session.commit()
    assert services.search_organisation_ids("allotment") == [org.id]
    assert features_of(app, org.id)["funders"] == ["tudor"]


def test_credential_change_reindexes_parent(app, db, make_org):
    org = make_org(name="Hillside Trust")
    before = get_index(app).stored_versions()[str(org.id)]
    credential = Credential(organisation_id=org.id, kind="safeguarding", title="Safeguarding")
    db.session.add(credential)
    db.session.commit()
    # The document itself did not change, so its version stays; the write happened without error
    # and the index still agrees with the database.
    assert get_index(app).stored_versions()[str(org.id)] == before
    assert services.check()["stale"] == []


def test_area_change_reindexes(app, db, make_org):
    org = make_org(name="Hillside Trust")
    org.areas.append(db.session.get(Area, "E07000178"))  # Oxford
    db.session.commit()
    assert features_of(app, org.id)["served"] == ["E07000178"]
    assert services.check()["stale"] == []


def test_delete_removes_document(app, db, make_org):
    org = make_org(name="Short Lived")
    db.session.delete(org)
    db.session.commit()
    assert str(org.id) not in indexed(app)


def test_rollback_writes_nothing(app, db, make_org):
    org = make_org(name="Old Name", commit=False)
    db.session.flush()
    db.session.rollback()
    assert indexed(app) == set()
    del org


def test_savepoint_rollback_keeps_the_outer_changes(app, db, make_org):
    kept = make_org(name="Kept", commit=False)
    nested = db.session.begin_nested()
    doomed = make_org(name="Doomed", commit=False)
    db.session.flush()
    doomed_id = doomed.id
    nested.rollback()
    db.session.commit()
    assert str(kept.id) in indexed(app)
    assert str(doomed_id) not in indexed(app)


def test_savepoint_rollback_of_a_delete_keeps_the_document(app, db, make_org):
    org = make_org(name="Survivor")
    nested = db.session.begin_nested()
    db.session.delete(org)
    db.session.flush()
    nested.rollback()
    db.session.commit()
    assert str(org.id) in indexed(app)


def test_check_reports_drift_and_rebuild_repairs_it(app, db, make_org):
    org = make_org(name="Drifting")
    get_index(app).write([], [org.id])
    assert services.check()["missing"] == [str(org.id)]
    assert services.needs_rebuild()
    assert services.rebuild() == 1
    assert services.check() == {"missing": [], "stale": [], "extra": []}


@pytest.mark.parametrize("text", ['AND OR ( " * ~', "", "üñíçødé ☃", "x" * 5000, "name:"])
def test_keyword_search_survives_stray_syntax(app, db, make_org, text):
    make_org(name="Anything")
    assert isinstance(services.search_organisation_ids(text), list)


def test_missing_index_directory_is_rebuilt_from_the_database(app, db, make_org, tmp_path):
    from portal.search.index import SearchIndex

    org = make_org(name="Rebuilt From Database")
    original = app.extensions["search_index"]
    app.extensions["search_index"] = SearchIndex(str(tmp_path / "search"))
    try:
        # Outside a request (a command), the index is rebuilt before it is read.
        assert services.search_organisation_ids("rebuilt") == [org.id]
        assert not app.extensions["search_index"].damaged
    finally:
        app.extensions["search_index"] = original


def test_corrupt_index_is_replaced(app, db, make_org, tmp_path):
    from portal.search.index import SearchIndex

    directory = tmp_path / "search"
    directory.mkdir()
    (directory / "_organisations_1.toc").write_bytes(b"not an index")
    index = SearchIndex(str(directory))
    index.open()
    assert index.damaged
