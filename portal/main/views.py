from flask import jsonify, render_template
from flask_login import current_user

from portal.main import bp, services
from portal.organisations import directory


@bp.get("/")
def home():
    counts = directory.directory_counts()
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
    (503 when the database is down or an index is being rebuilt), with the mail and
    matching backlogs."""
    checks, healthy = services.health()
    body = {"status": "ok" if healthy else "error", "checks": checks}
    return jsonify(body), 200 if healthy else 503
