"""A person registers, confirms their email, signs in, completes the profile and sees it public.

Every page reached is checked with axe-core (WCAG 2.2 AA).
"""
import os
import re

from playwright.sync_api import expect
from sqlalchemy import select

from portal.core.mail import OutboxMessage
from portal.extensions import db

PASSWORD = "violet harbour compass 27"
SCREENSHOTS = os.environ.get("SCREENSHOT_DIR")


def _shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"foundation-{name}.png"), full_page=True)


def _latest_link(app, fragment):
    with app.app_context():
        body = db.session.scalars(select(OutboxMessage.body).order_by(OutboxMessage.id.desc())).first()
    return re.search(rf"http://\S*{fragment}\S*", body).group(0)


def test_register_verify_sign_in_edit_and_view_public_profile(app, page, live_server, check_a11y):
    page.goto(f"{live_server}/register")
    check_a11y()
    page.get_by_label("Voluntary, community or social enterprise (VCSE)").check()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Tell us about your organisation")).to_be_visible()
    check_a11y()
    page.get_by_label("Organisation name").fill("Harbour Lights Befriending")
    page.get_by_label("Charitable incorporated organisation (CIO)").check()
    page.get_by_label("Charity number (if you have one)").fill("12")
    page.get_by_label("Postcode of your main office").fill("E1 6AN")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("charity number")
    expect(page.get_by_label("Organisation name")).to_have_value("Harbour Lights Befriending")
    check_a11y()
    _shot(page, "register-error")
    page.get_by_label("Charity number (if you have one)").fill("1123456")
    page.get_by_role("button", name="Continue").click()

    check_a11y()
    page.get_by_label("Full name").fill("Grace Harbour")
    page.get_by_label("Email address").fill("grace@harbourlights.example")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Check your answers")).to_be_visible()
    check_a11y()
    _shot(page, "register-check")
    page.get_by_role("button", name="Continue").click()

    check_a11y()
    page.get_by_label("Create a password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Registration complete")).to_be_visible()
    check_a11y()

    page.goto(_latest_link(app, "/verify-email/").replace("http://localhost", live_server))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is confirmed")
    check_a11y()
    page.get_by_label("Email address").fill("grace@harbourlights.example")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # A new VCSE lands on its dashboard, which says what its profile still needs.
    expect(page.get_by_role("heading", name="Your dashboard")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Finish your profile")
    check_a11y()
    page.get_by_role("navigation", name="Main menu").get_by_role(
        "link", name="Your organisation").click()
    expect(page.get_by_role("heading", name="Harbour Lights Befriending")).to_be_visible()
    check_a11y()
    profile_url = page.url

    page.goto(profile_url + "/edit")
    check_a11y()
    page.get_by_label("Description of services (optional)").fill(
        "Weekly befriending visits and phone calls for older people living alone.")
    page.get_by_label("Latest annual income (optional)").fill("£86,500")
    page.get_by_role("button", name="Save changes").click()
    check_a11y()

    page.goto(profile_url + "/categories?q=social+work")
    check_a11y()
    page.locator("form:has(input[name=code][value='85310000']) button").first.click()
    page.goto(profile_url + "/areas?q=Tower+Hamlets")
    check_a11y()
    page.get_by_role("button", name=re.compile(r"^Add Tower Hamlets")).first.click()
    _shot(page, "areas")

    page.goto(f"{live_server}/account")
    page.get_by_role("button", name="Sign out").click()
    page.goto(profile_url)
    expect(page.get_by_text("Weekly befriending visits")).to_be_visible()
    expect(page.get_by_text("Social work services").first).to_be_visible()
    expect(page.get_by_text("Tower Hamlets").first).to_be_visible()
    expect(page.get_by_text("£10,000 to £100,000").first).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Edit"))).to_have_count(0)
    check_a11y()
    _shot(page, "public-profile")
    assert len(check_a11y.scanned) >= 14
