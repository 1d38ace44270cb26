"""Profile alerts: entries newly recommended to the subscriber's organisation, or changed since.

A hit's version is the entry's last change, so the alert run sends each recommendation once and
again only when the entry itself changes. "New" means the supplier appeared among the entry's
matches, or the entry changed, after the person subscribed: subscribing does not send the
whole backlog.
"""
from flask import url_for
from sqlalchemy import or_

from portal.alerts.sources import Hit, source
from portal.extensions import db
from portal.matching import services
from portal.matching.models import OpportunityMatch, strength
from portal.pipeline.models import Opportunity


@source("profile", "New recommendations for your organisation")
def profile_hits(subscription, limit):
    """Recommendations for the subscriber's organisation that are new since subscribing."""
    organisation = subscription.user.organisation
    if not services.is_supplier(organisation):
        return []
    since = subscription.created_at
    statement = services.recommendations_statement(organisation.id).where(or_(
        OpportunityMatch.first_matched_at >= since, Opportunity.updated_at >= since))
    rows = db.session.scalars(statement.limit(limit)).all()
    return [_hit(row) for row in rows]


def _hit(row):
    opportunity = row.opportunity
    label = strength(row.signals)[1]
    reason = f"{label}: " + "; ".join(row.reasons) if row.reasons else label
    return Hit("opportunity", opportunity.id,
               opportunity.updated_at.isoformat(), opportunity.title,
               url_for("pipeline.show", opportunity_id=opportunity.id), reason)
