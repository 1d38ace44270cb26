"""A commissioner adds an entry and publishes it; a VCSE asks a question; the answer is
published; the VCSE registers interest; the commissioner records the award.

Every page reached is checked with axe-core (WCAG 2.2 AA).
"""
import os
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.pipeline.models import Opportunity, uk_now
from tests import factories
from tests.browser.journeys import sign_in as _sign_in

SCREENSHOTS = os.environ.get("SCREENSHOT_DIR")


def _shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"pipeline-{name}.png"), full_page=True)


def _fill_date(page, group_label, day):
    group = page.get_by_role("group", name=group_label)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def _continue(page):
    page.get_by_role("button", name="Save and continue").click()


def _people(app):
    with app.app_context():
        council = factories.make_org("Kirklees Council", org_type="commissioner")
        charity = factories.make_org("Huddersfield Carers Hub", org_type="vcse")
        factories.make_user(council, email="commissioning@kirklees.example")
        factories.make_user(charity, email="hello@carershub.example")


def test_create_publish_question_answer_interest_award(app, page, live_server, check_a11y):
    _people(app)
    base = live_server

    # The commissioner adds a draft and publishes it.
    _sign_in(page, base, "commissioning@kirklees.example")
    page.goto(f"{base}/forward-plan/manage")
    expect(page.get_by_role("heading", name="Your forward plan")).to_be_visible()
    check_a11y()
    page.get_by_role("button", name="Add an entry").click()
    check_a11y()
    # One page of questions at a time, each saved as it is sent.
    page.get_by_label("Title").fill("Young carers support service")
    page.get_by_label("Describe what you need").fill(
        "One-to-one support, group activities and respite for young carers aged 8 to 18.")
    _continue(page)
    # The main category is found by everyday words; the matches follow the typing.
    expect(page.get_by_role("heading", name="What kind of service is it?")).to_be_visible()
    page.get_by_label("Search for the main category").press_sequentially("young carers")
    choice = page.get_by_label(
        "Young carers support — Welfare services for children and young people (85311300)")
    expect(choice).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("match ‘young carers’")
    check_a11y()
    choice.check()
    _continue(page)
    page.get_by_label("Councils, counties, regions or nations").fill("Kirklees")
    _continue(page)
    page.get_by_label("Estimated value (optional)").fill("not sure")
    _continue(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text("estimated value")
    check_a11y()
    page.get_by_label("Estimated value (optional)").fill("£450,000")
    _continue(page)
    expect(page.get_by_role("heading", name="When will it happen?")).to_be_visible()
    check_a11y()
    _continue(page)
    page.get_by_label("Suitable for VCSEs").check()
    page.get_by_label("Consortium bids welcome").check()
    check_a11y()
    _continue(page)
    check_a11y()  # social value
    _continue(page)
    _continue(page)  # contact
    expect(page.get_by_role("heading", name="Check your answers")).to_be_visible()
    check_a11y()
    page.get_by_role("link", name="Change estimated value").click()
    page.get_by_label("Estimated value (optional)").fill("£460,000")
    _continue(page)
    expect(page.get_by_role("heading", name="Check your answers")).to_be_visible()
    expect(page.locator("main")).to_contain_text("£460,000 in total")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Young carers support service")).to_be_visible()
    expect(page.locator("main")).to_contain_text("everything publishing needs")
    check_a11y()
    _shot(page, "manage-entry")
    page.get_by_role("button", name="Publish in the forward plan").click()
    expect(page.get_by_role("heading", name="Check the entry before you publish it")).to_be_visible()
    check_a11y()
    page.get_by_role("button", name="Publish in the forward plan").click()
    expect(page.locator("main .govuk-tag").first).to_have_text("Planned")
    page.get_by_role("button", name="Open for tenders").click()
    check_a11y()
    closing = uk_now() + timedelta(days=30)
    _fill_date(page, "Closing date", closing)
    page.get_by_label("Closing time (optional)").fill("12:00")
    _fill_date(page, "Deadline for clarification questions (optional)",
               closing - timedelta(days=7))
    page.get_by_role("button", name="Open for tenders").click()
    expect(page.locator("main .govuk-tag").first).to_have_text("Open for tenders")

    # A VCSE finds it and asks a question.
    _sign_in(page, base, "hello@carershub.example")
    page.goto(f"{base}/forward-plan")
    check_a11y()
    _shot(page, "list")
    page.get_by_role("link", name="Young carers support service").click()
    check_a11y()
    page.get_by_role("link", name="Ask the buyer a question").click()
    check_a11y()
    page.get_by_label("Your question").fill(
        "Huddersfield Carers Hub would like to know: can the service use volunteers?")
    page.get_by_role("button", name="Send question").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("sent to the buyer")
    check_a11y()

    # The commissioner answers, wording the question so the asker is not named.
    _sign_in(page, base, "commissioning@kirklees.example")
    page.goto(f"{base}/forward-plan/manage")
    page.get_by_role("link", name="Young carers support service").click()
    page.get_by_role("link", name="Questions (1 waiting)").click()
    check_a11y()
    page.get_by_role("link", name="Answer").click()
    check_a11y()
    page.get_by_label("Question as it will be published").fill(
        "Can the service use volunteers?")
    page.get_by_label("Answer", exact=True).fill("Yes, alongside paid, trained staff.")
    page.get_by_role("button", name="Publish answer").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Answer published")
    check_a11y()

    # The VCSE reads the answer and registers interest as a consortium lead.
    _sign_in(page, base, "hello@carershub.example")
    page.goto(f"{base}/forward-plan")
    page.get_by_role("link", name="Young carers support service").click()
    expect(page.get_by_text("Yes, alongside paid, trained staff.")).to_be_visible()
    expect(page.locator(".app-qa")).not_to_contain_text("Huddersfield")
    check_a11y()
    page.get_by_role("button", name="Register interest").click()
    check_a11y()
    page.get_by_label("Leading a consortium").check()
    page.get_by_role("button", name="Register interest").click()
    expect(page.get_by_text("Your organisation registered interest")).to_be_visible()
    check_a11y()
    page.goto(f"{base}/forward-plan/my-interests")
    expect(page.get_by_role("cell", name="Leading a consortium")).to_be_visible()
    check_a11y()

    # Tenders close; the commissioner evaluates and records the award.
    with app.app_context():
        entry = db.session.scalar(select(Opportunity))
        entry.tender_publish_on = (uk_now() - timedelta(days=40)).date()
        entry.question_deadline = uk_now() - timedelta(days=8)
        entry.closing_at = uk_now() - timedelta(days=1)
        db.session.commit()
        entry_id = entry.id
    _sign_in(page, base, "commissioning@kirklees.example")
    page.goto(f"{base}/forward-plan/manage/{entry_id}/interest")
    expect(page.get_by_role("link", name="Huddersfield Carers Hub")).to_be_visible()
    check_a11y()
    page.goto(f"{base}/forward-plan/manage/{entry_id}")
    page.get_by_role("button", name="Close and start evaluation").click()
    check_a11y()
    page.get_by_role("button", name="Start evaluation").click()
    page.get_by_role("button", name="Record the award").click()
    check_a11y()
    _fill_date(page, "Date of award", uk_now())
    page.get_by_label("Contract value (optional)").fill("£440,000")
    page.get_by_label("Winner 1", exact=True).fill("Huddersfield Carers Hub")
    page.get_by_role("button", name="Record award").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Award recorded")
    check_a11y()

    page.goto(f"{base}/forward-plan/{entry_id}")
    expect(page.get_by_role("heading", name="Award")).to_be_visible()
    expect(page.get_by_role("link", name="Huddersfield Carers Hub")).to_be_visible()
    check_a11y()
    _shot(page, "entry-awarded")
    page.goto(f"{base}/forward-plan/timeline")
    check_a11y()
    assert len(check_a11y.scanned) >= 20
