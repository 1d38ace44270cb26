from flask import jsonify, render_template
from flask_login import current_user
from sqlalchemy import text

from portal.extensions import db
from portal.main import bp
from portal.organisations import services as organisation_services
from portal.search import services as search_services


@bp.get("/")
def home():
    counts = organisation_services.directory_counts()
    return render_template("main/home.html", title="Find and win public service contracts",
                           counts=counts, user=current_user)


@bp.get("/about-the-data")
def about_data():
    return render_template("main/about_data.html", title="About the data")


@bp.get("/accessibility")
def accessibility():
    return render_template("main/accessibility.html", title="Accessibility statement")


@bp.get("/healthz")
def healthz():
    """Liveness and readiness: the database reachable and both search indexes readable
    (503 while one is being rebuilt)."""
    checks, healthy = {}, True
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = {"status": "ok", "dialect": db.engine.dialect.name}
    except Exception as error:  # report, do not raise: this is the health check
        healthy = False
        checks["database"] = {"status": "error", "detail": error.__class__.__name__}
    checks.update(search_services.health())
    healthy = healthy and all(check["status"] == "ok" for check in checks.values())
    body = {"status": "ok" if healthy else "error", "checks": checks}
    return jsonify(body), 200 if healthy else 503
