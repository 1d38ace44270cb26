"""Apply → upload → submit → two assessors → send back → resubmit → accredit → on the register.

Every page reached is checked with axe-core (WCAG 2.2 AA).
"""
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.accreditation.schemes import load_schemes
from portal.accreditation.models import Scheme
from portal.extensions import db
from tests import factories
from tests.browser.journeys import sign_in as _sign_in

DATA = Path(__file__).resolve().parents[1] / "data" / "accreditation"


@pytest.fixture
def people(app, live_app, tmp_path, monkeypatch):
    monkeypatch.setitem(live_app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    with app.app_context():
        load_schemes()
        body = factories.make_org("Borough Accreditation Board", org_type="accreditation_body")
        for scheme in db.session.scalars(select(Scheme)):
            scheme.body_id = body.id
        org = factories.make_org("Harbour Lights Befriending", income_band="small")
        emails = {
            "applicant": factories.make_user(org, email="grace@harbour.test").email,
            "board": factories.make_user(body, email="bea@board.test", name="Bea Board").email,
            "second": factories.make_user(body, email="sam@board.test", name="Sam Second",
                                          role="member").email,
        }
        db.session.commit()
    return emails


def _answer_all(page, check_a11y, first_file=None):
    """Answer standards one after another until the check-your-answers page."""
    first = True
    while page.get_by_role("heading", name="Check your answers").count() == 0:
        if first:
            page.get_by_role("button", name="Save and continue").click()
            expect(page.locator(".govuk-error-summary")).to_be_visible()
            check_a11y()
        page.get_by_label("Met", exact=True).check()
        page.get_by_label("Explain briefly").fill("Our board reviewed this in March.")
        if first and first_file:
            page.get_by_label("Upload evidence (optional)").set_input_files(first_file)
        page.get_by_role("button", name="Save and continue").click()
        expect(page.get_by_text("Saved your answer")).to_be_visible()
        if first:
            check_a11y()
        first = False


def _review_all(page, check_a11y, server):
    page.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Confirm declaration").click()
    expect(page.get_by_role("heading", name="Standards", exact=True)).to_be_visible()
    first = True
    while page.get_by_role("link", name="Give verdict").count():
        page.get_by_role("link", name="Give verdict").first.click()
        if first:
            check_a11y()
            first = False
        page.get_by_label("Met", exact=True).check()
        page.get_by_role("button", name="Save verdict").click()
        expect(page.get_by_text("Saved your verdict")).to_be_visible()
    page.get_by_role("button", name="Mark my review as complete").click()
    expect(page.get_by_text("Your review is complete")).to_be_visible()


def test_apply_assess_send_back_resubmit_accredit_and_register(page, live_server, check_a11y,
                                                                people):
    server = live_server
    _sign_in(page, server, people["applicant"])
    page.goto(f"{server}/accreditation")
    check_a11y()
    page.get_by_role("button", name="Apply for accreditation").click()
    check_a11y()
    page.get_by_label("Three-stage quality and capability standard").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Stage 1 – foundation (suggested)")).to_be_visible()
    check_a11y()
    page.get_by_role("button", name="Start application").click()
    expect(page.locator(".govuk-task-list").first).to_be_visible()
    check_a11y()

    page.locator(".govuk-task-list__link").first.click()
    _answer_all(page, check_a11y, first_file=str(DATA / "policy.pdf"))
    check_a11y()
    expect(page.get_by_role("link", name="policy.pdf")).to_be_visible()
    page.get_by_label("I confirm").check()
    page.get_by_role("button", name="Submit application").click()
    expect(page.get_by_text("Application submitted")).to_be_visible()
    check_a11y()

    # The board assigns two assessors: one of its own admins and a colleague.
    _sign_in(page, server, people["board"])
    page.goto(f"{server}/accreditation/assess")
    check_a11y()
    page.get_by_role("link", name="Harbour Lights Befriending").first.click()
    check_a11y()
    page.get_by_role("link", name="Assign assessors").click()
    check_a11y()
    page.get_by_label("Bea Board").check()
    page.get_by_label("Sam Second").check()
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_text("Assigned 2 assessors")).to_be_visible()

    # The board member, now an assessor, must declare before seeing the file.
    expect(page.get_by_role("heading", name="Declare any conflict of interest")).to_be_visible()
    check_a11y()
    page.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Confirm declaration").click()
    check_a11y()
    page.get_by_role("button", name="Ask the applicant for more information").click()
    check_a11y()
    page.get_by_label("What does the applicant need to add or change?").fill(
        "Please upload your signed safeguarding policy.")
    page.get_by_label("Q2 Safeguarding").check()
    page.get_by_role("button", name="Send back to the applicant").click()
    expect(page.get_by_text("sent back to the applicant")).to_be_visible()

    # The applicant sees exactly what was asked and resubmits.
    _sign_in(page, server, people["applicant"])
    page.goto(f"{server}/accreditation")
    page.get_by_role("link", name="Stage 1 – foundation").click()
    expect(page.get_by_text("Please upload your signed safeguarding policy.")).to_be_visible()
    check_a11y()
    page.get_by_role("link", name="Q2 Safeguarding").click()
    page.get_by_label("Upload evidence (optional)").set_input_files(str(DATA / "minutes.docx"))
    page.get_by_role("button", name="Save and come back later").click()
    page.get_by_role("button", name="Check your answers and submit").click()
    page.get_by_label("What have you changed or added?").fill("Uploaded the signed policy.")
    page.get_by_label("I confirm").check()
    check_a11y()
    page.get_by_role("button", name="Resubmit application").click()
    expect(page.get_by_text("Application resubmitted")).to_be_visible()

    # Both assessors review every standard.
    _sign_in(page, server, people["board"])
    page.goto(f"{server}/accreditation/assess")
    page.get_by_role("link", name="Harbour Lights Befriending").first.click()
    _review_all_declared(page, check_a11y)
    _sign_in(page, server, people["second"])
    page.goto(f"{server}/accreditation/assess")
    check_a11y()
    page.get_by_role("link", name="Harbour Lights Befriending").first.click()
    _review_all(page, check_a11y, server)

    # The board decides.
    _sign_in(page, server, people["board"])
    page.goto(f"{server}/accreditation/assess")
    page.get_by_role("link", name="Harbour Lights Befriending").first.click()
    page.get_by_role("button", name="Moderate and decide").click()
    check_a11y()
    page.get_by_label("Accredit at the level applied for").check()
    page.get_by_label("Reasons for the decision").fill("All standards for stage 1 are met.")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_text("Decision recorded")).to_be_visible()
    check_a11y()

    # Anyone can now find the organisation on the public register.
    page.goto("about:blank")
    page.context.clear_cookies()
    page.goto(f"{server}/accredited-providers?q=Harbour")
    expect(page.get_by_role("link", name="Harbour Lights Befriending")).to_be_visible()
    expect(page.get_by_text("Stage 1 – foundation, Three-stage")).to_be_visible()
    check_a11y()
    assert len(check_a11y.scanned) >= 20


def _review_all_declared(page, check_a11y):
    # Wait for the application page itself before counting what is left to review.
    expect(page.get_by_role("heading", name="Standards", exact=True)).to_be_visible()
    first = True
    while page.get_by_role("link", name="Give verdict").count():
        page.get_by_role("link", name="Give verdict").first.click()
        if first:
            check_a11y()
            first = False
        page.get_by_label("Met", exact=True).check()
        page.get_by_role("button", name="Save verdict").click()
        expect(page.get_by_text("Saved your verdict")).to_be_visible()
    page.get_by_role("button", name="Mark my review as complete").click()
    expect(page.get_by_text("Your review is complete")).to_be_visible()
