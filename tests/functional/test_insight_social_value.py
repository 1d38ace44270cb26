"""Social value committed against delivered: a supplier commits only at a stage it has reached
(interest, consortium, award) and nothing is stored otherwise; only the committing winner
reports delivery, after award, once per period; the commissioner's summary adds up in the
database to a known answer, by theme, supplier and contract, with CSV downloads; who may see
which page; the link on the entry's page; the demonstration data; and our measures list."""
import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.consortia import services as consortia
from portal.core.audit import AuditEvent
from portal.core.exceptions import DomainError, PermissionDenied
from portal.extensions import db as _db
from portal.insight import social_value
from portal.insight.filters import InsightFilters
from portal.insight.models import SocialValueCommitment, SocialValueReport
from portal.insight.social_value_demo import DEMO_NOTE, seed_demo_social_value
from portal.pipeline import services as pipeline
from portal.pipeline.models import SOCIAL_VALUE_THEMES, Opportunity, uk_now
from tests import factories
from tests.conftest import csrf_token_from
from tests.functional.consortia_world import build_world

TODAY = uk_now().date()


@pytest.fixture
def world(app, ctx):
    with app.test_request_context():
        yield build_world()


@pytest.fixture
def sign_in(client):
    def switch(user):
        client.post("/sign-out")
        response = client.post("/sign-in", data={"email": user.email,
                                                 "password": factories.PASSWORD})
        assert response.status_code == 302
    return switch


def _page(client, url, data=None):
    response = client.post(url, data=data) if data is not None else client.get(url)
    assert response.status_code != 500, response.get_data(as_text=True)[:3000]
    return response.status_code, response.get_data(as_text=True)


def _count(model=SocialValueCommitment):
    _db.session.expire_all()
    return _db.session.scalar(select(func.count()).select_from(model))


def _interest(world, user):
    pipeline.express_interest(world.entry, user, "sole")


def _award(world, *winners, days_ago=0):
    """Close the entry and award it to `winners`, the award dated `days_ago`."""
    entry, officer = world.entry, world.buyer_user
    pipeline.change_status(entry, "open", officer, {"closing_at": uk_now() + timedelta(days=9)})
    entry = _db.session.get(Opportunity, entry.id)
    entry.closing_at = uk_now() - timedelta(days=days_ago + 1)
    entry.tender_publish_on = TODAY - timedelta(days=days_ago + 30)
    _db.session.commit()
    pipeline.change_status(entry, "evaluation", officer)
    pipeline.record_award(entry, {"awarded_on": TODAY - timedelta(days=days_ago),
                                  "value": 500_000,
                                  "winners": [{"name": w.name} for w in winners]}, officer)
    world.entry = _db.session.get(Opportunity, entry.id)
    return world.entry


def _commit(world, org, user, stage, measure="staff_volunteering_hours", amount=100):
    return social_value.make_commitment(world.entry, org, user, stage, measure,
                                        Decimal(amount), "Through our befriending team")


# --- Commitments at a stage ---------------------------------------------------------------------

def test_a_supplier_commits_only_at_a_stage_it_has_reached(world):
    w = world
    with pytest.raises(PermissionDenied, match="no current expression of interest") as refused:
        _commit(w, w.outsider, w.outsider_user, "interest")
    assert refused.value.field == "stage"
    assert _count() == 0

    _interest(w, w.carers_user)
    assert social_value.stages_reached(w.entry, w.carers) == ["interest"]
    commitment = _commit(w, w.carers, w.carers_user, "interest")
    assert (commitment.stage, commitment.amount, commitment.made_by_id) == (
        "interest", Decimal(100), w.carers_user.id)
    for stage in ("consortium", "award"):
        with pytest.raises(PermissionDenied):
            _commit(w, w.carers, w.carers_user, stage)
    with pytest.raises(PermissionDenied):  # acting for another organisation
        _commit(w, w.carers, w.respite_user, "interest")
    assert _count() == 1

    consortia.create_consortium(w.entry, w.prime_user, "Leeds carers partnership")
    assert social_value.stages_reached(w.entry, w.prime) == ["consortium"]
    _commit(w, w.prime, w.prime_user, "consortium", "local_supply_chain_spend", 20_000)
    assert _count() == 2

    _award(w, w.carers)
    assert social_value.stages_reached(w.entry, w.carers) == ["award"]
    assert social_value.stages_reached(w.entry, w.prime) == []
    _commit(w, w.carers, w.carers_user, "award", "local_people_employed", 4)
    with pytest.raises(PermissionDenied, match="only the organisations that won"):
        _commit(w, w.prime, w.prime_user, "consortium")
    assert _count() == 3
    events = _db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "insight.social_value_committed").order_by(AuditEvent.id)).all()
    assert len(events) == 3 and events[0].details["measure"] == "staff_volunteering_hours"


def test_a_commitment_needs_a_known_measure_and_a_sensible_amount(world):
    w = world
    _interest(w, w.carers_user)
    for measure, amount, message in (
            ("made_up", 10, "Choose what you will deliver"),
            ("staff_volunteering_hours", 0, "greater than 0"),
            ("staff_volunteering_hours", -5, "greater than 0"),
            ("staff_volunteering_hours", Decimal("1.255"), "2 decimal places"),
            ("staff_volunteering_hours", Decimal(10) ** 12, "below 1,000,000,000,000"),
            ("local_people_employed", Decimal("2.5"), "whole number of people")):
        with pytest.raises(DomainError, match=message):
            _commit(w, w.carers, w.carers_user, "interest", measure, amount)
    assert _count() == 0


def test_a_commitment_is_withdrawn_before_award_and_stays_after_it(world):
    w = world
    _interest(w, w.carers_user)
    first = _commit(w, w.carers, w.carers_user, "interest")
    with pytest.raises(PermissionDenied):
        social_value.withdraw_commitment(first, w.respite_user)
    social_value.withdraw_commitment(first, w.carers_user)
    assert _count() == 0
    second = _commit(w, w.carers, w.carers_user, "interest")
    _award(w, w.carers)
    with pytest.raises(DomainError, match="commitments stay"):
        social_value.withdraw_commitment(_db.session.get(SocialValueCommitment, second.id),
                                         w.carers_user)
    assert _count() == 1


# --- Delivery -----------------------------------------------------------------------------------

def test_delivery_is_reported_only_after_award_by_the_winner_that_committed(world):
    w = world
    _interest(w, w.carers_user)
    _interest(w, w.respite_user)
    ours = _commit(w, w.carers, w.carers_user, "interest")
    theirs = _commit(w, w.respite, w.respite_user, "interest")
    with pytest.raises(DomainError, match="once the contract is awarded"):
        social_value.report_delivery(ours, w.carers_user, TODAY, Decimal(10))
    _award(w, w.carers)
    ours = _db.session.get(SocialValueCommitment, ours.id)
    with pytest.raises(PermissionDenied):
        social_value.report_delivery(ours, w.respite_user, TODAY, Decimal(10))
    with pytest.raises(DomainError, match="once the contract is awarded"):  # lost the bid
        social_value.report_delivery(_db.session.get(SocialValueCommitment, theirs.id),
                                     w.respite_user, TODAY, Decimal(10))
    with pytest.raises(DomainError, match="must have ended") as future:
        social_value.report_delivery(ours, w.carers_user, TODAY + timedelta(days=1), 10)
    assert future.value.field == "period_end"
    with pytest.raises(DomainError, match="on or after the award"):
        social_value.report_delivery(ours, w.carers_user, TODAY - timedelta(days=1), 10)
    assert _count(SocialValueReport) == 0

    report = social_value.report_delivery(ours, w.carers_user, TODAY, Decimal(0), "Quiet month")
    assert (report.amount, report.reported_by_id, report.note) == (0, w.carers_user.id,
                                                                   "Quiet month")
    with pytest.raises(DomainError, match="already reported") as twice:
        social_value.report_delivery(ours, w.carers_user, TODAY, Decimal(5))
    assert twice.value.field == "period_end"
    assert _count(SocialValueReport) == 1
    [event] = _db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "insight.social_value_delivered")).all()
    assert (event.organisation_id, event.details["commitment"]) == (w.carers.id, ours.id)


# --- The commissioner's summary -----------------------------------------------------------------

@pytest.fixture
def delivered(world):
    """The carers won, having committed 100 volunteering hours (40 + 20 delivered) and 10
    local jobs (12 delivered); the respite charity bid and committed but lost."""
    w = world
    _interest(w, w.carers_user)
    _interest(w, w.respite_user)
    hours = _commit(w, w.carers, w.carers_user, "interest")
    jobs = _commit(w, w.carers, w.carers_user, "interest", "local_people_employed", 10)
    _commit(w, w.respite, w.respite_user, "interest", "staff_volunteering_hours", 500)
    _award(w, w.carers, days_ago=200)
    for commitment, period_end, amount in ((hours, TODAY - timedelta(days=100), 40),
                                           (hours, TODAY - timedelta(days=10), 20),
                                           (jobs, TODAY - timedelta(days=10), 12)):
        social_value.report_delivery(_db.session.get(SocialValueCommitment, commitment.id),
                                     w.carers_user, period_end, Decimal(amount))
    return w


def test_the_summary_adds_up_committed_and_delivered_to_a_known_answer(delivered):
    w = delivered
    result = social_value.summary(w.buyer, InsightFilters())
    lines = {line.measure.key: line for line in result.lines}
    assert set(lines) == {"staff_volunteering_hours", "local_people_employed"}
    hours = lines["staff_volunteering_hours"]  # the losing bidder's 500 hours are left out
    assert (hours.committed, hours.delivered, hours.percent, hours.commitments,
            hours.suppliers) == (100, 60, 60, 1, 1)
    jobs = lines["local_people_employed"]
    assert (jobs.committed, jobs.delivered, jobs.percent) == (10, 12, 120)
    assert [theme for theme, _lines in result.themes] == [
        SOCIAL_VALUE_THEMES["economic_inequality"], SOCIAL_VALUE_THEMES["local_community"]]
    [row] = result.suppliers.items
    # Met in full: the jobs. Average progress: (60% + 100% capped) / 2.
    assert (row[1], row[2], row[3], int(row[4]), round(row[5])) == (
        "Leeds Carers Circle", 1, 2, 1, 80)
    assert result.tables["themes"].rows[0][3:6] == (10, 12, 120)
    [contract] = social_value.contract_rows(w.buyer, InsightFilters())
    assert (contract[1], contract[5], int(contract[6]), round(contract[7]), contract[8]) == (
        "Carers support service", 2, 1, 80, 1)


def test_the_summary_follows_the_filters_and_the_buyer(delivered, make_org):
    w = delivered
    award_year = w.entry.award.awarded_on.year
    for filters, expected in ((InsightFilters(year_from=award_year), 2),
                              (InsightFilters(year_to=award_year - 1), 0),
                              (InsightFilters(category="85000000"), 2),
                              (InsightFilters(category="45000000"), 0)):
        assert social_value.summary(w.buyer, filters).commitments == expected
    other = make_org("York Council", org_type="commissioner")
    assert social_value.summary(other).commitments == 0
    assert social_value.summary(other).suppliers.total == 0


def test_the_commissioner_pages_and_csv(client, sign_in, delivered):
    w = delivered
    sign_in(w.buyer_user)
    status, html = _page(client, "/insight/social-value")
    assert status == 200 and "Social value committed and delivered" in html
    assert "<svg" in html and "app-chart__target" in html
    assert "60 hours" in html and "100 hours" in html and "Leeds Carers Circle" in html
    assert "Aire Valley Respite" not in html  # lost: not in the figures
    status, html = _page(client, "/insight/social-value/contracts")
    assert status == 200 and "Carers support service" in html
    status, html = _page(client, f"/insight/social-value/contracts/{w.entry.id}")
    assert status == 200 and "Won the contract" in html and "Did not win" in html
    assert "Aire Valley Respite" in html and "500 hours" in html
    status, html = _page(client, "/insight/social-value?year_from=banana")
    assert status == 200 and 'href="#year_from"' in html

    response = client.get("/insight/social-value/themes.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    hours = next(r for r in rows if r["Measure"] == "Volunteering hours by staff")
    assert (hours["Unit"], hours["Committed"], hours["Delivered"], hours["Delivered (%)"]) == (
        "hours", "100", "60", "60")
    response = client.get("/insight/social-value/suppliers.csv")
    [row] = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert (row["Supplier"], row["Commitments"], row["Met in full"],
            row["Average progress (%)"]) == ("Leeds Carers Circle", "2", "1", "80")
    response = client.get("/insight/social-value/contracts.csv")
    [row] = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert row["Contract"] == "Carers support service" and row["Suppliers"] == "1"
    assert client.get("/insight/social-value/other.csv").status_code == 404


def test_another_buyer_and_suppliers_are_told_the_pages_are_missing(
        client, sign_in, delivered, make_org, make_user):
    w = delivered
    york = make_org("York Council", org_type="commissioner")
    sign_in(make_user(york, email="officer@york.example"))
    assert client.get("/insight/social-value").status_code == 200  # its own, empty
    for url in (f"/insight/social-value?organisation={w.buyer.id}",
                f"/insight/social-value/contracts/{w.entry.id}",
                f"/insight/social-value/themes.csv?organisation={w.buyer.id}"):
        assert client.get(url).status_code == 404, url
    sign_in(w.carers_user)
    for url in ("/insight/social-value", f"/insight/social-value/contracts/{w.entry.id}",
                "/insight/social-value/suppliers.csv"):
        assert client.get(url).status_code == 404, url
    sign_in(make_user(None, email="admin@pathfinder.example", site_admin=True))
    status, html = _page(client, f"/insight/social-value?organisation={w.buyer.id}")
    assert status == 200 and "Leeds Carers Circle" in html


# --- The supplier's pages -----------------------------------------------------------------------

def test_a_supplier_sees_and_manages_only_its_own_commitments(client, sign_in, world):
    w = world
    _interest(w, w.carers_user)
    _interest(w, w.respite_user)
    ours = _commit(w, w.carers, w.carers_user, "interest")
    url = f"/insight/social-value/entries/{w.entry.id}"
    sign_in(w.respite_user)
    status, html = _page(client, url)
    assert status == 200 and "has not made any social value commitments" in html
    assert "Through our befriending team" not in html
    assert client.post(f"/insight/social-value/commitments/{ours.id}/withdraw").status_code \
        == 404
    assert client.get(f"/insight/social-value/commitments/{ours.id}/report").status_code == 404
    assert _count() == 1
    sign_in(w.buyer_user)
    assert client.get(url).status_code == 404  # the commissioner has no supplier page
    sign_in(w.carers_user)
    status, html = _page(client, url)
    assert status == 200 and "Volunteering hours by staff" in html and "100 hours" in html
    assert "Add a commitment" in html and "Withdraw" in html
    response = client.post(f"/insight/social-value/commitments/{ours.id}/withdraw")
    assert response.status_code == 302 and _count() == 0


def test_adding_a_commitment_in_two_steps_and_errors_naming_the_field(client, sign_in, world):
    w = world
    _interest(w, w.carers_user)
    sign_in(w.carers_user)
    url = f"/insight/social-value/entries/{w.entry.id}/commit"
    status, html = _page(client, url)
    assert status == 200 and "<optgroup" in html and 'label="Fighting climate change"' in html
    status, html = _page(client, url + "?measure=nonsense")
    assert 'href="#measure"' in html and "Choose what you will commit to" in html
    status, html = _page(client, url + "?measure=staff_volunteering_hours")
    assert status == 200 and "govuk-input__suffix" in html and ">hours<" in html
    status, html = _page(client, url + "?measure=local_supply_chain_spend")
    assert "govuk-input__prefix" in html and ">£<" in html

    for amount, message in (("lots", "Enter the amount you commit to, in hours, as a number"),
                            ("", "Enter the amount you commit to"),
                            ("0", "Enter an amount greater than 0")):
        status, html = _page(client, url, {"measure": "staff_volunteering_hours",
                                           "amount": amount})
        assert status == 200 and 'href="#amount"' in html and message in html, amount
        assert 'id="amount-error"' in html
    status, html = _page(client, url, {"measure": "local_people_employed", "amount": "2.5"})
    assert 'href="#amount"' in html and "Enter a whole number of people" in html
    assert _count() == 0
    status, _html = _page(client, url, {"measure": "staff_volunteering_hours",
                                        "amount": "1,200", "note": "Fridays"})
    assert status == 302
    [commitment] = _db.session.scalars(select(SocialValueCommitment)).all()
    assert (commitment.amount, commitment.note, commitment.stage) == (1200, "Fridays", "interest")


def test_a_supplier_with_no_stage_cannot_add_and_posting_stores_nothing(client, sign_in,
                                                                        world):
    w = world
    sign_in(w.outsider_user)
    url = f"/insight/social-value/entries/{w.entry.id}/commit"
    status, html = _page(client, url)
    assert status == 200 and "You cannot add commitments to this entry" in html
    status, _html = _page(client, url, {"measure": "staff_volunteering_hours", "amount": "5"})
    assert status == 200 and _count() == 0


def test_reporting_delivery_on_the_page(client, sign_in, world):
    w = world
    _interest(w, w.carers_user)
    ours = _commit(w, w.carers, w.carers_user, "interest")
    url = f"/insight/social-value/commitments/{ours.id}/report"
    sign_in(w.carers_user)
    assert "Report delivery" not in _page(client, f"/insight/social-value/entries/"
                                                  f"{w.entry.id}")[1]
    status, html = _page(client, url, {"period_end": [str(TODAY.day), str(TODAY.month),
                                                      str(TODAY.year)], "amount": "10"})
    assert "once the contract is awarded" in html and _count(SocialValueReport) == 0
    _award(w, w.carers, days_ago=40)
    status, html = _page(client, f"/insight/social-value/entries/{w.entry.id}")
    assert "Report delivery" in html and "Withdraw" not in html
    status, html = _page(client, url, {"period_end": ["", "", ""], "amount": "x"})
    assert 'href="#period_end-day"' in html and 'href="#amount"' in html
    day = TODAY - timedelta(days=5)
    status, _html = _page(client, url, {"period_end": [str(day.day), str(day.month),
                                                       str(day.year)], "amount": "40"})
    assert status == 302 and _count(SocialValueReport) == 1
    status, html = _page(client, f"/insight/social-value/entries/{w.entry.id}")
    assert "40 hours (40% of the commitment)" in html


def test_every_form_carries_a_working_csrf_token(app, client, sign_in, world, monkeypatch):
    w = world
    _interest(w, w.carers_user)
    sign_in(w.carers_user)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    url = f"/insight/social-value/entries/{w.entry.id}/commit"
    data = {"measure": "staff_volunteering_hours", "amount": "30"}
    assert client.post(url, data=data).status_code in (200, 400) and _count() == 0
    token = csrf_token_from(_page(client, url + "?measure=staff_volunteering_hours")[1])
    assert client.post(url, data={**data, "csrf_token": token}).status_code == 302
    assert _count() == 1


def test_the_entry_page_links_a_supplier_with_a_part_to_its_commitments(client, sign_in,
                                                                        world):
    w = world
    entry_url = f"/forward-plan/{w.entry.id}"
    link = f'href="/insight/social-value/entries/{w.entry.id}"'
    assert link not in _page(client, entry_url)[1]
    sign_in(w.carers_user)
    assert link not in _page(client, entry_url)[1]
    _interest(w, w.carers_user)
    status, html = _page(client, entry_url)
    assert status == 200 and link in html and "Social value you have committed" in html
    sign_in(w.buyer_user)
    assert link not in _page(client, entry_url)[1]


# --- Demonstration data and the measures --------------------------------------------------------

def test_demo_commitments_for_awarded_entries_won_by_directory_suppliers(world):
    w = world
    _award(w, w.carers, days_ago=400)
    counts = seed_demo_social_value()
    commitments = _db.session.scalars(select(SocialValueCommitment)).all()
    assert counts["social value commitments"] == len(commitments) >= 2
    assert {c.organisation_id for c in commitments} == {w.carers.id}
    assert all(c.note.startswith(DEMO_NOTE) and c.stage == "award" for c in commitments)
    reports = _db.session.scalars(select(SocialValueReport)).all()
    assert counts["social value delivery reports"] == len(reports) >= 8
    assert all(r.note.startswith(DEMO_NOTE) and r.period_end <= TODAY for r in reports)
    assert social_value.summary(w.buyer).commitments == len(commitments)
    assert seed_demo_social_value() == {}


def test_our_measures_cover_every_theme_in_our_own_units(app):
    found = social_value.measures()
    for theme in SOCIAL_VALUE_THEMES:
        assert 4 <= len([m for m in found.values() if m.theme == theme]) <= 6, theme
    assert all(m.label and m.unit and m.help for m in found.values())
    assert [label for label, _ in social_value.measures_by_theme()] == list(
        SOCIAL_VALUE_THEMES.values())
    assert social_value.show_amount("local_supply_chain_spend", Decimal("12500")) == "£12,500"
    assert social_value.show_amount("carbon_saved", Decimal("2.5")) == "2.50 tonnes CO2e"
    assert social_value.measure_for("retired_key").label == "retired_key"
