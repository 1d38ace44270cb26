"""Headers on every page, a fresh session at sign-in, reset links that work once and expire, and
no personal data in the log.

Every GET page the access matrix reaches as the owner (tests/functional/test_access_matrix.py)
carries the security headers and the content security policy that portal/security.py sets,
and nothing on an HTML page needs what that policy forbids.
"""
import logging
import re
import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from config import TestingConfig
from portal import create_app
from portal.accounts import services as accounts
from portal.core.exceptions import DomainError
from portal.core.mail import OutboxMessage
from portal.extensions import db
from tests import factories
from tests.functional import access_matrix as matrix
from tests.functional.test_access_matrix import (  # noqa: F401  (fixtures)
    cases, stored_files, url_for_case, world,
)

NEW_PASSWORD = "plum orchard lantern 42"
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
POLICY = ("default-src 'self'", "style-src 'self'", "img-src 'self' data:", "object-src 'none'",
          "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'")
# What the policy blocks: inline styles and event handlers would silently not work.
FORBIDDEN_MARKUP = re.compile(r"<style[\s>]|\sstyle=\"|\son[a-z]+=\"", re.IGNORECASE)


def _problems(case, response):
    """What is missing from one response's headers, or in its HTML, against the policy."""
    found = [f"{name}: {response.headers.get(name)!r}" for name, value in HEADERS.items()
             if response.headers.get(name) != value]
    csp = response.headers.get("Content-Security-Policy", "")
    found += [f"CSP lacks {part}" for part in POLICY if part not in csp]
    if "unsafe-inline" in csp or "unsafe-eval" in csp:
        found.append("CSP allows inline or eval'd code")
    if "no-store" not in response.headers.get("Cache-Control", ""):
        found.append(f"Cache-Control: {response.headers.get('Cache-Control')!r}")
    if response.mimetype == "text/html":
        found += _html_problems(csp, response.get_data(as_text=True))
    return [f"{case}: {problem}" for problem in found]


def _html_problems(csp, html):
    nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", csp)
    if nonce is None:
        return ["CSP has no script nonce"]
    # Scripts from our own files are allowed by 'self'; code written into the page needs the
    # page's nonce.
    inline = [tag for tag in re.findall(r"<script\b[^>]*>", html) if " src=" not in tag]
    found = [f"inline script without the nonce: {tag}" for tag in inline
             if f'nonce="{nonce.group(1)}"' not in tag]
    return found + [f"markup the policy blocks: {m.group(0)!r}"
                    for m in FORBIDDEN_MARKUP.finditer(html)]


def test_every_page_the_owner_reaches_carries_the_headers(app, world):
    clients, problems, pages = matrix.Clients(app), [], 0
    for case, rule, kind, expected in cases(app):
        if expected["owner"] != 200 or "GET" not in rule.methods:
            continue
        response = clients.for_user(matrix.person(world, kind, "owner")).get(
            url_for_case(app, world, case, rule))
        assert response.status_code == 200, case
        pages += 1
        problems += _problems(case, response)
    print(f"\nSecurity headers checked on {pages} pages")
    assert not problems, "\n".join(problems)


def test_answers_to_nobody_in_particular_carry_the_headers_too(client):
    for url in ("/", "/no-such-page", "/api/v1/opportunities", "/forward-plan/feed.atom"):
        response = client.get(url)
        assert [name for name, value in HEADERS.items()
                if response.headers.get(name) != value] == [], url
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], url


# --- Sessions -----------------------------------------------------------------------------------

def _session_cookie(client, app):
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    return cookie.value if cookie else None


def test_signing_in_starts_a_new_session(app, client, make_user):
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "by someone who handed this cookie over"
    before = _session_cookie(client, app)
    attacker = app.test_client()
    attacker.set_cookie(app.config.get("SESSION_COOKIE_NAME", "session"), before)
    response = client.post("/sign-in", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 302
    assert _session_cookie(client, app) not in (None, before)
    with client.session_transaction() as session:
        assert "planted" not in session and session.get("_user_id")
    # Whoever kept the cookie from before is still nobody.
    assert matrix.outcome(attacker.get("/account")) == "login"
    assert client.get("/account").status_code == 200


def test_signing_out_ends_every_copy_of_the_session(app, client, make_user):
    user = make_user()
    client.post("/sign-in", data={"email": user.email, "password": factories.PASSWORD})
    copy = app.test_client()
    copy.set_cookie(app.config.get("SESSION_COOKIE_NAME", "session"),
                    _session_cookie(client, app))
    assert copy.get("/account").status_code == 200
    client.post("/sign-out")
    assert matrix.outcome(copy.get("/account")) == "login"


# --- Password reset links -----------------------------------------------------------------------

def _reset_token(app, email):
    with app.test_request_context():
        accounts.request_password_reset(email)
    body = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first().body
    return re.search(r"/reset-password/(\S+)", body).group(1)


def test_a_reset_link_works_once(app, client, make_user):
    user = make_user()
    token = _reset_token(app, user.email)
    assert accounts.user_for_reset_token(token).id == user.id
    accounts.reset_password(token, NEW_PASSWORD)
    with pytest.raises(DomainError, match="already been used"):
        accounts.user_for_reset_token(token)
    with pytest.raises(DomainError):
        accounts.reset_password(token, "another long passphrase 7")
    assert client.get(f"/reset-password/{token}").status_code == 400
    response = client.post(f"/reset-password/{token}",
                           data={"password": "another long passphrase 7",
                                 "confirm": "another long passphrase 7"})
    assert response.status_code == 400
    db.session.expire_all()
    assert user.check_password(NEW_PASSWORD)


def test_an_older_reset_link_stops_working_once_a_newer_one_is_used(app, make_user):
    user = make_user()
    first, second = _reset_token(app, user.email), _reset_token(app, user.email)
    accounts.reset_password(second, NEW_PASSWORD)
    with pytest.raises(DomainError):
        accounts.user_for_reset_token(first)


def _later(monkeypatch, seconds):
    """Move the signer's clock on, so tokens made now are `seconds` old."""
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + seconds)


def test_a_reset_link_expires(app, client, make_user, monkeypatch):
    user = make_user()
    token = _reset_token(app, user.email)
    max_age = app.config["RESET_TOKEN_MAX_AGE"]
    _later(monkeypatch, max_age - 60)
    assert accounts.user_for_reset_token(token).id == user.id
    _later(monkeypatch, max_age + 60)
    with pytest.raises(DomainError, match="expired"):
        accounts.user_for_reset_token(token)
    with pytest.raises(DomainError, match="expired"):
        accounts.reset_password(token, NEW_PASSWORD)
    assert client.get(f"/reset-password/{token}").status_code == 400
    db.session.expire_all()
    assert user.check_password(factories.PASSWORD)


# --- Nothing personal in the log ----------------------------------------------------------------

class RateLimited(TestingConfig):
    RATELIMIT_ENABLED = True
    LOGIN_LIMIT_PER_IP = "100 per minute"
    LOGIN_LIMIT_PER_ACCOUNT = "2 per minute"


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("portal", "flask-limiter", "werkzeug"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _leaks(records, secrets):
    """Records whose text holds any of `secrets` (compared without case)."""
    found = []
    for record in records:
        text = " ".join([record.getMessage(), record.exc_text or "", repr(record.args)]).lower()
        found += [f"{record.name}: {record.getMessage()[:200]!r} holds {secret!r}"
                  for secret in secrets if secret.lower() in text]
    return found


def _register(client, email):
    client.post("/register", data={"org_type": "vcse"})
    client.post("/register/organisation", data={
        "name": "Riverside Befriending", "legal_form": "cio", "charity_number": "1123456",
        "company_number": "", "postcode": "e1 6an"})
    client.post("/register/you", data={"name": "Ada Founder", "email": email})
    client.post("/register/check", data={})
    return client.post("/register/password",
                       data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})


def test_signing_in_logs_no_address_or_password(app, client, make_user, log):
    user = make_user(email="ada.person@example.org")
    waiting = make_user(email="not.confirmed@example.org", verified=False)
    attempts = [(user.email, factories.PASSWORD), (user.email, "wrong horse battery"),
                ("nobody.here@example.org", "guessed passphrase 1"),
                (waiting.email, factories.PASSWORD)]
    for email, password in attempts:
        client.post("/sign-in", data={"email": email, "password": password})
        client.post("/sign-out")
    limited = create_app(RateLimited).test_client()
    for _ in range(4):
        limited.post("/sign-in", data={"email": user.email, "password": "wrong horse battery"})
    secrets = {email for email, _ in attempts} | {password for _, password in attempts}
    assert log.records, "nothing was logged, so nothing was checked"
    assert _leaks(log.records, secrets) == []


def test_registering_logs_no_address_or_password(client, log):
    assert _register(client, "founder@example.org").status_code == 302
    assert _register(client, "founder@example.org").status_code == 302  # already registered
    assert _leaks(log.records, {"founder@example.org", NEW_PASSWORD}) == []


def test_resetting_a_password_logs_no_address_password_or_link(app, client, make_user, log):
    user = make_user(email="ada.person@example.org")
    client.post("/forgot-password", data={"email": user.email})
    client.post("/forgot-password", data={"email": "nobody.here@example.org"})
    body = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first().body
    token = re.search(r"/reset-password/(\S+)", body).group(1)
    response = client.post(f"/reset-password/{token}",
                           data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert _leaks(log.records, {user.email, "nobody.here@example.org", NEW_PASSWORD,
                                token}) == []
