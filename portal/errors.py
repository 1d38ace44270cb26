"""Error pages in the portal's style, or JSON for API clients."""
from flask import current_app, g, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from portal.core.exceptions import AdminOnly, DomainError
from portal.extensions import db, login_manager
from portal.search.repair import SearchUnavailable

TITLES = {
    400: "There is a problem with your request",
    401: "Sign in or send an API token",
    403: "You do not have permission to see this page",
    404: "Page not found",
    405: "That action is not allowed here",
    413: "The file is too large",
    429: "Too many attempts",
    500: "Sorry, there is a problem with the service",
    503: "Search is being rebuilt",
}


def wants_json():
    if request.path.startswith("/api/") or request.path == "/healthz":
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


DATABASE_DOWN_TITLE = "Sorry, the service is unavailable"
DATABASE_DOWN = ("The service cannot reach its database for a moment. Try again in a minute: "
                 "anything you saw confirmed before this page has been saved.")


def error_response(status, message=None, template=None, title=None):
    title = title or TITLES.get(status, "There is a problem")
    if wants_json():
        return jsonify({"status": status, "error": title, "message": message or title}), status
    return render_template(template or "errors/error.html", status=status, title=title,
                           message=message), status


def _message(error):
    if error.code == 429:
        return error.description
    if error.code == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        size = f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit // 1024} KB"
        return (f"What you sent is larger than {size}, the most this service accepts in one "
                "go. Choose a smaller file.")
    return None


def init_app(app):
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return error_response(400, "Your form expired or was sent from another site.",
                              template="errors/csrf.html")

    @app.errorhandler(SearchUnavailable)
    def search_unavailable(error):
        response = make_response(error_response(
            503, "Matching and search are being rebuilt after a fault. Try again in a minute: "
                 "nothing you saved has been lost."))
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(AdminOnly)
    def admin_only(error):
        db.session.rollback()
        if wants_json():
            return error_response(403, error.message)
        return render_template("errors/403_admin.html", status=403, error=error,
                               title="Ask your organisation's administrator"), 403

    @app.errorhandler(DomainError)
    def domain_error(error):
        db.session.rollback()
        return error_response(error.status_code, error.message)

    @app.errorhandler(HTTPException)
    def http_error(error):
        response = make_response(error_response(error.code or 500, _message(error)))
        # The exception's own headers are part of the answer: Allow on a 405 (RFC 9110),
        # Retry-After on a 429. Our body replaces its HTML, so not its Content-Type.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(DBAPIError)
    def database_error(error):
        if not database_unreachable(error):
            return unhandled(error)
        app.logger.warning("Database unavailable: %s", type(error.orig).__name__)
        _forget_database_state()
        response = make_response(error_response(503, DATABASE_DOWN, title=DATABASE_DOWN_TITLE))
        response.headers["Retry-After"] = "30"
        return response

    @app.teardown_appcontext
    def let_go_of_a_lost_connection(_error):
        """Flask-SQLAlchemy's own teardown (registered earlier, so run after this) closes the
        session, rolling back its connection; on a connection the database dropped, that
        rollback raises after the response is made and the person gets a 500. Close it here
        and give up a dead connection instead."""
        try:
            db.session.close()
        except DBAPIError:
            db.session().invalidate()  # the request's session; the scoped proxy has none

    @app.errorhandler(Exception)
    def unhandled(error):
        db.session.rollback()
        app.logger.exception("Unhandled error")
        return error_response(500)


def database_unreachable(error):
    """Whether a database error means the database cannot be reached or lost the connection
    (the service is down for a while) rather than a fault in the portal."""
    return error.connection_invalidated or isinstance(error, (OperationalError, InterfaceError))


def _forget_database_state():
    """Drop the request's transaction (its connection is gone; the pool already threw it and its
    siblings away, and checks connections before handing them out) and show the page as to
    someone signed out, since who is signed in cannot be read now."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        pass
    g._login_user = login_manager.anonymous_user()
