"""Links between the insight pages, for the dashboard's list: each group of pages is linked only
once its routes exist."""
from datetime import date

from flask import current_app, url_for
from sqlalchemy import select

from portal.extensions import db
from portal.insight import bp
from portal.pipeline.models import Opportunity

# (endpoint, link text); the buyer's id is passed to a site administrator's links.
SECTIONS = (
    ("insight.contracts", "Contracts register and re-procurement prompts"),
    ("insight.self_assessment", "National Procurement Strategy self-assessment"),
    ("insight.social_value", "Social value committed and delivered"),
)


@bp.app_template_global()
def insight_links(buyer):
    links = []
    for endpoint, text in SECTIONS:
        if endpoint in current_app.view_functions:
            args = {"organisation": buyer.id} if buyer is not None else {}
            links.append({"href": url_for(endpoint, **args), "text": text})
    return links


def has_demo_data(buyer):
    """Whether the figures include generated history, which the page must say."""
    stmt = select(Opportunity.id).where(Opportunity.source == "demo")
    if buyer is not None:
        stmt = stmt.where(Opportunity.organisation_id == buyer.id)
    return db.session.scalar(stmt.limit(1)) is not None


def today():
    return date.today()
