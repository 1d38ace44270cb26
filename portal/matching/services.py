"""Use cases of the matching domain: who may see an entry's matches, inviting a supplier,
recommendations for a supplier and dismissing them. Ranking itself reads the search index only
and writes nothing; recommendations are read from the table `recommend.py` keeps."""
from dataclasses import astuple, dataclass
from datetime import date

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import exists, select

from portal.accounts.models import User
from portal.core import audit
from portal.core.costly import CostlyCache
from portal.core.exceptions import DomainError, NotFound
from portal.core.mail import send_email
from portal.extensions import db
from portal.matching import following
from portal.matching.models import (
    MatchInvitation, MatchRefresh, OpportunityMatch, RecommendationDismissal, clean_message,
    strength,
)
from portal.matching.query import MatchQuery
from portal.matching.ranking import (
    SUPPLIER_TYPES, WEIGHTS, Match, MatchFilters, Ranked, rank_suppliers,
)
from portal.matching.recommend import RECOMMENDABLE_STATUSES, refresh_all
from portal.organisations.models import Organisation
from portal.organisations.verification import require_verified
from portal.pipeline.models import Interest, Lot, Opportunity
from portal.search.services import index_version, settled

__all__ = ["MatchQuery", "MatchFilters", "Match", "WEIGHTS", "rank_suppliers",
           "suppliers_for_opportunity"]

# The matches page ranks this many suppliers and pages through them.
TOP_MATCHES = 100


def suppliers_for_opportunity(opportunity, limit=20, filters=None):
    """Ranked, explained suppliers for a forward-plan opportunity or one of its lots."""
    return rank_suppliers(MatchQuery.from_opportunity(opportunity), limit=limit, filters=filters)


# --- Who may see what ---------------------------------------------------------------------------

def is_supplier(organisation):
    return organisation is not None and organisation.is_active and \
        organisation.org_type in SUPPLIER_TYPES


def _owns(organisation, opportunity):
    return organisation is not None and organisation.is_active and \
        organisation.org_type == "commissioner" and organisation.id == opportunity.organisation_id


def can_see_matches(opportunity, organisation, is_site_admin=False):
    """The buyer sees its own entry's matches at any stage. Once an entry is published,
    suppliers (VCSEs and prime contractors) see them too, to find partners, and so do site
    admins. Nobody else does."""
    if _owns(organisation, opportunity):
        return True
    return opportunity.is_public and (is_supplier(organisation) or is_site_admin)


def can_invite(opportunity, organisation):
    """The buyer, while the entry takes interest, invites suppliers to express interest.
    A supplier looking for partners invites them to join its bid instead (the teaming
    pages), where the invited organisation can answer."""
    if not opportunity.interest_open or organisation is None or not organisation.is_active:
        return False
    return _owns(organisation, opportunity)


def invites_to_bid(opportunity, organisation):
    """Whether the organisation's invitations for this entry are to join its bid."""
    return opportunity.interest_open and is_supplier(organisation)


def get_matchable_opportunity(opportunity_id, organisation, is_site_admin=False):
    """An entry whose matches the organisation may see; anything else is reported missing."""
    opportunity = db.session.get(Opportunity, opportunity_id)
    if opportunity is None or not can_see_matches(opportunity, organisation, is_site_admin):
        raise NotFound("Forward plan entry not found")
    return opportunity


def get_lot(opportunity, lot_id):
    if lot_id is None:
        return None
    lot = db.session.get(Lot, lot_id)
    if lot is None or lot.opportunity_id != opportunity.id:
        raise NotFound("Lot not found")
    return lot


def acting_organisation(organisation_id):
    """The organisation an API caller acts for, or None when the caller has none."""
    return db.session.get(Organisation, organisation_id) if organisation_id else None


def user_organisation(user):
    if user is None or not getattr(user, "is_authenticated", False) or not user.organisation_id:
        return None
    return user.organisation


# --- Matches for an entry -----------------------------------------------------------------------

@dataclass
class MatchRow:
    """One ranked supplier as a page shows it."""

    match: Match
    organisation: Organisation
    rank: int
    invitation: MatchInvitation | None = None
    interest: Interest | None = None
    # Whether anyone at the organisation can receive an invitation (an active member with a
    # confirmed email address).
    reachable: bool = True

    @property
    def strength(self):
        return strength(self.match.signals)


class ListPagination(Pagination):
    """Pages through a list already in memory (the ranked suppliers)."""

    def _query_items(self):
        start = (self.page - 1) * self.per_page
        return self._query_args["items"][start:start + self.per_page]

    def _query_count(self):
        return len(self._query_args["items"])


def find_matches(opportunity, viewer, filters=None, lot=None, limit=TOP_MATCHES):
    """Suppliers ranked for the entry (or one of its lots), best first, leaving out the viewer's
    own organisation, with any invitation the viewer's organisation sent and any interest; as
    a `Ranked` list, which also says how many suppliers were left out as ineligible, and why."""
    ranked = _kept_ranking(lot or opportunity, limit + 1, filters)
    matches = [m for m in ranked if viewer is None or m.organisation_id != viewer.id][:limit]
    ids = [m.organisation_id for m in matches]
    orgs = {o.id: o for o in db.session.scalars(select(Organisation).where(
        Organisation.id.in_(ids)))} if ids else {}
    invited = {i.organisation_id: i for i in db.session.scalars(select(MatchInvitation).where(
        MatchInvitation.opportunity_id == opportunity.id,
        MatchInvitation.invited_by_organisation_id == getattr(viewer, "id", None)))}
    interests = {i.organisation_id: i for i in opportunity.active_interests()}
    reachable = _reachable(ids)
    return Ranked([MatchRow(m, orgs[m.organisation_id], n, invited.get(m.organisation_id),
                            interests.get(m.organisation_id), m.organisation_id in reachable)
                   for n, m in enumerate(matches, start=1) if m.organisation_id in orgs],
                  ranked.left_out)


# Rankings for the matches page, kept per process (portal.core.costly): ranking a thousand
# candidates takes a few hundred milliseconds, and buyers page and filter through one entry's.
# A profile edit changes the index version; a slow ranking is still shown for a minute after.
_rankings = CostlyCache(size=256, stale_seconds=60)


def _kept_ranking(target, limit, filters):
    """suppliers_for_opportunity, kept while the index, the entry (any change to it or its
    lots bumps its updated_at) and the day are the same."""
    entry = getattr(target, "opportunity", None) or target
    version = (index_version(), entry.updated_at, date.today())
    key = (type(target).__name__, target.id, limit, astuple(filters) if filters else None)
    return _rankings.get(key, version, lambda: suppliers_for_opportunity(
        target, limit=limit, filters=filters), keep=settled(version[0]))


def _reachable(organisation_ids):
    """Those of the organisations with someone who can receive an invitation."""
    if not organisation_ids:
        return set()
    return set(db.session.scalars(select(User.organisation_id).where(
        User.organisation_id.in_(organisation_ids), User.status == "active",
        User.email_verified_at.is_not(None))))


def build_filters(accredited_only=False, tier=None, area=None, org_type=None):
    """MatchFilters from the choices on the page or in the API; unknown values are an error."""
    from portal.reference.models import Area

    if tier is not None and tier not in (1, 2, 3):
        raise DomainError("Choose tier 1, 2 or 3", field="tier")
    if area and db.session.get(Area, area) is None:
        raise DomainError("Choose an area from the list", field="area")
    if org_type and org_type not in SUPPLIER_TYPES:
        raise DomainError("Choose a VCSE or a prime contractor", field="type")
    return MatchFilters(accredited_only=bool(accredited_only), tier_at_least=tier,
                        area_codes=(area,) if area else (),
                        org_types=(org_type,) if org_type else SUPPLIER_TYPES)


def paginate(items, page, per_page):
    return ListPagination(page=page, per_page=per_page, error_out=False, items=items)


# --- Invitations --------------------------------------------------------------------------------

def get_supplier(organisation_id):
    supplier = db.session.get(Organisation, organisation_id)
    if not is_supplier(supplier):
        raise NotFound("Organisation not found")
    return supplier


def existing_invitation(opportunity, supplier, inviter):
    return db.session.scalar(select(MatchInvitation).where(
        MatchInvitation.opportunity_id == opportunity.id,
        MatchInvitation.organisation_id == supplier.id,
        MatchInvitation.invited_by_organisation_id == inviter.id))


def reasons_for(opportunity, supplier, lot=None):
    """Why this supplier fits: the stored reasons when it is among the entry's best, otherwise
    the same signals worked out for it alone."""
    if lot is None:
        stored = db.session.scalar(select(OpportunityMatch).where(
            OpportunityMatch.opportunity_id == opportunity.id,
            OpportunityMatch.organisation_id == supplier.id))
        if stored is not None:
            return list(stored.reasons)
    found = rank_suppliers(lot or opportunity, limit=1, candidate_keys=[supplier.id])
    return list(found[0].reasons) if found else []


def member_emails(organisation_id):
    """The confirmed email addresses of an organisation's active people."""
    return db.session.scalars(select(User.email).where(
        User.organisation_id == organisation_id, User.status == "active",
        User.email_verified_at.is_not(None)).order_by(User.id)).all()


def invite_supplier(opportunity, supplier, user, message=None, lot=None):
    """The buyer asks a supplier to express interest in an entry; its members with a confirmed email
    address are emailed, and the invitation waits on its dashboard. An organisation with
    nobody to email can still be invited: the invitation is recorded for when someone joins.
    Returns (the invitation, how many people were emailed).

    One invitation per entry, supplier and inviting organisation: inviting again is refused.
    """
    inviter = user_organisation(user)
    require_verified(inviter, "invite suppliers")
    if not can_invite(opportunity, inviter):
        raise DomainError("You can invite suppliers only while the entry is taking expressions "
                          "of interest")
    if existing_invitation(opportunity, supplier, inviter) is not None:
        raise DomainError(f"{supplier.name} has already been invited to this entry")
    invitation = MatchInvitation(
        opportunity_id=opportunity.id, lot_id=getattr(lot, "id", None),
        organisation_id=supplier.id, invited_by_organisation_id=inviter.id,
        invited_by_user_id=user.id, message=message,
        reasons=reasons_for(opportunity, supplier, lot))
    db.session.add(invitation)
    db.session.flush()
    audit.record("matching.supplier_invited", invitation, actor_id=user.id,
                 organisation_id=inviter.id, opportunity=opportunity.id, supplier=supplier.id)
    emails = member_emails(supplier.id)
    for email in emails:
        send_email(email, f"Invitation to express interest: {opportunity.title}"[:200],
                   "email/matching_invitation.txt", invitation=invitation,
                   opportunity=opportunity, supplier=supplier, inviter=inviter, lot=lot)
    db.session.commit()
    return invitation, len(emails)


def can_receive_invitations(supplier):
    """Whether anyone at the supplier would be emailed an invitation."""
    return bool(_reachable([supplier.id]))


def check_message(message):
    """Validate an invitation's note without saving anything (for the confirmation step)."""
    return clean_message(message)


def invitations_received(organisation, limit=20):
    """Invitations to the organisation for entries still taking interest, newest first."""
    return db.session.scalars(
        select(MatchInvitation).join(MatchInvitation.opportunity)
        .where(MatchInvitation.organisation_id == organisation.id,
               Opportunity.status.in_(RECOMMENDABLE_STATUSES))
        .order_by(MatchInvitation.created_at.desc(), MatchInvitation.id.desc()).limit(limit)).all()


# --- Recommendations for a supplier -------------------------------------------------------------

@dataclass
class Recommendation:
    row: OpportunityMatch

    @property
    def opportunity(self):
        return self.row.opportunity

    @property
    def reasons(self):
        return self.row.reasons

    @property
    def explanation(self):
        return "; ".join(self.row.reasons)

    @property
    def strength(self):
        return strength(self.row.signals)


def _not_dismissed(organisation_id):
    dismissal = RecommendationDismissal
    return ~exists().where(dismissal.organisation_id == organisation_id,
                           dismissal.opportunity_id == OpportunityMatch.opportunity_id)


def _no_interest(organisation_id):
    return ~exists().where(Interest.organisation_id == organisation_id,
                           Interest.opportunity_id == OpportunityMatch.opportunity_id,
                           Interest.withdrawn_at.is_(None))


def recommendations_statement(organisation_id):
    """Entries that list the organisation among their best suppliers, still taking interest,
    not dismissed and not already answered with an interest; best first."""
    return (select(OpportunityMatch).join(OpportunityMatch.opportunity)
            .where(OpportunityMatch.organisation_id == organisation_id,
                   Opportunity.status.in_(RECOMMENDABLE_STATUSES),
                   _not_dismissed(organisation_id), _no_interest(organisation_id))
            .order_by(OpportunityMatch.score.desc(), OpportunityMatch.opportunity_id))


def recommendations(organisation, page=1, per_page=10):
    """One page of recommendations for a supplier."""
    result = db.paginate(recommendations_statement(organisation.id), page=page,
                         per_page=per_page, error_out=False)
    result.items = [Recommendation(row) for row in result.items]
    return result


def top_recommendations(organisation, limit=5):
    rows = db.session.scalars(recommendations_statement(organisation.id).limit(limit)).all()
    return [Recommendation(row) for row in rows]


def recommendations_updating(organisation):
    """Whether a change to the supplier's profile is still being followed in its stored
    matches (see portal.matching.following)."""
    return following.is_updating(db.session, organisation_id=organisation.id)


def last_computed(organisation):
    """When the recommendations were last brought up to date (the oldest entry's refresh)."""
    return db.session.scalar(select(db.func.min(MatchRefresh.computed_at)).join(
        OpportunityMatch, OpportunityMatch.opportunity_id == MatchRefresh.opportunity_id)
        .where(OpportunityMatch.organisation_id == organisation.id))


def _require_supplier(user):
    organisation = user_organisation(user)
    if not is_supplier(organisation):
        raise NotFound("Page not found")
    return organisation


def supplier_for(user):
    """The signed-in person's organisation when it is a supplier; otherwise a 404."""
    return _require_supplier(user)


def dismiss(user, opportunity_id):
    """Hide a recommended entry from the whole organisation for good (until restored)."""
    organisation = _require_supplier(user)
    opportunity = db.session.get(Opportunity, opportunity_id)
    if opportunity is None or not opportunity.is_public:
        raise NotFound("Forward plan entry not found")
    if db.session.get(RecommendationDismissal, (organisation.id, opportunity.id)) is None:
        db.session.add(RecommendationDismissal(organisation_id=organisation.id,
                                               opportunity_id=opportunity.id,
                                               dismissed_by_id=user.id))
        audit.record("matching.recommendation_dismissed", opportunity, actor_id=user.id,
                     organisation_id=organisation.id, opportunity=opportunity.id)
        db.session.commit()
    return opportunity


def restore(user, opportunity_id):
    """Show a dismissed entry among the recommendations again."""
    organisation = _require_supplier(user)
    dismissal = db.session.get(RecommendationDismissal, (organisation.id, opportunity_id))
    if dismissal is None:
        raise NotFound("Not found")
    db.session.delete(dismissal)
    audit.record("matching.recommendation_restored", None, actor_id=user.id,
                 organisation_id=organisation.id, opportunity=opportunity_id)
    db.session.commit()
    return dismissal


def dismissed(organisation):
    return db.session.scalars(
        select(Opportunity).join(RecommendationDismissal,
                                 RecommendationDismissal.opportunity_id == Opportunity.id)
        .where(RecommendationDismissal.organisation_id == organisation.id)
        .order_by(RecommendationDismissal.dismissed_at.desc())).all()


# --- The supplier's dashboard -------------------------------------------------------------------

def dashboard(user):
    """Everything a supplier's landing page shows, in a few queries."""
    from portal.pipeline.services import my_interests

    organisation = _require_supplier(user)
    return {
        "organisation": organisation,
        "invitations": invitations_received(organisation),
        "recommendations": top_recommendations(organisation),
        "recommendation_count": db.session.scalar(select(db.func.count()).select_from(
            recommendations_statement(organisation.id).order_by(None).subquery())),
        "interests": my_interests(user),
        "interested_in": {i.opportunity_id for i in db.session.scalars(select(Interest).where(
            Interest.organisation_id == organisation.id, Interest.withdrawn_at.is_(None)))},
    }


# --- Keeping stored matches up to date ----------------------------------------------------------

def refresh_matches(stale_only=False, progress=None):
    """Recompute the stored matches behind recommendations and profile alerts: for every entry
    taking interest, or (`stale_only`) for those changed since their last refresh.

    A batch job: it commits every few entries, so an interrupted run keeps its work and
    `stale_only` resumes it. `progress(done, total)` is called after each commit. Suppliers
    whose profile change is still waiting to be followed are scored again after. Returns
    (entries, matches kept, seconds spent ranking, suppliers scored again).
    """
    entries, kept, seconds = refresh_all(db.session, stale_only=stale_only, progress=progress)
    return entries, kept, seconds, following.refresh_suppliers(db.session)
