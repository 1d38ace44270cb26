from flask import render_template

from portal.pipeline import bp


@bp.get("/forward-plan")
def index():
    return render_template("pipeline/index.html", title="Forward procurement plan")
