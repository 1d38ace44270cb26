"""A council officer opens Insight from the menu, reads the dashboard, sets a target and sees it
against the year's awards, prints the report, looks inside a region on the market map, and opens
the contracts register, the self-assessment and social value pages.

Every page reached is checked with axe-core (WCAG 2.2 AA), for empty legends and for unlabelled
controls.
"""
import os
from datetime import date, datetime

from playwright.sync_api import expect

from portal.extensions import db
from portal.organisations import services as organisations
from portal.pipeline.models import Award, AwardWinner, Opportunity
from tests import factories
from tests.browser.journeys import sign_in

SCREENSHOTS = os.environ.get("SCREENSHOT_DIR")
YEAR = date.today().year


def _shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"insight-{name}.png"), full_page=True)


def _world(app):
    """A council with three awarded entries this year (one to a VCSE) and a VCSE in Leeds."""
    with app.app_context():
        council = factories.make_org("Leeds City Council", org_type="commissioner")
        factories.make_user(council, email="officer@leeds.example")
        charity = factories.make_org("Leeds Carers Circle", org_type="vcse")
        organisations.add_area(charity, "E08000035", None)
        organisations.add_category(charity, "85312000", None)
        for n, (winner, vcse) in enumerate((("Leeds Carers Circle", True),
                                            ("Big Care Ltd", False), ("Other Care Ltd", False))):
            entry = Opportunity(organisation=council, reference=f"L-{n}", title=f"Service {n}",
                                description="Support for unpaid carers across Leeds.",
                                main_cpv_code="85312000", suitable_vcse=vcse)
            entry.published_at = datetime(YEAR, 1, 5)
            entry.tender_publish_on = date(YEAR, 4 + n, 1)
            entry.award = Award(awarded_on=date(YEAR, 6, 1), value=100_000, winners=[
                AwardWinner(name=winner, is_vcse=vcse, is_sme=vcse)])
            entry.load_status("awarded")
            db.session.add(entry)
        db.session.commit()


def test_officer_reads_insight_and_sets_a_target(app, page, live_server, check_a11y):
    _world(app)
    base = live_server
    sign_in(page, base, "officer@leeds.example")
    page.get_by_role("link", name="Insight").click()
    expect(page.get_by_role("heading", name="Insight", exact=True)).to_be_visible()
    expect(page.locator("#chart-vcse-year")).to_contain_text("33.3%")
    check_a11y()
    _shot(page, "dashboard")

    page.get_by_role("link", name="Set baselines and targets").click()
    check_a11y()
    page.get_by_label("VCSE share of awarded value").check()
    page.get_by_label("Year").fill(str(YEAR))
    page.get_by_label("Target (%)").fill("40")
    page.get_by_role("button", name="Save target").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Target saved")
    check_a11y()
    page.get_by_role("link", name="Back to insight").click()
    expect(page.locator("#chart-targets")).to_contain_text("33.3%")
    expect(page.locator("#targets")).to_be_visible()

    page.get_by_role("link", name="Printable report for a committee paper").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Leeds City Council")
    check_a11y()
    _shot(page, "report")

    page.goto(f"{base}/insight/")
    page.get_by_role("link", name="Market map: where accredited providers are few").click()
    page.get_by_label("Look inside").select_option(label="Yorkshire and The Humber")
    page.get_by_role("button", name="Show the map").click()
    expect(page.get_by_role("columnheader", name="Leeds")).to_be_visible()
    check_a11y()
    _shot(page, "market")

    for link in ("Contracts register and re-procurement prompts",
                 "National Procurement Strategy self-assessment",
                 "Social value committed and delivered"):
        page.goto(f"{base}/insight/")
        page.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        check_a11y()
        _shot(page, link.split()[0].lower())
