"""Security headers with a per-request CSP nonce, session timeouts and the user loader."""
import secrets
import time

from flask import g, request, session
from flask_login import current_user, logout_user

from portal.extensions import db, login_manager


def csp_nonce():
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _content_security_policy():
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{csp_nonce()}'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def set_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", _content_security_policy())
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    elif "Cache-Control" not in response.headers and _made_for_someone():
        # JSON, CSV and files made for a signed-in person or a token holder are theirs alone.
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _made_for_someone():
    return "Authorization" in request.headers or current_user.is_authenticated


def load_user(user_id):
    """Sessions carry '<id>:<session version>'; a bumped version revokes the session."""
    from portal.accounts.models import User

    try:
        raw_id, version = user_id.split(":")
        user = db.session.get(User, int(raw_id))
    except (ValueError, AttributeError):
        return None
    if user is None or str(user.session_version) != version or not user.is_active:
        return None
    return user


def enforce_absolute_timeout(app):
    limit = app.config["SESSION_ABSOLUTE_HOURS"] * 3600

    def check():
        session.permanent = True  # idle timeout: PERMANENT_SESSION_LIFETIME, refreshed per request
        if current_user.is_authenticated:
            started = session.get("signed_in_at", 0)
            if time.time() - started > limit:
                logout_user()
                session.clear()
    return check


def init_app(app):
    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = "Sign in to see this page"
    login_manager.login_message_category = "info"
    app.add_template_global(csp_nonce)
    app.before_request(enforce_absolute_timeout(app))
    app.after_request(set_security_headers)
