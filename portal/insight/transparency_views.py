"""A buyer's public transparency page."""
from flask import render_template

from portal.insight import access, bp, transparency
from portal.insight.shares import money, percent_text
from portal.pipeline.models import STATUSES


@bp.get("/commissioners/<int:org_id>/transparency")
def transparency_page(org_id):
    buyer = access.public_buyer(org_id)
    return render_template("insight/transparency.html", buyer=buyer,
                           figures=transparency.headlines(buyer), stage_labels=STATUSES,
                           money=money, percent_text=percent_text)
