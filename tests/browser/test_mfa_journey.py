"""A charity's administrator turns on two-step sign-in from Your account, saves the recovery
codes, signs in again with a code from the app (a wrong code first), and later with a recovery
code after losing the phone.

Every page reached is checked with axe-core (WCAG 2.2 AA), for empty legends and for unlabelled
controls.
"""
import os
import re
import time

import pyotp
from playwright.sync_api import expect

from tests import factories
from tests.browser.journeys import enter_password, sign_in

SCREENSHOTS = os.environ.get("SCREENSHOT_DIR")


def _shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"mfa-{name}.png"), full_page=True)


def _world(app):
    with app.app_context():
        charity = factories.make_org("Hastings Befriending Network", org_type="vcse")
        factories.make_user(charity, email="admin@hastings-befriending.example")


def _turn_on(page, check_a11y):
    """Set up from Your account; returns the key and the recovery codes shown once."""
    page.get_by_role("link", name="Your account").click()
    page.get_by_role("link", name="Set up two-step sign-in").click()
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    check_a11y()
    _shot(page, "set-up")
    key = page.locator("#setup-key").inner_text().replace(" ", "")
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("code is not right")
    check_a11y()
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    check_a11y()
    _shot(page, "recovery-codes")
    codes = page.locator("li code.app-token").all_inner_texts()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    page.get_by_label("I have saved these recovery codes somewhere safe").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Two-step sign-in is on")).to_be_visible()
    return key, codes


def _next_code(key):
    """A code of the next time step: the one used to turn it on cannot be used again."""
    totp = pyotp.TOTP(key)
    return totp.at(int(totp.timecode(time.time()) + 1) * totp.interval)


def test_admin_turns_on_two_step_sign_in_and_uses_it(app, page, live_server, check_a11y):
    _world(app)
    base, email = live_server, "admin@hastings-befriending.example"
    sign_in(page, base, email)
    key, codes = _turn_on(page, check_a11y)
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z0-9]{5}-[a-z0-9]{5}", c) for c in codes)

    enter_password(page, base, email)
    expect(page.get_by_role("heading", name="Enter the code from your authenticator app")
           ).to_be_visible()
    page.get_by_label("Code from your authenticator app").fill("12345")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary a")).to_have_attribute("href", "#code")
    check_a11y()
    _shot(page, "code-error")
    page.get_by_label("Code from your authenticator app").fill(_next_code(key))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name="Your account")).to_be_visible()

    enter_password(page, base, email)
    page.get_by_role("link", name="Use a recovery code instead").click()
    check_a11y()
    _shot(page, "recovery")
    page.get_by_label("Recovery code").fill(codes[0].upper())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("You have 9 left")).to_be_visible()
    check_a11y()

    enter_password(page, base, email)
    page.get_by_role("link", name="Use a recovery code instead").click()
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("not used before")
