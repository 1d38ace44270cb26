"""A commissioner opens a published entry, sees ranked suppliers with the reasons, invites one;
the supplier signs in and finds the invitation on its dashboard, then its recommendations.

Every page reached is checked with axe-core (WCAG 2.2 AA).
"""
import os

from playwright.sync_api import expect

from portal.organisations import services as organisations
from portal.pipeline import services as pipeline
from tests import factories
from tests.browser.journeys import sign_in as _sign_in

SCREENSHOTS = os.environ.get("SCREENSHOT_DIR")
KIRKLEES, CALDERDALE = "E08000034", "E08000033"


def _shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"matching-{name}.png"), full_page=True)


def _supplier(name, area, description):
    org = factories.make_org(name, org_type="vcse", description=description)
    organisations.add_area(org, area, None)
    organisations.add_category(org, "85312000", None)
    return org


def _world(app):
    """A council with a published entry and two carers' charities, one local to it."""
    with app.app_context():
        council = factories.make_org("Kirklees Council", org_type="commissioner")
        officer = factories.make_user(council, email="commissioning@kirklees.example")
        hub = _supplier("Huddersfield Carers Hub", KIRKLEES, "Support, short breaks and advice "
                        "for young carers in Huddersfield and Kirklees")
        charity = _supplier("Calderdale Family Support", CALDERDALE,
                            "Family support, parenting courses and breaks for young carers")
        factories.make_user(hub, email="hello@carershub.example")
        factories.make_user(charity, email="team@calderdale.example")
        entry = pipeline.create_opportunity(council, {
            "title": "Young carers support service",
            "description": "One-to-one support, short breaks and advice for young carers",
            "main_cpv_code": "85312000", "areas": "Kirklees", "value_min": 300_000,
            "value_basis": "whole_life", "suitable_vcse": True}, officer)
        pipeline.change_status(entry, "planned", officer)
        return entry.id


def test_commissioner_invites_a_matched_supplier_who_sees_it(app, page, live_server, check_a11y):
    entry_id = _world(app)
    base = live_server

    # The commissioner opens its entry, then the suppliers who could deliver it.
    _sign_in(page, base, "commissioning@kirklees.example")
    page.goto(f"{base}/forward-plan/{entry_id}")
    expect(page.get_by_role("heading", name="Young carers support service")).to_be_visible()
    check_a11y()
    link = page.get_by_role("link", name="Find suppliers for this entry")
    if link.count():
        link.click()
    else:  # until the entry page links here
        page.goto(f"{base}/forward-plan/{entry_id}/matches")
    expect(page.get_by_role("heading", name="Suppliers who could deliver this")).to_be_visible()
    results = page.locator(".app-match")
    expect(results.first).to_contain_text("Huddersfield Carers Hub")
    expect(results.first).to_contain_text("Kirklees")  # the reason: where it works
    expect(results.first.locator(".govuk-tag").first).to_contain_text("match")
    check_a11y()
    _shot(page, "matches")

    # A filter narrows the list and keeps what was chosen.
    page.get_by_label("Serving").select_option(label="Calderdale")
    page.get_by_role("button", name="Apply filters").click()
    expect(results.first).to_contain_text("Calderdale Family Support")
    expect(page.get_by_label("Serving")).to_have_value(CALDERDALE)
    check_a11y()
    page.get_by_role("link", name="Clear filters").click()

    # It invites the best match, after checking what will be sent.
    results.first.get_by_role("link", name="Invite to express interest").click()
    expect(page.get_by_role("heading", name="Invite Huddersfield Carers Hub to express interest")
           ).to_be_visible()
    check_a11y()
    page.get_by_label("Message to the supplier (optional)").fill(
        "We would welcome a bid from a local organisation.")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Invitation sent to Huddersfield Carers Hub")
    expect(results.first).to_contain_text("Invited")
    check_a11y()

    # The supplier signs in and finds it on its dashboard.
    _sign_in(page, base, "hello@carershub.example")
    page.goto(f"{base}/dashboard")
    expect(page.get_by_role("heading", name="Your dashboard")).to_be_visible()
    invitation = page.locator(".app-invitation").first
    expect(invitation).to_contain_text("Young carers support service")
    expect(invitation).to_contain_text("Kirklees Council invited you")
    expect(invitation).to_contain_text("We would welcome a bid from a local organisation.")
    check_a11y()
    _shot(page, "dashboard")

    # Its recommendations explain themselves too, and it can go on to register interest.
    page.get_by_role("link", name="All recommendations").click()
    expect(page.get_by_role("heading", name="Recommended for you")).to_be_visible()
    expect(page.locator(".app-recommendation").first).to_contain_text("Why we suggest it")
    check_a11y()
    page.goto(f"{base}/dashboard")
    invitation.get_by_role("link", name="Register interest").click()
    expect(page.get_by_role("heading", name="Register your interest")).to_be_visible()
    check_a11y()
