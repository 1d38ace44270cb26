"""Open roles on the teaming board and open sub-contract packages in the profile alerts: a
supplier whose profile fits a role or package posted since it subscribed is told of it once (a
hit's version never changes)."""
from datetime import date

from flask import url_for
from sqlalchemy import select

from portal.alerts.sources import Hit, contributes_to
from portal.consortia.models import PartnerRole, SubcontractPackage, TeamingPost
from portal.consortia.suggestions import package_query, role_query, team_of
from portal.extensions import db
from portal.matching import services as matching
from portal.matching.models import strength
from portal.matching.ranking import rank_suppliers
from portal.pipeline.models import Opportunity

# The newest open roles looked at in one run, per subscription.
ROLES_PER_RUN = 50


@contributes_to("profile")
def role_hits(subscription, limit):
    """Open roles posted since subscribing that the subscriber's organisation fits with
    evidence about the service (a Good or Strong match), leaving out its own posts and teams."""
    organisation = subscription.user.organisation
    if not matching.is_supplier(organisation):
        return []
    hits = []
    for role in _new_open_roles(subscription.created_at, organisation.id):
        match = _fits(role_query(role), organisation)
        if match and organisation.id not in team_of(role):
            hits.append(_hit(role, match))
    return hits[:limit]


@contributes_to("profile")
def package_hits(subscription, limit):
    """Open sub-contract packages posted since subscribing that fit the organisation."""
    organisation = subscription.user.organisation
    if not matching.is_supplier(organisation):
        return []
    hits = []
    for package in _new_open_packages(subscription.created_at, organisation.id):
        match = _fits(package_query(package), organisation)
        if match:
            hits.append(_package_hit(package, match))
    return hits[:limit]


def _fits(query, organisation):
    """The organisation's match for the query when it is Good or Strong, with evidence about
    the service; otherwise None."""
    found = rank_suppliers(query, limit=1, candidate_keys=[organisation.id])
    if found and found[0].evident and strength(found[0].signals)[0] != "possible":
        return found[0]
    return None


def _new_open_packages(since, organisation_id):
    return db.session.scalars(select(SubcontractPackage).where(
        SubcontractPackage.created_at >= since, SubcontractPackage.status == "open",
        SubcontractPackage.closes_on >= date.today(),
        SubcontractPackage.organisation_id != organisation_id)
        .order_by(SubcontractPackage.id.desc()).limit(ROLES_PER_RUN)).all()


def _package_hit(package, match):
    reason = f"Sub-contract offered by {package.organisation.name}: " + "; ".join(match.reasons)
    return Hit("subcontract_package", package.id, "1",
               f"{package.title} ({package.opportunity.title})"[:300],
               url_for("consortia.package", package_id=package.id), reason)


def _new_open_roles(since, organisation_id):
    return db.session.scalars(
        select(PartnerRole).join(PartnerRole.post).join(TeamingPost.opportunity).where(
            TeamingPost.created_at >= since, TeamingPost.withdrawn_at.is_(None),
            TeamingPost.organisation_id != organisation_id,
            PartnerRole.removed_at.is_(None), PartnerRole.filled_by_organisation_id.is_(None),
            Opportunity.status.in_(("planned", "market_engagement", "open")))
        .order_by(PartnerRole.id.desc()).limit(ROLES_PER_RUN)).all()


def _hit(role, match):
    post = role.post
    reason = f"{post.organisation.name} is looking for a partner: " + "; ".join(match.reasons)
    return Hit("partner_role", role.id, "1", f"{role.title} ({post.opportunity.title})"[:300],
               url_for("consortia.post", post_id=post.id), reason)
