"""Where alert matches come from. Each source turns a subscription into current hits.

A hit is identified by (object_type, object_id, version): a changed object has a new version and
so is sent again, an unchanged one never is.
"""
from dataclasses import dataclass

from flask import url_for

SOURCES = {}


@dataclass(frozen=True)
class Hit:
    object_type: str
    object_id: int
    version: str
    title: str
    path: str
    reason: str = ""


# More hits for a source from packages above this one: {source name: [function]}.
CONTRIBUTIONS = {}


def source(name, label):
    def register(function):
        function.label = label
        SOURCES[name] = function
        return function
    return register


def contributes_to(name):
    """Register a function adding hits to the source `name` (the teaming board adds open
    roles that fit a profile to the profile alerts, without the alerts knowing of it)."""
    def register(function):
        CONTRIBUTIONS.setdefault(name, []).append(function)
        return function
    return register


def find_hits(subscription, limit=200):
    hits = list(SOURCES[subscription.source](subscription, limit))
    for contribution in CONTRIBUTIONS.get(subscription.source, ()):
        hits += contribution(subscription, limit)
    return hits


def _opportunity_hit(opportunity, reason=""):
    return Hit("opportunity", opportunity.id, opportunity.updated_at.isoformat(timespec="seconds"),
               opportunity.title, url_for("pipeline.show", opportunity_id=opportunity.id), reason)


@source("forward_plan", "Forward plan search")
def forward_plan_hits(subscription, limit):
    """Public forward-plan entries that match the saved filters and changed since subscribing."""
    from portal.extensions import db
    from portal.pipeline.models import Opportunity
    from portal.pipeline.queries import filtered_statement, parse_plan_query

    query = parse_plan_query(subscription.params)
    statement = filtered_statement(query).where(Opportunity.updated_at >= subscription.created_at)
    rows = db.session.scalars(statement.order_by(Opportunity.updated_at.desc()).limit(limit))
    return [_opportunity_hit(o, "Matches your saved search") for o in rows]
