"""Security headers, CSRF, rate limits, error pages and the health check."""
import pytest

from config import TestingConfig
from portal import create_app
from portal.core.audit import AuditEvent, record
from portal.extensions import db
from tests.conftest import csrf_token_from


def test_security_headers_and_csp_nonce(client):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.get_data(as_text=True)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_session_cookie_flags(app, make_user):
    user = make_user()
    secure_app = create_app(type("SecureTesting", (TestingConfig,), {"SESSION_COOKIE_SECURE": True}))
    client = secure_app.test_client()
    response = client.post("/sign-in", data={"email": user.email, "password": "correct horse battery staple"})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


class CsrfOn(TestingConfig):
    WTF_CSRF_ENABLED = True


class RateLimited(TestingConfig):
    RATELIMIT_ENABLED = True
    LOGIN_LIMIT_PER_IP = "100 per minute"
    LOGIN_LIMIT_PER_ACCOUNT = "3 per minute"


@pytest.fixture
def csrf_client(app):
    return create_app(CsrfOn).test_client()


def test_post_without_csrf_token_is_refused(csrf_client):
    response = csrf_client.post("/sign-in", data={"email": "a@example.org", "password": "x" * 12})
    assert response.status_code == 400
    assert "Your form has expired" in response.get_data(as_text=True)


def test_post_with_csrf_token_is_accepted(csrf_client):
    token = csrf_token_from(csrf_client.get("/sign-in").get_data(as_text=True))
    response = csrf_client.post("/sign-in", data={"email": "a@example.org", "password": "x" * 12,
                                                  "csrf_token": token})
    assert response.status_code == 200
    assert "Enter a correct email address and password" in response.get_data(as_text=True)


def test_sign_in_is_rate_limited_per_account(app):
    client = create_app(RateLimited).test_client()
    for _ in range(3):
        client.post("/sign-in", data={"email": "target@example.org", "password": "wrong-password-x"})
    response = client.post("/sign-in", data={"email": "target@example.org", "password": "wrong-password-x"})
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    other = client.post("/sign-in", data={"email": "other@example.org", "password": "wrong-password-x"})
    assert other.status_code == 200


def test_not_found_page_html_and_json(client):
    html = client.get("/no-such-page")
    assert html.status_code == 404 and "Page not found" in html.get_data(as_text=True)
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.get_json()["status"] == 404


def test_server_error_page(app):
    fresh = create_app(TestingConfig)
    fresh.add_url_rule("/_boom", "boom", lambda: 1 / 0)
    response = fresh.test_client().get("/_boom")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.get_data(as_text=True)


def test_healthz_reports_database_and_search(client):
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["search"]["status"] == "ok"


def test_audit_events_are_append_only(db):
    event = record("test.event", None, note="x")
    db.session.commit()
    event.action = "changed"
    with pytest.raises(RuntimeError):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(RuntimeError):
        db.session.delete(db.session.get(AuditEvent, event.id))
        db.session.commit()
    db.session.rollback()
