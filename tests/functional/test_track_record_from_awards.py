"""An award recorded on the forward plan becomes past work on each winner's profile: shown with
where it came from, indexed for search and read by matching."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.core.audit import AuditEvent
from portal.core.exceptions import DomainError
from portal.organisations import services as organisations
from portal.organisations.models import PastWork
from portal.pipeline import services
from portal.pipeline.models import Opportunity, uk_now
from portal.search import services as search
from portal.search.index import get_index

TITLE = "Kinship carers wellbeing service"


@pytest.fixture
def people(make_org, make_user):
    council = make_org("Leeds City Council", org_type="commissioner")
    charity = make_org("Leeds Kinship Carers", org_type="vcse")
    prime = make_org("Big Care Ltd", org_type="prime")
    return {"council": council, "charity": charity, "prime": prime,
            "officer": make_user(council, email="officer@leeds.example"),
            "manager": make_user(charity, email="manager@kinship.example"),
            "bidder": make_user(prime, email="bids@bigcare.example")}


def _closed_entry(db, people, interested=("manager",)):
    """An entry in evaluation, with interest registered by the given people."""
    officer = people["officer"]
    entry = services.create_opportunity(people["council"], {
        "title": TITLE, "description": "Support groups and short breaks for grandparents "
        "raising grandchildren across Leeds.", "main_cpv_code": "85312000", "areas": "Leeds",
        "value_min": 300_000, "value_basis": "whole_life", "suitable_vcse": True}, officer)
    services.change_status(entry, "planned", officer)
    services.change_status(entry, "open", officer, {"closing_at": uk_now() + timedelta(days=9)})
    for person in interested:
        services.express_interest(entry, people[person], "sole")
    entry = db.session.get(Opportunity, entry.id)
    entry.closing_at = uk_now() - timedelta(days=1)
    entry.tender_publish_on = (uk_now() - timedelta(days=30)).date()
    db.session.commit()
    services.change_status(entry, "evaluation", officer)
    return entry


def _track_record(db, org):
    db.session.expire_all()
    return db.session.scalars(select(PastWork).where(PastWork.organisation_id == org.id)).all()


def _stored_features(app, org_id):
    searcher = get_index(app).searcher()
    return searcher.stored_fields(searcher.document_number(id=str(org_id)))["features"]


def test_recording_an_award_adds_the_contract_to_the_winners_track_record(
        client, login, db, people):
    entry = _closed_entry(db, people)
    login(people["officer"])
    today = uk_now().date()
    response = client.post(f"/forward-plan/manage/{entry.id}/award", data={
        "awarded_on": [str(today.day), str(today.month), str(today.year)],
        "value": "£380,000", "winner_1_name": "leeds kinship carers"})
    assert response.status_code == 302, response.get_data(as_text=True)
    award = db.session.get(Opportunity, entry.id).award
    [work] = _track_record(db, people["charity"])
    assert (work.kind, work.title, work.funder_name, work.amount, work.awarded_on,
            work.source) == ("contract", TITLE, "Leeds City Council", 380_000, today,
                             f"award:{award.id}")
    assert work.description.startswith("Support groups and short breaks")
    assert work.origin == "award"
    added = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "past_work.added")).all()
    assert [(e.organisation_id, e.details["source"]) for e in added] == [
        (people["charity"].id, f"award:{award.id}")]


def test_the_winners_search_document_holds_the_contract_title(app, db, people):
    entry = _closed_entry(db, people)
    assert search.search_organisation_ids("wellbeing") == []
    assert search.search_organisation_ids("grandchildren") == []
    services.record_award(entry, {"awarded_on": uk_now().date(), "value": 380_000,
                                  "winners": [{"name": "Leeds Kinship Carers"}]},
                          people["officer"])
    charity = people["charity"].id
    assert search.search_organisation_ids("wellbeing") == [charity]
    assert search.search_organisation_ids("grandchildren") == [charity]  # the description
    features = _stored_features(app, charity)
    assert [p["title"] for p in features["past"]] == [TITLE]
    assert features["past"][0]["kind"] == "contract" and features["past_count"] == 1
    assert features["funders"] and "leeds" in features["funders"][0]


def test_a_name_alone_is_not_enough_and_a_joint_award_has_no_share(db, people):
    """Big Care Ltd never registered interest, so a winner of that name may be someone else:
    the award links to its profile as before, but nothing is added to its track record."""
    entry = _closed_entry(db, people)
    award = services.record_award(entry, {
        "awarded_on": uk_now().date(), "value": 500_000,
        "winners": [{"name": "Leeds Kinship Carers"}, {"name": "Big Care Ltd"},
                    {"name": "Local Lunch Club"}]}, people["officer"])
    assert [w.organisation_id for w in award.winners] == [
        people["charity"].id, people["prime"].id, None]
    [work] = _track_record(db, people["charity"])
    assert work.amount is None  # three winners; how the £500,000 was split is not known
    assert _track_record(db, people["prime"]) == []


def test_a_winner_named_twice_gains_the_contract_once(db, people):
    entry = _closed_entry(db, people, interested=("manager", "bidder"))
    services.record_award(entry, {
        "awarded_on": uk_now().date(), "value": 500_000,
        "winners": [{"name": "Leeds Kinship Carers"}, {"name": "LEEDS KINSHIP CARERS."},
                    {"name": "Big Care Limited"}]}, people["officer"])
    assert len(_track_record(db, people["charity"])) == 1
    [prime_work] = _track_record(db, people["prime"])  # "Limited" for "Ltd"; it took part
    assert prime_work.title == TITLE


def test_a_refused_award_adds_nothing(db, people):
    entry = _closed_entry(db, people)
    with pytest.raises(DomainError, match="future"):
        services.record_award(entry, {"awarded_on": uk_now().date() + timedelta(days=3),
                                      "winners": [{"name": "Leeds Kinship Carers"}]},
                              people["officer"])
    assert _track_record(db, people["charity"]) == []


def test_the_profile_says_where_each_item_came_from(client, db, people):
    entry = _closed_entry(db, people)
    services.record_award(entry, {"awarded_on": date.today(), "value": 380_000,
                                  "winners": [{"name": "Leeds Kinship Carers"}]},
                          people["officer"])
    charity = people["charity"]
    db.session.add_all([
        PastWork(organisation_id=charity.id, title="Grandparents' group", kind="grant",
                 funder_name="Lloyds Bank Foundation", awarded_on=date(2021, 3, 4),
                 source="Contains data published to the 360Giving Data Standard by Lloyds "
                        "Bank Foundation"),
        PastWork(organisation_id=charity.id, title="Family support", kind="contract",
                 funder_name="Wakefield Council", awarded_on=date(2020, 6, 1),
                 source="ocds:ocds-b5fd17-1234:award-1:GB-CHC-1100000"),
    ])
    db.session.commit()
    page = client.get(f"/organisations/{charity.id}").get_data(as_text=True)
    today = date.today()
    assert (f"Contract awarded through Pathfinder by Leeds City Council, {today.day} "
            f"{today:%B %Y}") in page
    assert "Grant from Lloyds Bank Foundation, 4 March 2021 (360Giving data)" in page
    assert "Contract awarded by Wakefield Council, 1 June 2020 (Contracts Finder notice)" in page


# --- The one function other packages call (sub-contracts will, too) ------------------------------

def test_past_work_from_one_origin_is_added_updated_and_removed_as_told(db, people):
    charity, prime = people["charity"], people["prime"]

    def work(org, **changes):
        values = {"organisation": org, "source": "subcontract:7", "title": "Peer support",
                  "description": "Weekly groups. " * 200, "funder_name": "Big Care Ltd",
                  "amount": 40_000, "awarded_on": date(2026, 5, 1), **changes}
        return organisations.EarnedWork(**values)

    record = organisations.record_past_work_from
    assert record("subcontract:7", [work(charity)]) == (1, 0, 0)
    db.session.commit()
    assert record("subcontract:7", [work(charity)]) == (0, 0, 0)
    assert record("subcontract:7", [work(charity, amount=45_000), work(prime)]) == (1, 1, 0)
    db.session.commit()
    [row] = _track_record(db, charity)
    assert row.amount == 45_000 and len(row.description) <= 1000
    assert row.description.endswith(" Weekly…")  # cut between words
    assert record("subcontract:7", [work(prime)]) == (0, 0, 1)
    assert record("subcontract:70", []) == (0, 0, 0)  # another origin's rows are not touched
    db.session.commit()
    assert _track_record(db, charity) == [] and len(_track_record(db, prime)) == 1
    with pytest.raises(ValueError):
        record("subcontract:8", [work(charity)])


def test_a_long_source_stays_within_its_column_and_stays_the_same():
    long = organisations.past_work_source("ocds", "ocds-b5fd17-" + "x" * 120, "award" * 20, "s")
    assert len(long) == 200 and long.startswith("ocds:ocds-b5fd17-")
    assert long == organisations.past_work_source("ocds", "ocds-b5fd17-" + "x" * 120,
                                                  "award" * 20, "s")
    assert long != organisations.past_work_source("ocds", "ocds-b5fd17-" + "x" * 120,
                                                  "award" * 20, "t")
