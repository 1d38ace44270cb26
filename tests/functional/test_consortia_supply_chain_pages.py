"""The supply chain's pages: posting a sub-contract package (mistakes keep what was typed),
responding, shortlisting and selecting (the sub-contract joins the sub-contractor's track
record), payment reports, the buyer's view of each prime's payments, concerns raised with the
buyer and answered, the packages on an entry's page, and who may see what."""
from datetime import date, timedelta

import pytest
from flask import render_template_string
from flask_login import login_user, logout_user

from portal.consortia import services, subcontracts
from portal.consortia.models import Concern, PaymentReport, SubcontractPackage
from tests import factories
from tests.functional.consortia_world import build_world

TODAY = date.today()
NEXT_MONTH = TODAY + timedelta(days=30)
TITLE = "Carers' peer support groups in south Leeds"


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


def _page(client, url):
    response = client.get(url)
    assert response.status_code != 500
    return response.status_code, response.get_data(as_text=True)


def _post(client, url, data=None):
    response = client.post(url, data=data or {})
    assert response.status_code != 500
    return response


def _date(name, value):
    """A GOV.UK date input's three boxes, as a browser sends them."""
    return {name: [str(value.day), str(value.month), str(value.year)]}


def _package_form(**changes):
    data = {"title": TITLE, "description": "Weekly peer support groups for unpaid carers",
            "cpv_codes": "85312000", "value": "£80,000", "recommended_tier": "2",
            "how_to_respond": "Tell us about your groups", **_date("closes_on", NEXT_MONTH),
            **_date("starts_on", date(2027, 4, 1)), **_date("ends_on", date(2029, 3, 31))}
    return {**data, **changes}


def _package(world, app):
    with app.test_request_context():
        return subcontracts.create_package(
            world.entry, world.prime_user, title=TITLE,
            description="Weekly peer support groups for unpaid carers",
            cpv_codes=["85312000"], area_codes=[], value=80_000, starts_on=None, ends_on=None,
            closes_on=NEXT_MONTH, recommended_tier=None, how_to_respond=None)


def _subcontract(world, app):
    """A package whose sub-contract with the carers is recorded."""
    package = _package(world, app)
    with app.test_request_context():
        response = subcontracts.respond_to_package(package, world.carers_user, "We can")
        subcontracts.move_response(package, response, world.prime_user, "shortlisted")
        subcontracts.select_response(package, response, world.prime_user, 50_000, None, None)
    return package


def _panel(app, user, entry):
    """The packages panel as the entry's page shows it to `user` (None: signed out)."""
    with app.test_request_context(f"/forward-plan/{entry.id}"):
        logout_user()  # the signed-in user is kept on the app context the tests share
        if user is not None:
            login_user(user)
        return render_template_string(
            '{% include "consortia/_packages_panel.html" %}', o=entry).strip()


# --- Packages -----------------------------------------------------------------------------------

def test_posting_a_package_keeps_typed_values_on_error(client, sign_in, world):
    sign_in(world.prime_user)
    url = f"/forward-plan/{world.entry.id}/subcontracts/new"
    status, html = _page(client, url)
    assert status == 200 and "<legend" in html and "Closing date for responses" in html
    assert "Tier 2 (established)" in html and 'value="85312000"' in html
    yesterday = TODAY - timedelta(days=1)
    response = _post(client, url, _package_form(**_date("closes_on", yesterday)))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "govuk-error-summary" in html
    assert 'href="#closes_on-day"' in html and 'id="closes_on-error"' in html
    assert "The closing date must be today or in the future" in html
    assert "Carers&#39; peer support groups in south Leeds" in html
    assert 'value="£80,000"' in html
    html = _post(client, url, _package_form(closes_on=["30", "2", "2027"])) \
        .get_data(as_text=True)
    assert "The closing date must be a real date" in html
    html = _post(client, url, _package_form(closes_on=["", "", ""])).get_data(as_text=True)
    assert "Enter the closing date for responses" in html
    response = _post(client, url, _package_form())
    assert response.status_code == 302
    package = SubcontractPackage.query.one()
    assert response.headers["Location"].endswith(f"/subcontracts/{package.id}")
    assert (package.value, package.recommended_tier, package.cpv_codes) == (
        80_000, 2, ["85312000"])
    status, html = _page(client, f"/subcontracts/{package.id}")
    assert status == 200 and "Open for responses" in html and "Change the package" in html
    assert "No responses yet" in html


def test_the_list_of_open_packages_and_its_filter(app, client, sign_in, world):
    _package(world, app)
    sign_in(world.respite_user)
    status, html = _page(client, "/subcontracts")
    assert status == 200 and "1 open package" in html
    assert "Carers support service" in html and "Northern Care Partnership Ltd" in html
    assert "£80,000" in html and "Wherever the entry is delivered" in html
    status, html = _page(client, "/subcontracts?q=peer+support")
    assert TITLE.replace("'", "&#39;") in html
    status, html = _page(client, "/subcontracts?q=allotments")
    assert "No packages match" in html
    status, html = _page(client, "/subcontracts?page=99")
    assert status == 200


def test_only_suppliers_post_and_the_owner_alone_changes_a_package(app, client, sign_in,
                                                                   world):
    package = _package(world, app)
    sign_in(world.buyer_user)
    assert client.get(f"/forward-plan/{world.entry.id}/subcontracts/new").status_code == 404
    status, html = _page(client, f"/subcontracts/{package.id}")
    assert status == 200 and "Respond" not in html and "Responses" not in html
    sign_in(world.carers_user)
    for url in (f"/subcontracts/{package.id}/edit", f"/subcontracts/{package.id}/withdraw"):
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    sign_in(world.prime_user)
    html = _post(client, f"/subcontracts/{package.id}/edit",
                 _package_form(title="")).get_data(as_text=True)
    assert "Enter a title" in html
    response = _post(client, f"/subcontracts/{package.id}/edit",
                     _package_form(title="Peer support groups"))
    assert response.status_code == 302
    status, html = _page(client, f"/subcontracts/{package.id}/withdraw")
    assert status == 200 and "Are you sure" in html
    assert _post(client, f"/subcontracts/{package.id}/withdraw").status_code == 302
    assert subcontracts.get_package(package.id).status == "withdrawn"
    assert client.get(f"/subcontracts/{package.id}/edit").status_code == 200  # says why not
    assert client.get("/subcontracts/999999").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(app, client, world):
    package = _package(world, app)
    for url in ("/subcontracts", f"/subcontracts/{package.id}", "/supply-chain",
                f"/forward-plan/{world.entry.id}/subcontracts/new", "/supply-chain/concerns/1",
                f"/supply-chain/{world.entry.id}/{world.prime.id}/payments/new"):
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


# --- Responses and the sub-contract -------------------------------------------------------------

def test_responding_shortlisting_and_selecting(app, client, sign_in, world):
    package = _package(world, app)
    url = f"/subcontracts/{package.id}"
    sign_in(world.carers_user)
    status, html = _page(client, url)
    assert status == 200 and "What you would offer" in html
    html = _post(client, f"{url}/respond", {"note": "  "}).get_data(as_text=True)
    assert "Enter what you would offer" in html and "govuk-error-summary" in html
    with app.test_request_context():
        assert _post(client, f"{url}/respond",
                     {"note": "We run six carers' groups in Leeds"}).status_code == 302
    status, html = _page(client, url)
    assert "Your response" in html and "Submitted" in html and "What you would offer" not in html
    sign_in(world.respite_user)
    with app.test_request_context():
        assert _post(client, f"{url}/respond", {"note": "One group"}).status_code == 302

    sign_in(world.prime_user)
    status, html = _page(client, url)
    assert "Leeds Carers Circle" in html and "Aire Valley Respite" in html
    assert "Shortlist" in html and "Not selected" in html
    carers, respite = package.responses
    assert client.get(f"{url}/responses/{carers.id}/select").status_code == 200  # says why not
    assert _post(client, f"{url}/responses/{carers.id}/shortlisted").status_code == 302
    assert _post(client, f"{url}/responses/{respite.id}/not_selected").status_code == 302
    assert client.post(f"{url}/responses/{carers.id}/selected").status_code == 404
    status, html = _page(client, url)
    assert "Select and record the sub-contract" in html and "Shortlisted" in html

    select = f"{url}/responses/{carers.id}/select"
    data = {"value": "£78,000", **_date("starts_on", date(2027, 4, 1)),
            **_date("ends_on", date(2027, 3, 1))}
    html = _post(client, select, data).get_data(as_text=True)
    assert "The end date must be on or after the start date" in html
    assert 'value="£78,000"' in html and "Check the sub-contract" not in html
    data.update(_date("ends_on", date(2029, 3, 31)))
    html = _post(client, select, data).get_data(as_text=True)
    assert "Check the sub-contract" in html and "£78,000" in html and "31 March 2029" in html
    html = _post(client, select, {**data, "confirmed": "change"}).get_data(as_text=True)
    assert 'value="£78,000"' in html and "Check the sub-contract" not in html
    response = _post(client, select, {**data, "confirmed": "yes"})
    assert response.status_code == 302
    assert subcontracts.get_package(package.id).status == "awarded"
    status, html = _page(client, url)
    assert "Sub-contract recorded" in html and "Selected" in html
    status, html = _page(client, "/supply-chain")
    assert "Sub-contract packages you have posted" in html and f'href="{url}"' in html

    status, html = _page(client, f"/organisations/{world.carers.id}")
    assert TITLE.replace("'", "&#39;") in html and "£78,000" in html
    assert "Sub-contract from Northern Care Partnership Ltd" in html


def test_responses_are_the_owners_alone(app, client, sign_in, world):
    package = _package(world, app)
    with app.test_request_context():
        response = subcontracts.respond_to_package(package, world.carers_user, "We can")
    base = f"/subcontracts/{package.id}/responses/{response.id}"
    sign_in(world.respite_user)
    assert client.post(f"{base}/shortlisted").status_code == 404
    assert client.get(f"{base}/select").status_code == 404
    status, html = _page(client, f"/subcontracts/{package.id}")
    assert "We can" not in html
    sign_in(world.prime_user)
    assert client.get(f"/subcontracts/{package.id}/responses/999999/select").status_code == 404


# --- Payments and concerns ----------------------------------------------------------------------

def test_payment_reports_both_ways(app, client, sign_in, world):
    _subcontract(world, app)
    sign_in(world.carers_user)
    status, html = _page(client, "/supply-chain")
    assert status == 200 and "Carers support service" in html and "Report a payment" in html
    url = f"/supply-chain/{world.entry.id}/{world.prime.id}/payments/new"
    status, html = _page(client, url)
    assert status == 200 and "<legend" in html and "Paid within the agreed terms" in html
    invoiced = TODAY - timedelta(days=40)
    data = {**_date("invoiced_on", invoiced), **_date("paid_on", invoiced - timedelta(days=3))}
    html = _post(client, url, data).get_data(as_text=True)
    assert "The payment date must be on or after the invoice date" in html
    assert 'id="paid_on-error"' in html
    html = _post(client, url, {}).get_data(as_text=True)
    assert "Enter the invoice date, or say whether it was paid within the agreed terms" in html
    html = _post(client, url, _date("paid_on", invoiced)).get_data(as_text=True)
    assert "Enter the invoice date as well as the payment date" in html
    data = {**_date("invoiced_on", invoiced), **_date("paid_on", invoiced + timedelta(days=15))}
    assert _post(client, url, data).status_code == 302
    assert _post(client, url, {"within_terms": "no"}).status_code == 302
    reports = PaymentReport.query.order_by(PaymentReport.id).all()
    assert [(r.days_to_pay, r.within_terms) for r in reports] == [(15, None), (None, False)]

    sign_in(world.outsider_user)
    assert client.get(url).status_code == 404
    status, html = _page(client, "/supply-chain")
    assert status == 200 and "None yet" in html

    sign_in(world.buyer_user)
    status, html = _page(client, "/supply-chain")
    assert status == 200 and "Northern Care Partnership Ltd" in html
    # Within 30 days: 1 of 2; within 60: the dated one only, since "paid late" cannot say.
    assert "50%" in html and "100%" in html
    assert "of those where it can be told" in html
    assert client.get(url).status_code == 404


def test_a_concern_with_the_name_withheld_is_answered_by_the_buyer(app, client, sign_in,
                                                                   world):
    _subcontract(world, app)
    sign_in(world.carers_user)
    url = f"/supply-chain/{world.entry.id}/{world.prime.id}/concerns/new"
    status, html = _page(client, url)
    assert status == 200 and "Do not tell Northern Care Partnership Ltd" in html
    assert "<legend" in html
    html = _post(client, url, {"body": "", "withhold": "yes"}).get_data(as_text=True)
    assert "Enter what has happened" in html
    with app.test_request_context():
        response = _post(client, url, {"body": "Invoices are paid after 90 days",
                                       "withhold": "yes"})
    assert response.status_code == 302
    concern = Concern.query.one()
    assert concern.withhold_name
    assert response.headers["Location"].endswith(f"/supply-chain/concerns/{concern.id}")
    status, html = _page(client, f"/supply-chain/concerns/{concern.id}")
    assert status == 200 and "Waiting for the commissioner" in html
    assert "Answer the concern" not in html
    assert client.post(f"/supply-chain/concerns/{concern.id}",
                       data={"response": "x", "outcome": "y"}).status_code == 404
    status, html = _page(client, "/supply-chain")
    assert "Concerns you have raised" in html and f"/supply-chain/concerns/{concern.id}" in html

    for other in (world.prime_user, world.outsider_user, world.respite_user):
        sign_in(other)
        assert client.get(f"/supply-chain/concerns/{concern.id}").status_code == 404

    sign_in(world.buyer_user)
    status, html = _page(client, "/supply-chain")
    assert "Leeds Carers Circle" in html and "Not to be named to the prime" in html
    page = f"/supply-chain/concerns/{concern.id}"
    status, html = _page(client, page)
    assert "asks that its name is not passed on to Northern Care Partnership Ltd" in html
    html = _post(client, page, {"response": "We met the prime", "outcome": ""}) \
        .get_data(as_text=True)
    assert "Enter the outcome" in html and "We met the prime" in html
    with app.test_request_context():
        response = _post(client, page, {"response": "We met the prime",
                                        "outcome": "Payment terms cut to 30 days"})
    assert response.status_code == 302
    assert _post(client, page, {"response": "Again", "outcome": "Again"}).status_code == 302
    assert subcontracts.get_concern(concern.id, world.buyer_user).response == "We met the prime"

    sign_in(world.carers_user)
    status, html = _page(client, page)
    assert "Answered" in html and "Payment terms cut to 30 days" in html


def test_a_consortium_partner_can_raise_a_concern_about_its_lead(app, client, sign_in, world):
    with app.test_request_context():
        services.create_consortium(world.entry, world.prime_user, "Leeds Carers Alliance")
        services.accept_invitation(services.invite_partner(world.entry, world.respite,
                                                           world.prime_user), world.respite_user)
    sign_in(world.respite_user)
    status, html = _page(client, "/supply-chain")
    assert "Raise a concern with the buyer" in html
    url = f"/supply-chain/{world.entry.id}/{world.prime.id}/concerns/new"
    with app.test_request_context():
        assert _post(client, url, {"body": "Our share was cut"}).status_code == 302
    assert not Concern.query.one().withhold_name


def test_who_sees_the_supply_chain_page(client, sign_in, world, make_org, make_user):
    other = make_user(make_org("Yorkshire Accreditation Network", org_type="accreditation_body"),
                      email="help@network.example")
    sign_in(other)
    assert client.get("/supply-chain").status_code == 404
    sign_in(world.buyer_user)
    status, html = _page(client, "/supply-chain")
    assert status == 200 and "No payments reported yet" in html


# --- The packages panel on an entry's page ------------------------------------------------------

def test_the_entry_page_shows_the_packages(app, client, sign_in, world):
    package = _package(world, app)
    sign_in(world.carers_user)
    status, html = _page(client, f"/forward-plan/{world.entry.id}")
    assert status == 200 and "Sub-contract packages" in html
    assert f"/subcontracts/{package.id}" in html
    assert "Offer part of this work as a sub-contract" in html


def test_the_packages_panel_on_the_entry_page(app, world):
    assert _panel(app, world.buyer_user, world.entry) == ""
    html = _panel(app, world.carers_user, world.entry)
    assert "Offer part of this work as a sub-contract" in html
    package = _package(world, app)
    html = _panel(app, world.respite_user, world.entry)
    assert f"/subcontracts/{package.id}" in html and "£80,000" in html
    assert "Open for responses" in html
    html = _panel(app, world.buyer_user, world.entry)
    assert f"/subcontracts/{package.id}" in html and "Offer part of this work" not in html
    html = _panel(app, None, world.entry)
    assert "1 package offered" in html and "Sign in to see it" in html


def test_a_prime_sees_its_own_payment_record_and_sub_contracts(app, client, world):
    from datetime import date, timedelta

    from portal.consortia import subcontracts
    from tests.conftest import sign_in as _sign_in

    with app.test_request_context():
        package = subcontracts.create_package(
            world.entry, world.prime_user, title="Peer groups", description="Weekly groups",
            cpv_codes=[], area_codes=[], value=20_000, starts_on=None, ends_on=None,
            closes_on=date.today() + timedelta(days=7), recommended_tier=None,
            how_to_respond=None)
        response = subcontracts.respond_to_package(package, world.carers_user, "We can")
        subcontracts.move_response(package, response, world.prime_user, "shortlisted")
        subcontracts.select_response(package, response, world.prime_user, 20_000, None, None)
        subcontracts.report_payment(world.carers_user, world.entry.id, world.prime.id,
                                    invoiced_on=date(2026, 1, 5), paid_on=date(2026, 1, 25))
    _sign_in(client, world.prime_user.email)
    html = client.get("/supply-chain").get_data(as_text=True)
    assert "reported 1 payment from you: 100% paid within 30 days" in html
    assert "Leeds Carers Circle" in html and "£20,000" in html
