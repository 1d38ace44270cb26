"""Matching in the portal: who sees an entry's matches, invitations, the supplier's dashboard and
recommendations, dismissing, the stored matches following changes, the API and profile alerts."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.alerts import services as alerts
from portal.api.services import issue_token
from portal.core.audit import AuditEvent
from portal.core.mail import OutboxMessage
from portal.extensions import db as _db
from portal.matching import following, recommend
from portal.matching.models import (
    MatchInvitation, MatchRefresh, OpportunityMatch, RecommendationDismissal,
)
from portal.organisations import services as organisations
from portal.pipeline import services as pipeline
from portal.pipeline.models import Opportunity, uk_now

LEEDS, YORK = "E08000035", "E06000014"


def _entry(org, user, status="planned", **data):
    values = {"title": "Carers support service",
              "description": "Advice, short breaks and peer support for unpaid carers in Leeds",
              "main_cpv_code": "85312000", "areas": "Leeds", "value_min": 200_000,
              "value_basis": "whole_life", "suitable_vcse": True, **data}
    opportunity = pipeline.create_opportunity(org, values, user)
    if status in ("planned", "open"):
        pipeline.change_status(opportunity, "planned", user)
    if status == "open":
        pipeline.change_status(opportunity, "open", user,
                               {"closing_at": uk_now() + timedelta(days=30)})
    return opportunity


def _supplier(make_org, name, org_type, area, description, cpv="85312000"):
    org = make_org(name, org_type=org_type, description=description)
    organisations.add_area(org, area, None)
    organisations.add_category(org, cpv, None)
    return org


@pytest.fixture
def login(client, login):
    def switch(user):
        client.post("/sign-out")
        return login(user)
    return switch


@pytest.fixture
def people(make_org, make_user):
    leeds = make_org("Leeds City Council", org_type="commissioner")
    york = make_org("City of York Council", org_type="commissioner")
    carers = _supplier(make_org, "Leeds Carers Network", "vcse", LEEDS,
                       "Advice, short breaks and peer support for unpaid carers across Leeds")
    york_carers = _supplier(make_org, "York Carers Together", "vcse", YORK,
                            "Support and short breaks for unpaid carers in York")
    prime = _supplier(make_org, "Big Care Ltd", "prime", LEEDS,
                      "Home care and short breaks for carers, for councils in Yorkshire")
    return {
        "leeds": leeds, "york": york, "carers": carers, "york_carers": york_carers,
        "prime": prime,
        "officer": make_user(leeds, email="officer@leeds.example"),
        "york_officer": make_user(york, email="officer@york.example"),
        "carer_admin": make_user(carers, email="admin@carers.example"),
        "carer_member": make_user(carers, email="member@carers.example", role="member"),
        "york_admin": make_user(york_carers, email="admin@yorkcarers.example"),
        "bidder": make_user(prime, email="bids@bigcare.example"),
    }


def _page(client, url):
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


# --- Who sees an entry's matches ----------------------------------------------------------------

def test_the_buyer_sees_ranked_suppliers_with_reasons_and_strength(client, login, people):
    entry = _entry(people["leeds"], people["officer"])
    login(people["officer"])
    status, html = _page(client, f"/forward-plan/{entry.id}/matches")
    assert status == 200
    assert "Suppliers who could deliver this" in html
    assert html.index("Leeds Carers Network") < html.index("York Carers Together")
    assert "Leeds, where this service will be delivered" in html
    assert "match</strong>" in html  # a strength in words, not a number
    assert "Invite to express interest" in html
    assert "Leeds City Council" not in html.split("best match first")[1]  # buyers are not listed


def test_access_between_organisations_and_for_drafts(client, login, people):
    published = _entry(people["leeds"], people["officer"])
    draft = _entry(people["leeds"], people["officer"], status="draft", title="Draft idea")
    login(people["york_officer"])  # another buyer: neither entry's matches
    assert client.get(f"/forward-plan/{published.id}/matches").status_code == 404
    assert client.get(f"/forward-plan/{draft.id}/matches").status_code == 404
    login(people["bidder"])  # a prime looking for partners: the published entry only
    status, html = _page(client, f"/forward-plan/{published.id}/matches")
    assert status == 200 and "Possible partners" in html
    assert "Big Care Ltd" not in html.split("best match first")[1]  # not itself
    assert client.get(f"/forward-plan/{draft.id}/matches").status_code == 404
    login(people["carer_admin"])
    assert client.get(f"/forward-plan/{published.id}/matches").status_code == 200
    assert client.get(f"/forward-plan/{draft.id}/matches").status_code == 404
    login(people["officer"])
    status, html = _page(client, f"/forward-plan/{draft.id}/matches")
    assert status == 200 and "This entry is a draft" in html
    assert "Invite to express interest" not in html  # nobody can register interest in a draft
    client.post("/sign-out")
    response = client.get(f"/forward-plan/{published.id}/matches")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert client.get("/forward-plan/999999/matches").status_code == 302


def test_filters_narrow_the_list_and_bad_values_are_explained(client, login, people):
    entry = _entry(people["leeds"], people["officer"])
    login(people["officer"])
    status, html = _page(client, f"/forward-plan/{entry.id}/matches?type=prime")
    assert status == 200 and "Big Care Ltd" in html and "Leeds Carers Network" not in html
    status, html = _page(client, f"/forward-plan/{entry.id}/matches?area={YORK}")
    assert "York Carers Together" in html and "Leeds Carers Network" not in html
    status, html = _page(client, f"/forward-plan/{entry.id}/matches?accredited=y")
    assert status == 200 and "No suppliers match yet" in html
    status, html = _page(client, f"/forward-plan/{entry.id}/matches?tier=9&area=nowhere")
    assert status == 200 and "govuk-error-summary" in html
    assert "Choose an area from the list" in html


def test_each_lot_has_its_own_ranking(client, login, people):
    entry = _entry(people["leeds"], people["officer"])
    other = _entry(people["leeds"], people["officer"], title="Another service")
    lot = pipeline.add_lot(entry, {"title": "Carers in York", "areas": "York",
                                   "description": "Short breaks for unpaid carers in York",
                                   "cpv_codes": "85312000"}, people["officer"])
    login(people["officer"])
    status, html = _page(client, f"/forward-plan/{entry.id}/matches?lot={lot.id}")
    assert status == 200 and "lot 1" in html
    listed = html.split("best match first")[1]
    assert listed.index("York Carers Together") < listed.index("Leeds Carers Network")
    assert client.get(f"/forward-plan/{other.id}/matches?lot={lot.id}").status_code == 404


# --- Invitations --------------------------------------------------------------------------------

def _invite(client, entry, supplier, message="We would like to hear from you"):
    return client.post(f"/forward-plan/{entry.id}/matches/invite/{supplier.id}",
                       data={"message": message})


def test_an_invitation_is_sent_once_emailed_and_audited(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"])
    login(people["officer"])
    status, html = _page(client, f"/forward-plan/{entry.id}/matches/invite/{people['carers'].id}")
    assert status == 200 and "Why they match" in html and "Send invitation" in html
    response = _invite(client, entry, people["carers"])
    assert response.status_code == 302 and f"/forward-plan/{entry.id}/matches" in \
        response.headers["Location"]
    again = _invite(client, entry, people["carers"])
    # Back to the page, which says who invited them and when in place of the form.
    assert again.status_code == 302
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "already been invited" in page and "Each supplier is invited once" in page
    assert "Send invitation" not in page
    assert db.session.scalar(select(func.count(MatchInvitation.id))) == 1
    emails = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.recipient)).all()
    assert [m.recipient for m in emails] == ["admin@carers.example", "member@carers.example"]
    assert "Leeds City Council has invited Leeds Carers Network" in emails[0].body
    assert f"/forward-plan/{entry.id}" in emails[0].body
    assert "We would like to hear from you" in emails[0].body
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "matching.supplier_invited"))
    assert event.details["supplier"] == people["carers"].id
    assert event.organisation_id == people["leeds"].id
    status, html = _page(client, f"/forward-plan/{entry.id}/matches")
    assert "Invited " in html


def test_who_may_invite(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"])
    login(people["carer_admin"])  # a VCSE leading a bid invites to its bid too
    assert _invite(client, entry, people["york_carers"]).location.startswith(
        f"/consortia/invite/{entry.id}/")
    login(people["bidder"])  # a prime contractor invites to its bid, which can be answered
    to_bid = _invite(client, entry, people["carers"])
    assert to_bid.status_code == 302 and to_bid.location.startswith(
        f"/consortia/invite/{entry.id}/{people['carers'].id}")
    login(people["officer"])  # the buyer invites to express interest
    assert _invite(client, entry, people["carers"]).status_code == 302
    assert _invite(client, entry, people["leeds"]).status_code == 404  # not a supplier
    long = _invite(client, entry, people["york_carers"], message="x" * 1001)
    assert long.status_code == 200 and "1,000 characters" in long.get_data(as_text=True)
    assert db.session.scalar(select(func.count(MatchInvitation.id))) == 1
    draft = _entry(people["leeds"], people["officer"], status="draft", title="Draft")
    assert _invite(client, draft, people["carers"]).status_code == 404


def test_the_supplier_sees_the_invitation_on_its_dashboard(client, login, people):
    entry = _entry(people["leeds"], people["officer"])
    login(people["officer"])
    _invite(client, entry, people["carers"], message="Please get in touch")
    login(people["carer_member"])
    status, html = _page(client, "/dashboard")
    assert status == 200 and "Invitations to express interest" in html
    assert "Leeds City Council invited you" in html and "Please get in touch" in html
    assert f"/forward-plan/{entry.id}/interest" in html
    login(people["york_admin"])  # another supplier sees nothing of it
    assert "Please get in touch" not in _page(client, "/dashboard")[1]


def test_the_dashboard_is_for_suppliers(client, login, people):
    login(people["officer"])
    response = client.get("/dashboard")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/forward-plan/manage")
    login(people["carer_admin"])
    status, html = _page(client, "/dashboard")
    assert status == 200 and "Email me new recommendations" in html
    assert "/alerts/new?source=profile" in html


# --- Recommendations and dismissing -------------------------------------------------------------

def test_recommendations_list_the_entries_that_rank_the_supplier(client, login, people):
    entry = _entry(people["leeds"], people["officer"])
    login(people["carer_admin"])
    status, html = _page(client, "/recommendations")
    assert status == 200 and entry.title in html and "Why we suggest it" in html
    assert "Carers support service" in _page(client, "/dashboard")[1]
    login(people["officer"])
    assert client.get("/recommendations").status_code == 404  # buyers get none


def test_a_dismissed_recommendation_stays_dismissed_for_the_organisation(
        app, client, login, people, db):
    entry = _entry(people["leeds"], people["officer"])
    offered = f"/forward-plan/{entry.id}/interest"  # each recommendation's button
    login(people["carer_admin"])
    assert offered in _page(client, "/recommendations")[1]
    response = client.post(f"/recommendations/{entry.id}/dismiss", data={"next": "/dashboard"})
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    assert offered not in _page(client, "/recommendations")[1]
    with app.app_context():
        recommend.refresh_all(_db.session)  # recomputing the matches does not bring it back
    pipeline.update_opportunity(db.session.get(Opportunity, entry.id),
                                {"description": "Short breaks for unpaid carers in Leeds"},
                                people["officer"])
    login(people["carer_member"])  # the whole organisation, not just the person
    assert offered not in _page(client, "/recommendations")[1]
    assert offered not in _page(client, "/dashboard")[1]
    assert entry.title in _page(client, "/recommendations/dismissed")[1]
    assert db.session.scalar(select(func.count()).select_from(RecommendationDismissal)) == 1
    client.post(f"/recommendations/{entry.id}/restore")
    assert offered in _page(client, "/recommendations")[1]
    assert client.post("/recommendations/999999/dismiss").status_code == 404


# --- Stored matches follow the plan -------------------------------------------------------------

def _stored(db, entry):
    db.session.expire_all()
    return {row.organisation_id: row for row in db.session.scalars(
        select(OpportunityMatch).where(OpportunityMatch.opportunity_id == entry.id))}


def test_stored_matches_are_refreshed_when_an_entry_is_published_or_changed(people, db):
    entry = _entry(people["leeds"], people["officer"], status="draft")
    assert _stored(db, entry) == {}  # a draft recommends nothing
    pipeline.change_status(entry, "planned", people["officer"])
    before = _stored(db, entry)
    assert people["carers"].id in before
    assert before[people["carers"].id].rank < before[people["york_carers"].id].rank
    first_seen = before[people["carers"].id].first_matched_at
    pipeline.update_opportunity(entry, {"areas": "York", "description":
                                        "Short breaks for unpaid carers in York"},
                                people["officer"])
    after = _stored(db, entry)
    assert after[people["york_carers"].id].rank == 1
    assert after[people["carers"].id].first_matched_at == first_seen  # kept across refreshes
    refreshed_at = db.session.get(MatchRefresh, entry.id).computed_at
    pipeline.express_interest(entry, people["york_admin"], "sole")  # not a matching change
    assert db.session.get(MatchRefresh, entry.id).computed_at == refreshed_at
    pipeline.change_status(entry, "withdrawn", people["officer"], {"reason": "Merged"})
    assert _stored(db, entry) == {}


def test_a_commit_of_many_entries_is_left_to_the_refresh_command(app, people, db, monkeypatch):
    monkeypatch.setattr(following, "MAX_INLINE", 1)
    officer, leeds = people["officer"], people["leeds"]
    entries = [_entry(leeds, officer, status="draft", title=f"Service {n}") for n in range(3)]
    for entry in entries:
        entry.move_to("planned")
    db.session.commit()  # one commit publishing three entries
    assert all(db.session.get(MatchRefresh, e.id).stale for e in entries)
    assert _stored(db, entries[0]) == {}
    result = app.test_cli_runner().invoke(args=["matching", "refresh", "--stale"])
    assert result.exit_code == 0, result.output
    assert "entries: 3" in result.stdout and "matches refreshed: 3/3" in result.stderr
    assert people["carers"].id in _stored(db, entries[0])


# --- API ----------------------------------------------------------------------------------------

def test_api_matches_with_a_session_and_with_a_token(app, client, login, people, conforms):
    entry = _entry(people["leeds"], people["officer"])
    draft = _entry(people["leeds"], people["officer"], status="draft", title="Draft")
    login(people["officer"])
    body = client.get(f"/api/v1/opportunities/{entry.id}/matches?limit=5").get_json()
    conforms(body, "MatchList")
    assert body["items"][0]["organisation"]["name"] == "Leeds Carers Network"
    assert body["items"][0]["reasons"] and body["items"][0]["strength"] in (
        "strong", "good", "possible")
    typed = client.get(f"/api/v1/opportunities/{entry.id}/matches?type=prime").get_json()
    assert [i["organisation"]["name"] for i in typed["items"]] == ["Big Care Ltd"]
    bad = client.get(f"/api/v1/opportunities/{entry.id}/matches?tier=7&limit=0")
    assert bad.status_code == 400 and bad.is_json
    with app.app_context():
        _row, york_token = issue_token(_db.session.merge(people["york_officer"]), "CRM")
        _row, prime_token = issue_token(_db.session.merge(people["bidder"]), "CRM")
    anonymous = app.test_client()
    url = f"/api/v1/opportunities/{entry.id}/matches"
    assert anonymous.get(url).status_code == 401
    assert anonymous.get(url, headers={"Authorization": f"Bearer {york_token}"}).status_code \
        == 404  # another buyer
    as_prime = anonymous.get(url, headers={"Authorization": f"Bearer {prime_token}"})
    assert as_prime.status_code == 200
    assert "Big Care Ltd" not in [i["organisation"]["name"] for i in as_prime.get_json()["items"]]
    assert anonymous.get(f"/api/v1/opportunities/{draft.id}/matches", headers={
        "Authorization": f"Bearer {prime_token}"}).status_code == 404


def test_api_recommendations_only_for_the_suppliers_own_organisation(
        app, client, login, people, conforms, make_user):
    entry = _entry(people["leeds"], people["officer"])
    carers, york_carers = people["carers"], people["york_carers"]
    login(people["carer_admin"])
    body = client.get(f"/api/v1/suppliers/{carers.id}/recommendations").get_json()
    conforms(body, "RecommendationList")
    assert [i["opportunity"]["id"] for i in body["items"]] == [entry.id]
    assert client.get(f"/api/v1/suppliers/{york_carers.id}/recommendations").status_code == 404
    with app.app_context():
        _row, token = issue_token(_db.session.merge(people["york_admin"]), "CRM")
    bearer = {"Authorization": f"Bearer {token}"}
    anonymous = app.test_client()
    assert anonymous.get(f"/api/v1/suppliers/{york_carers.id}/recommendations",
                         headers=bearer).status_code == 200
    assert anonymous.get(f"/api/v1/suppliers/{carers.id}/recommendations",
                         headers=bearer).status_code == 404
    login(make_user(None, email="admin@pathfinder.example", site_admin=True))
    assert client.get(f"/api/v1/suppliers/{carers.id}/recommendations").status_code == 200
    paths = conforms.document["paths"]
    assert {"/api/v1/opportunities/{id}/matches", "/api/v1/suppliers/{id}/recommendations"} \
        <= set(paths)
    assert json.dumps(paths["/api/v1/suppliers/{id}/recommendations"]).count("bearerToken") == 1


# --- Profile alerts -----------------------------------------------------------------------------

def _run_alerts(app):
    with app.test_request_context(base_url="http://portal.example"):
        return alerts.run()


def test_profile_alerts_send_new_and_changed_recommendations_once(app, people, db):
    subscriber = people["carer_admin"]
    alerts.subscribe(subscriber, "profile", "Recommended for us", {}, "instant")
    assert _run_alerts(app).emails == 0  # nothing new since subscribing
    entry = _entry(people["leeds"], people["officer"])
    first = _run_alerts(app)
    assert (first.new_items, first.emails) == (1, 1)
    email = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.recipient == subscriber.email)).all()[-1]
    assert "Carers support service" in email.body
    assert f"http://portal.example/forward-plan/{entry.id}" in email.body
    assert _run_alerts(app).emails == 0  # idempotent
    recommend.refresh_all(db.session)
    assert _run_alerts(app).emails == 0  # recomputing alone is not news
    pipeline.update_opportunity(db.session.get(Opportunity, entry.id),
                                {"description": "Advice and short breaks for carers in Leeds, "
                                                "now with a helpline"}, people["officer"])
    assert _run_alerts(app).items_sent == 1  # the entry changed: sent again
    other = _entry(people["leeds"], people["officer"], title="Young carers support")
    pipeline.express_interest(db.session.get(Opportunity, other.id),
                              db.session.merge(subscriber), "sole")
    assert _run_alerts(app).emails == 0  # already interested: not a recommendation


# --- Saying what really happened ----------------------------------------------------------------

def test_inviting_an_organisation_nobody_can_receive_says_nobody_was_emailed(
        client, login, people, db, make_org):
    quiet = _supplier(make_org, "Leeds Young Carers Project", "vcse", LEEDS,
                      "Short breaks and peer support for young carers in Leeds")
    entry = _entry(people["leeds"], people["officer"])
    login(people["officer"])
    status, html = _page(client, f"/forward-plan/{entry.id}/matches")
    assert "No account yet" in html.split("Leeds Young Carers Project")[1][:800]
    status, html = _page(client, f"/forward-plan/{entry.id}/matches/invite/{quiet.id}")
    assert "so nobody will be emailed" in html
    response = _invite(client, entry, quiet)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Invitation recorded for Leeds Young Carers Project" in page
    assert "nobody was emailed" in page and "Their team has been emailed" not in page
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert db.session.scalar(select(func.count(MatchInvitation.id))) == 1


def test_an_invitation_says_how_many_people_were_emailed(client, login, people):
    entry = _entry(people["leeds"], people["officer"])
    login(people["officer"])
    response = _invite(client, entry, people["carers"])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "We emailed 2 people there" in page


def test_the_matches_page_says_when_few_suppliers_show_evidence(client, login, people):
    entry = _entry(people["leeds"], people["officer"], title="Carers short breaks")
    login(people["officer"])
    status, html = _page(client, f"/forward-plan/{entry.id}/matches")
    assert status == 200
    assert "show evidence of delivering this kind of service" in html


def test_the_matches_page_counts_suppliers_left_out_by_a_reservation(client, login, people):
    entry = _entry(people["leeds"], people["officer"], procurement_route="below_threshold",
                   reservation="location", reservation_area="Leeds")
    login(people["officer"])
    status, html = _page(client, f"/forward-plan/{entry.id}/matches")
    assert status == 200
    assert "not listed because" in html
    assert "not based in Leeds, which the contract is reserved for" in html
    assert "York Carers Together" not in html
    # No postcode, but working only in Leeds: based there as far as anyone can tell.
    assert "Leeds Carers Network" in html.split("best match first")[1]
