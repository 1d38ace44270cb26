"""Steps the browser journeys share."""
from playwright.sync_api import expect

from tests import factories


def enter_password(page, base, email):
    """The first step of signing in as `email` (a factory user), in a clean session."""
    # Leave the page first so no request still in flight can put the old session back.
    page.goto("about:blank")
    page.context.clear_cookies()
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page, base, email):
    """Sign in as `email` (a factory user) in a clean session."""
    enter_password(page, base, email)
    expect(page.get_by_role("link", name="Your account")).to_be_visible()
