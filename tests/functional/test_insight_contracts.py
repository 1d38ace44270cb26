"""The contracts register: a contract for every award, with the dates the entry gives; the
contracts ending soon without a re-procurement entry, and the draft one click makes; editing a
contract's terms; the CSV and the API; and who may see a buyer's contracts."""
import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select

from portal.core.audit import AuditEvent
from portal.insight import contracts
from portal.insight.models import Contract
from portal.pipeline import services as pipeline
from portal.pipeline.models import Opportunity, uk_now
from portal.reference.models import VocabularyTerm
from tests.conftest import csrf_token_from
from tests.functional.test_fieldset_legends import legends

LEEDS, BRADFORD = "E08000035", "E08000032"


@pytest.fixture
def people(make_org, make_user):
    council = make_org("Leeds City Council", org_type="commissioner")
    other = make_org("Bradford Council", org_type="commissioner")
    charity = make_org("Leeds Kinship Carers", org_type="vcse")
    return {"council": council, "other": other, "charity": charity,
            "officer": make_user(council, email="officer@leeds.example"),
            "rival": make_user(other, email="officer@bradford.example"),
            "manager": make_user(charity, email="manager@kinship.example"),
            "admin": make_user(site_admin=True, email="root@pathfinder.example")}


def _today():
    return uk_now().date()


def _client_groups(db):
    return db.session.scalars(select(VocabularyTerm).where(
        VocabularyTerm.vocabulary == "client_group").order_by(VocabularyTerm.position)
        .limit(2)).all()


def _awarded(db, people, winners, **fields):
    """An entry taken through its lifecycle to an award; returns the entry."""
    officer = people["officer"]
    entry = pipeline.create_opportunity(people["council"], {
        "title": "Kinship carers support", "description": "Groups and short breaks for "
        "grandparents raising grandchildren.", "main_cpv_code": "85312000",
        "areas": [LEEDS, BRADFORD], **fields}, officer)
    pipeline.change_status(entry, "planned", officer)
    pipeline.change_status(entry, "open", officer, {"closing_at": uk_now() + timedelta(days=9)})
    entry = db.session.get(Opportunity, entry.id)
    entry.closing_at = uk_now() - timedelta(days=20)
    entry.tender_publish_on = _today() - timedelta(days=60)
    db.session.commit()
    pipeline.change_status(entry, "evaluation", officer)
    pipeline.record_award(entry, {"awarded_on": _today() - timedelta(days=10), "value": 330_000,
                                  "winners": winners}, officer)
    return db.session.get(Opportunity, entry.id)


def _contract_of(db, entry):
    db.session.expire_all()
    return db.session.scalar(select(Contract).join(Contract.award)
                             .where(Contract.award_id == entry.award.id))


def _manual(people, title, ends_on, org="council", **fields):
    data = {"title": title, "supplier_names": "Leeds Kinship Carers",
            "starts_on": ends_on - timedelta(days=700), "ends_on": ends_on, **fields}
    who = people["officer"] if org == "council" else people["rival"]
    return contracts.add_contract(people[org], data, who)


def _date_fields(name, day):
    return {name: [str(day.day), str(day.month), str(day.year)]}


# --- Dates --------------------------------------------------------------------------------------

def test_terms_count_months_inclusively():
    assert contracts.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert contracts.last_day(date(2025, 4, 1), 12) == date(2026, 3, 31)
    assert contracts.last_day(date(2024, 2, 29), 12) == date(2025, 2, 27)
    assert contracts.months_between(date(2025, 4, 1), date(2028, 3, 31)) == 36
    assert contracts.months_between(date(2025, 4, 1), date(2025, 4, 3)) == 1


# --- From awards --------------------------------------------------------------------------------

def test_an_award_becomes_a_contract_with_the_entrys_dates(db, people):
    groups = _client_groups(db)
    entry = _awarded(db, people, [{"name": "Leeds Kinship Carers"},
                                  {"name": "Care Partners Ltd", "is_sme": True}],
                     contract_start_on=date(2031, 4, 1), contract_months=36,
                     extension_months=12, client_groups=[str(t.id) for t in groups])
    contract = _contract_of(db, entry)
    assert (contract.organisation_id, contract.source, contract.title, contract.value) == (
        people["council"].id, "award", "Kinship carers support", 330_000)
    assert (contract.starts_on, contract.ends_on, contract.extension_ends_on) == (
        date(2031, 4, 1), date(2034, 3, 31), date(2035, 3, 31))
    assert contract.supplier_names == "Leeds Kinship Carers; Care Partners Ltd"
    assert (contract.any_vcse, contract.any_sme, contract.main_cpv_code) == (
        True, True, "85312000")
    assert not contracts.is_end_estimated(contract)
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "contract.created")) == 1


def test_without_a_length_the_end_is_a_year_on_and_shown_as_estimated(
        client, login, db, people):
    entry = _awarded(db, people, [{"name": "Care Partners Ltd"}])
    contract = _contract_of(db, entry)
    awarded_on = entry.award.awarded_on
    assert (contract.starts_on, contract.ends_on, contract.extension_ends_on) == (
        awarded_on, contracts.last_day(awarded_on, 12), None)
    assert (contract.any_vcse, contract.any_sme) == (False, False)
    assert contracts.is_end_estimated(contract)
    login(people["officer"])
    assert "Estimated" in client.get("/insight/contracts").get_data(as_text=True)
    # Starting the re-procurement is not a confirmation of the dates ...
    client.post(f"/insight/contracts/{contract.id}/reprocurement")
    assert contracts.is_end_estimated(_contract_of(db, entry))
    # ... saving them is.
    response = client.post(f"/insight/contracts/{contract.id}", data={
        **_date_fields("starts_on", contract.starts_on),
        **_date_fields("ends_on", contract.ends_on), "value": "330000"})
    assert response.status_code == 302
    assert not contracts.is_end_estimated(_contract_of(db, entry))


def test_sync_creates_missing_contracts_once(app, db, people):
    entry = _awarded(db, people, [{"name": "Care Partners Ltd"}], contract_months=24)
    db.session.execute(delete(Contract))
    db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["insight", "contracts-sync"])
    assert first.exit_code == 0 and "Contracts created from awards: 1" in first.output
    again = runner.invoke(args=["insight", "contracts-sync"])
    assert again.exit_code == 0 and "Contracts created from awards: 0" in again.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Contract.id))) == 1
    assert _contract_of(db, entry).ends_on == contracts.last_day(entry.award.awarded_on, 24)
    unknown = runner.invoke(args=["insight", "contracts-sync", "--organisation",
                                  str(people["charity"].id)])
    assert unknown.exit_code != 0 and "No commissioning organisation" in unknown.output


# --- Ending soon --------------------------------------------------------------------------------

def _section(html, element_id):
    match = re.search(rf'<table [^>]*id="{element_id}">(.*?)</table>', html,
                      re.S)
    return match.group(1) if match else ""


def test_the_panel_lists_contracts_ending_within_two_years_without_an_entry(
        client, login, db, people):
    today = _today()
    soon = _manual(people, "Day opportunities", contracts.add_months(today, 20))
    later = _manual(people, "Advocacy hub", contracts.add_months(today, 30))
    covered = _manual(people, "Carers breaks", contracts.add_months(today, 10))
    entry = contracts.start_reprocurement(covered, people["officer"])
    _manual(people, "Bradford meals", contracts.add_months(today, 5), org="other")
    login(people["officer"])
    html = client.get("/insight/contracts").get_data(as_text=True)
    panel = _section(html, "ending-soon-table")
    assert "Day opportunities" in panel and "Start re-procurement" in panel
    assert "Advocacy hub" not in panel and "Carers breaks" not in panel
    assert "Bradford meals" not in html
    register = _section(html, "register-table")
    assert f'/forward-plan/manage/{entry.id}"' in register and "Entry added" in register
    assert "2 contracts end within the next 24 months; 1 of them has a re-procurement " \
           "entry" in " ".join(html.split())
    assert contracts.expiring_summary(people["council"]) == {
        "months": 24, "expiring": 2, "with_reprocurement": 1, "without_reprocurement": 1}
    assert [c.id for c in contracts.ending_soon(people["council"])[0]] == [soon.id]
    assert later.id in [c.id for c in contracts.register(
        people["council"], contracts.RegisterQuery()).items]


def test_the_register_filters_and_sorts(client, login, db, people):
    today = _today()
    _manual(people, "Ends in 4 months", contracts.add_months(today, 4), value=10_000)
    _manual(people, "Ends in 14 months", contracts.add_months(today, 14), value=90_000)
    _manual(people, "Ended last year", today - timedelta(days=300), value=50_000)
    login(people["officer"])

    def titles(query):
        html = client.get(f"/insight/contracts?{query}").get_data(as_text=True)
        return re.findall(r'/insight/contracts/\d+">([^<]+)</a>', _section(html, "register-table"))
    assert titles("") == ["Ends in 4 months", "Ends in 14 months"]
    assert titles("ending=6") == ["Ends in 4 months"]
    assert titles("ending=ended") == ["Ended last year"]
    assert titles("ending=all&sort=value") == ["Ends in 14 months", "Ended last year",
                                               "Ends in 4 months"]
    assert titles("ending=nonsense&sort=%00&page=x") == ["Ends in 4 months",
                                                         "Ends in 14 months"]


def test_one_click_drafts_the_re_procurement_from_the_contract(client, login, db, people):
    groups = _client_groups(db)
    entry = _awarded(db, people, [{"name": "Leeds Kinship Carers"}],
                     contract_start_on=_today() + timedelta(days=30), contract_months=18,
                     extension_months=6, client_groups=[str(t.id) for t in groups])
    contract = _contract_of(db, entry)
    login(people["officer"])
    response = client.post(f"/insight/contracts/{contract.id}/reprocurement")
    assert response.status_code == 302
    draft_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert response.headers["Location"].endswith(f"/forward-plan/manage/{draft_id}")
    draft = db.session.get(Opportunity, draft_id)
    assert (draft.status, draft.organisation_id, draft.title) == (
        "draft", people["council"].id, "Kinship carers support (re-procurement)")
    assert draft.description == entry.description
    assert draft.main_cpv_code == "85312000"
    assert sorted(a.code for a in draft.areas) == sorted(a.code for a in entry.areas)
    assert [t.id for t in draft.client_groups] == [t.id for t in groups]
    assert (draft.contract_months, draft.extension_months) == (18, 6)
    contract = _contract_of(db, entry)
    assert draft.contract_start_on == contract.extension_ends_on + timedelta(days=1)
    assert contract.reprocurement_id == draft.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "added to your forward plan" in page
    detail = client.get(f"/insight/contracts/{contract.id}").get_data(as_text=True)
    assert f'/forward-plan/manage/{draft.id}"' in detail
    again = client.post(f"/insight/contracts/{contract.id}/reprocurement")
    assert again.status_code == 302 and "/insight/contracts/" in again.headers["Location"]
    assert "already has a re-procurement entry" in client.get(
        again.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(func.count(Opportunity.id))) == 2


def test_a_contract_from_outside_the_portal_gets_a_plain_draft(db, people):
    contract = _manual(people, "Meals on wheels", date(2030, 3, 31), main_cpv_code="85311000",
                       starts_on=date(2027, 4, 1), extension_ends_on=date(2031, 3, 31))
    data = contracts.reprocurement_data(contract)
    assert data["title"] == "Meals on wheels (re-procurement)"
    assert "Meals on wheels" in data["description"] and "31 March 2031" in data["description"]
    assert (data["main_cpv_code"], data["contract_months"], data["extension_months"],
            data["contract_start_on"]) == ("85311000", 36, 12, date(2031, 4, 1))
    assert "areas" not in data and "client_groups" not in data


def test_starting_a_re_procurement_needs_the_form_token(app, client, login, db, people):
    contract = _manual(people, "Day opportunities", contracts.add_months(_today(), 20))
    login(people["officer"])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post(f"/insight/contracts/{contract.id}/reprocurement")
        assert refused.status_code == 400
        assert db.session.scalar(select(func.count(Opportunity.id))) == 0
        token = csrf_token_from(client.get("/insight/contracts").get_data(as_text=True))
        response = client.post(f"/insight/contracts/{contract.id}/reprocurement",
                               data={"csrf_token": token})
        assert response.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert db.session.scalar(select(func.count(Opportunity.id))) == 1


# --- Editing and adding -------------------------------------------------------------------------

def test_an_end_before_the_start_is_refused_and_nothing_is_stored(client, login, db, people):
    contract = _manual(people, "Day opportunities", date(2029, 3, 31),
                       starts_on=date(2027, 4, 1), value=100_000)
    login(people["officer"])
    response = client.post(f"/insight/contracts/{contract.id}", data={
        **_date_fields("starts_on", date(2027, 4, 1)), **_date_fields("ends_on", date(2026, 1, 1)),
        "value": "£250,000"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "govuk-error-summary" in html
    assert 'href="#ends_on-day"' in html and "must be after the start date" in html
    assert "<title>Error:" in html
    db.session.expire_all()
    stored = db.session.get(Contract, contract.id)
    assert (stored.ends_on, stored.value) == (date(2029, 3, 31), 100_000)
    missing = client.post(f"/insight/contracts/{contract.id}", data={
        **_date_fields("ends_on", date(2029, 3, 31)), "starts_on": ["31", "2", "2027"]})
    assert 'href="#starts_on-day"' in missing.get_data(as_text=True)


def test_changing_the_terms_is_stored_and_audited(client, login, db, people):
    contract = _manual(people, "Day opportunities", date(2029, 3, 31),
                       starts_on=date(2027, 4, 1))
    login(people["officer"])
    response = client.post(f"/insight/contracts/{contract.id}", data={
        **_date_fields("starts_on", date(2027, 4, 1)), **_date_fields("ends_on", date(2030, 3, 31)),
        **_date_fields("extension_ends_on", date(2031, 3, 31)), "value": "£250,000"})
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Contract, contract.id)
    assert (stored.ends_on, stored.extension_ends_on, stored.value) == (
        date(2030, 3, 31), date(2031, 3, 31), 250_000)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contract.updated"))
    assert event.details["changed"] == ["ends_on", "extension_ends_on", "value"]
    assert event.actor_id == people["officer"].id


def test_a_contract_let_outside_the_portal_is_added_by_hand(client, login, db, people):
    login(people["officer"])
    page = client.get("/insight/contracts/new")
    assert page.status_code == 200
    empty = client.post("/insight/contracts/new", data={})
    html = empty.get_data(as_text=True)
    assert "Enter the title of the contract" in html and 'href="#starts_on-day"' in html
    response = client.post("/insight/contracts/new", data={
        "title": "Meals on wheels", "supplier_names": "Leeds Meals CIC",
        "holders": ["any_vcse"], "main_cpv_code": "85311000",
        **_date_fields("starts_on", date(2026, 4, 1)), **_date_fields("ends_on", date(2028, 3, 31)),
        "value": "120,000"})
    assert response.status_code == 302
    contract = db.session.scalar(select(Contract))
    assert (contract.source, contract.title, contract.supplier_names, contract.any_vcse,
            contract.any_sme, contract.main_cpv_code, contract.value) == (
        "manual", "Meals on wheels", "Leeds Meals CIC", True, False, "85311000", 120_000)
    assert response.headers["Location"].endswith(f"/insight/contracts/{contract.id}")
    bad_code = client.post("/insight/contracts/new", data={
        "title": "Meals", "main_cpv_code": "12", **_date_fields("starts_on", date(2026, 4, 1)),
        **_date_fields("ends_on", date(2028, 3, 31))})
    assert 'href="#main_cpv_code"' in bad_code.get_data(as_text=True)


def test_every_group_of_boxes_says_its_question(client, login, db, people):
    contract = _manual(people, "Day opportunities", date(2029, 3, 31))
    login(people["officer"])
    for url in ("/insight/contracts/new", f"/insight/contracts/{contract.id}"):
        found = legends(client.get(url).get_data(as_text=True))
        assert found and all(found), (url, found)
    new = legends(client.get("/insight/contracts/new").get_data(as_text=True))
    assert "The suppliers include (optional)" in new and "End date" in new


# --- The CSV and the API ------------------------------------------------------------------------

def test_the_csv_holds_the_filtered_register(client, login, db, people):
    today = _today()
    _manual(people, "=HYPERLINK(\"x\")", contracts.add_months(today, 4), value=10_000)
    _manual(people, "Ends in 30 months", contracts.add_months(today, 30))
    _manual(people, "Bradford meals", contracts.add_months(today, 5), org="other")
    login(people["officer"])
    response = client.get("/insight/contracts.csv?ending=12")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == list(contracts.CSV_HEADINGS)
    assert [row[0] for row in rows[1:]] == ["'=HYPERLINK(\"x\")"]
    assert rows[1][4] == "10000" and rows[1][6] == contracts.add_months(today, 4).isoformat()
    everything = client.get("/insight/contracts.csv?ending=all").get_data(as_text=True)
    assert "Ends in 30 months" in everything and "Bradford meals" not in everything


def test_the_api_lists_a_commissioners_contracts(client, db, people, conforms):
    entry = _awarded(db, people, [{"name": "Leeds Kinship Carers"}],
                     contract_start_on=date(2031, 4, 1), contract_months=36)
    contract = _contract_of(db, entry)
    draft = contracts.start_reprocurement(contract, people["officer"])
    _manual(people, "Bradford meals", date(2030, 1, 1), org="other")
    url = f"/api/v1/commissioners/{people['council'].id}/contracts"
    body = client.get(url).get_json()
    conforms(body, "ContractList")
    [item] = body["items"]
    assert (item["title"], item["suppliers"], item["value"], item["starts_on"],
            item["ends_on"], item["any_vcse"], item["reprocurement_id"]) == (
        "Kinship carers support", "Leeds Kinship Carers", 330_000, "2031-04-01",
        "2034-03-31", True, None)
    pipeline.change_status(db.session.get(Opportunity, draft.id), "planned",
                           people["officer"])
    assert client.get(url).get_json()["items"][0]["reprocurement_id"] == draft.id
    assert client.get(f"{url}?ending=ended").get_json()["items"] == []
    assert client.get(f"{url}?ending=soon").status_code == 400
    assert client.get(f"/api/v1/commissioners/{people['charity'].id}/contracts"
                      ).status_code == 404


# --- Who may see it -----------------------------------------------------------------------------

def test_another_buyers_contract_is_missing(client, login, db, people):
    contract = _manual(people, "Day opportunities", contracts.add_months(_today(), 20))
    login(people["rival"])
    assert client.get(f"/insight/contracts/{contract.id}").status_code == 404
    assert client.post(f"/insight/contracts/{contract.id}", data={}).status_code == 404
    assert client.post(f"/insight/contracts/{contract.id}/reprocurement").status_code == 404
    assert client.get(f"/insight/contracts?organisation={people['council'].id}"
                      ).status_code == 404
    assert client.get(f"/insight/contracts.csv?organisation={people['council'].id}"
                      ).status_code == 404
    assert "Day opportunities" not in client.get("/insight/contracts").get_data(as_text=True)
    assert db.session.scalar(select(func.count(Opportunity.id))) == 0


def test_a_vcse_sees_no_register(client, login, db, people):
    contract = _manual(people, "Day opportunities", contracts.add_months(_today(), 20))
    login(people["manager"])
    for url in ("/insight/contracts", "/insight/contracts.csv", "/insight/contracts/new",
                f"/insight/contracts/{contract.id}"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/insight/contracts/{contract.id}/reprocurement").status_code == 404


def test_a_site_admin_reads_any_buyers_register_without_changing_it(client, login, db, people):
    contract = _manual(people, "Day opportunities", contracts.add_months(_today(), 20))
    login(people["admin"])
    html = client.get(f"/insight/contracts?organisation={people['council'].id}"
                      ).get_data(as_text=True)
    assert "Day opportunities" in html and "Start re-procurement" not in html
    detail = client.get(f"/insight/contracts/{contract.id}")
    assert detail.status_code == 200 and "Save changes" not in detail.get_data(as_text=True)
    assert client.get("/insight/contracts").status_code == 404
    assert client.post(f"/insight/contracts/{contract.id}/reprocurement").status_code == 404


def test_signing_in_is_asked_for_first(client, db, people):
    response = client.get("/insight/contracts")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
