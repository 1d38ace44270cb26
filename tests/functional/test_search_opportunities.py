"""Forward-plan entries in the search index: kept in step after commit, found by stemmed words
(also in their lots and buyer's name), checked and rebuilt, and searched from the list and API."""
import pytest

from portal.pipeline import services as pipeline
from portal.pipeline.models import Lot
from portal.search import services
from portal.search.opportunities import get_opportunity_index


@pytest.fixture
def buyer(make_org, make_user):
    council = make_org("Leeds City Council", org_type="commissioner")
    return council, make_user(council, email="officer@leeds.example")


def _entry(buyer, **data):
    council, officer = buyer
    values = {"title": "Carers support service", "description": "Advice and short breaks",
              "main_cpv_code": "85312000", "areas": "Leeds", "value_min": 400_000,
              "value_basis": "whole_life", "suitable_vcse": True, **data}
    entry = pipeline.create_opportunity(council, values, officer)
    pipeline.change_status(entry, "planned", officer, {})
    return entry


def test_entry_is_indexed_after_commit_and_stemmed(app, db, buyer):
    entry = _entry(buyer)
    assert services.search_opportunity_ids("carer") == [entry.id]
    assert services.search_opportunity_ids("Leeds City") == [entry.id]  # the buyer's name
    assert services.check() == {"missing": [], "stale": [], "extra": []}


def test_lot_change_reindexes_parent(app, db, buyer):
    entry = _entry(buyer)
    db.session.add(Lot(opportunity_id=entry.id, number=1, title="Dementia cafes"))
    db.session.commit()
    assert services.search_opportunity_ids("dementia") == [entry.id]
    assert services.check()["stale"] == []


def test_rollback_drops_pending_writes(app, db, buyer):
    entry = _entry(buyer)
    entry.title = "Allotment gardening"
    db.session.flush()
    db.session.rollback()
    assert services.search_opportunity_ids("allotment") == []


def test_check_reports_drift_and_rebuild_repairs(app, db, buyer):
    entry = _entry(buyer)
    get_opportunity_index(app).write([], [entry.id])
    assert services.check()["missing"] == [f"opportunity:{entry.id}"]
    services.rebuild()
    assert services.check() == {"missing": [], "stale": [], "extra": []}


@pytest.mark.parametrize("text", ['AND OR ( " * ~', "x" * 5000, "社区 🙂", "", "carers)"])
def test_list_and_api_take_any_query(client, db, buyer, text):
    entry = _entry(buyer)
    page = client.get("/forward-plan", query_string={"q": text})
    assert page.status_code == 200
    api = client.get("/api/v1/opportunities", query_string={"q": text})
    # The API refuses an over-long query with a JSON error saying so; anything else is searched.
    assert api.status_code == (400 if len(text) > 200 else 200)
    assert api.is_json
    if "carers" in text:
        assert entry.title in page.get_data(as_text=True)


def test_list_search_keeps_filters(client, db, buyer):
    carers = _entry(buyer)
    _entry(buyer, title="Carers breaks in York", areas="York")
    body = client.get("/forward-plan", query_string={"q": "carers", "area": "E08000035"}
                      ).get_data(as_text=True)
    assert carers.title in body
    assert "Carers breaks in York" not in body
