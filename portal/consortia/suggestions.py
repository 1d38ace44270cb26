"""Partners the matching engine suggests for an open role or for a gap in a team: ranked,
explained, eligible, leaving out the team itself, and preferring organisations with someone
who can answer an invitation."""
from dataclasses import dataclass, replace

from sqlalchemy import select

from portal.extensions import db
from portal.matching import services as matching
from portal.matching.models import strength
from portal.matching.query import MatchQuery
from portal.matching.ranking import (
    MAX_PLACE_BREADTH, Match, MatchFilters, Ranked, rank_suppliers,
)
from portal.organisations.models import Organisation
from portal.reference.models import VocabularyTerm

STRENGTH_ORDER = {"strong": 0, "good": 1, "possible": 2}


@dataclass
class Suggestion:
    """One organisation suggested for a role, as a page shows it."""

    match: Match
    organisation: Organisation
    # Whether anyone at the organisation can answer an invitation.
    reachable: bool
    invitation: object = None

    @property
    def strength(self):
        return strength(self.match.signals)


def role_query(role):
    """What the matcher looks for to fill a role: the role's own words, categories and client
    groups; its areas, or else the entry's; the entry's buyer and the rules on who may take
    part; the role's recommended level; its share of the value."""
    post = role.post
    base = MatchQuery.from_opportunity(post.lot or post.opportunity)
    groups = db.session.scalars(select(VocabularyTerm.value).where(
        VocabularyTerm.id.in_(role.client_group_ids or [-1]))).all()
    value = base.value * role.value_share / 100 if base.value and role.value_share else base.value
    return replace(base, title=role.title,
                   description="\n".join(t for t in [role.delivers, *groups] if t),
                   cpv_codes=tuple(role.cpv_codes), value=value,
                   area_codes=tuple(role.area_codes) or base.area_codes,
                   recommended_tier=role.recommended_tier, noun="role")


def package_query(package):
    """What the matcher looks for in a sub-contractor: the package's own words, categories,
    areas (or else the entry's), value and level, with the entry's buyer and rules."""
    base = MatchQuery.from_opportunity(package.opportunity)
    return replace(base, title=package.title, description=package.description,
                   cpv_codes=tuple(package.cpv_codes),
                   area_codes=tuple(package.area_codes) or base.area_codes,
                   value=package.value or base.value,
                   recommended_tier=package.recommended_tier, noun="package")


def suggest(query, leave_out=(), limit=20, filters=None):
    """Suppliers for `query` as a `Ranked` list of Suggestions, leaving out `leave_out`
    (organisation ids): the best labelled first and, within a label, those who can answer.
    `filters` (MatchFilters) narrows who is considered, as on the matches page."""
    leave_out = set(leave_out)
    ranked = rank_suppliers(query, limit=limit + len(leave_out), filters=filters)
    matches = [m for m in ranked if m.organisation_id not in leave_out][:limit]
    ids = [m.organisation_id for m in matches]
    orgs = {o.id: o for o in db.session.scalars(select(Organisation).where(
        Organisation.id.in_(ids)))} if ids else {}
    reachable = matching._reachable(ids)
    rows = [Suggestion(m, orgs[m.organisation_id], m.organisation_id in reachable)
            for m in matches if m.organisation_id in orgs]
    rows.sort(key=lambda s: (STRENGTH_ORDER.get(s.strength[0], 3), not s.reachable))
    return Ranked(rows, ranked.left_out)


def within(query):
    """Filters keeping suppliers that serve somewhere the query is delivered, if it says. Work
    delivered across many areas (a national or regional service) is left to the area signal,
    as the matching engine treats it: a partner anywhere in it may do."""
    if not query.area_codes or len(query.area_codes) > MAX_PLACE_BREADTH:
        return None
    return MatchFilters(area_codes=tuple(query.area_codes))


def team_of(role):
    """Organisation ids already in the role's lead's team (the lead included)."""
    from portal.consortia.models import Consortium, ConsortiumMember

    post = role.post
    ids = set(db.session.scalars(select(ConsortiumMember.organisation_id).join(
        ConsortiumMember.consortium).where(
        Consortium.opportunity_id == post.opportunity_id,
        Consortium.lead_organisation_id == post.organisation_id,
        ConsortiumMember.left_at.is_(None))))
    return ids | {post.organisation_id}


def for_role(role, limit=20):
    """Partners suggested for an open role, with the invitations its lead has sent them.
    A partner must work where the role is delivered (its areas, or else the entry's)."""
    from portal.consortia.models import PartnerInvitation

    query = role_query(role)
    rows = suggest(query, team_of(role), limit, within(query))
    sent = {i.organisation_id: i for i in db.session.scalars(select(PartnerInvitation).where(
        PartnerInvitation.role_id == role.id))}
    for row in rows:
        row.invitation = sent.get(row.organisation.id)
    return rows


# Stored for the suppliers' dashboards: this many of the best fits of each role or package.
STORED_FITS = 50


def store_fits(query, leave_out, role_id=None, package_id=None):
    """Replace the stored fits of one role or package with the Good and Strong suppliers the
    engine finds for it now (part of the caller's transaction)."""
    from sqlalchemy import delete

    from portal.consortia.models import PartnerFit

    column = PartnerFit.role_id if role_id is not None else PartnerFit.package_id
    db.session.execute(delete(PartnerFit).where(column == (role_id or package_id)))
    for row in suggest(query, leave_out, STORED_FITS, within(query)):
        key = row.strength[0]
        if key in ("strong", "good"):
            db.session.add(PartnerFit(organisation_id=row.organisation.id, role_id=role_id,
                                      package_id=package_id, score=row.match.score,
                                      strength=key, reasons=list(row.match.reasons)))
