"""Demo matches: rank suppliers for every demo entry taking interest, and one buyer's invitation
so the demo VCSE's dashboard shows what receiving one looks like."""
import time

from sqlalchemy import select

from portal.accounts.models import User
from portal.core.mixins import utcnow
from portal.extensions import db
from portal.matching.models import MatchInvitation, OpportunityMatch
from portal.matching.recommend import RECOMMENDABLE_STATUSES, refresh_all
from portal.matching.services import reasons_for
from portal.organisations.demo import DEMO_EMAIL_DOMAIN
from portal.pipeline.models import Opportunity


def load_demo(progress=None):
    """Compute the stored matches for the demo plan; returns counts for `flask seed demo`."""
    report = progress or (lambda message: None)
    started = time.perf_counter()
    entries, kept, seconds = refresh_all(
        db.session, progress=lambda done, total: report(f"matches: {done}/{total} entries"))
    report(f"matches: {entries} entries ranked in {seconds:.1f} s "
           f"({time.perf_counter() - started:.1f} s in all)")
    return {"entries with matches": entries, "stored matches": kept,
            "demo invitations": _demo_invitation()}


def _demo_user(local_part):
    return db.session.scalar(select(User).where(User.email == f"{local_part}@{DEMO_EMAIL_DOMAIN}"))


def _demo_invitation():
    """An entry's buyer invites the demo VCSE to express interest in the entry that suits it
    best."""
    prime, vcse = _demo_user("prime"), _demo_user("vcse.admin")
    if prime is None or vcse is None or not prime.organisation_id or not vcse.organisation_id:
        return 0
    if db.session.scalar(select(MatchInvitation.id).where(
            MatchInvitation.organisation_id == vcse.organisation_id)) is not None:
        return 0
    opportunity = db.session.scalar(
        select(Opportunity)
        .join(OpportunityMatch, OpportunityMatch.opportunity_id == Opportunity.id)
        .where(OpportunityMatch.organisation_id == vcse.organisation_id,
               Opportunity.status.in_(RECOMMENDABLE_STATUSES))
        .order_by(OpportunityMatch.score.desc()).limit(1))
    if opportunity is None:
        opportunity = _open_entry_near(vcse.organisation)
    if opportunity is None:
        return 0
    # Written directly rather than through invite_supplier: a demo load sends no email.
    # From the entry's buyer: a supplier's invitations are to join its bid (portal.consortia).
    db.session.add(MatchInvitation(
        opportunity_id=opportunity.id, organisation_id=vcse.organisation_id,
        invited_by_organisation_id=opportunity.organisation_id, invited_by_user_id=None,
        message="We would welcome an expression of interest from local organisations like "
                "yours, on your own or as part of a consortium.",
        reasons=reasons_for(opportunity, vcse.organisation), created_at=utcnow()))
    db.session.commit()
    return 1


def _open_entry_near(organisation):
    """An open health or social care entry delivered where the organisation works, else the
    first open entry: a buyer would invite a supplier to work it could do where it is."""
    from portal.pipeline.models import opportunity_area
    from portal.reference.places import gazetteer

    codes = gazetteer().expand([a.code for a in organisation.areas])
    near = select(opportunity_area.c.opportunity_id).where(
        opportunity_area.c.area_code.in_(codes))
    open_entries = select(Opportunity).where(Opportunity.status == "open").order_by(
        Opportunity.id).limit(1)
    return db.session.scalar(open_entries.where(
        Opportunity.id.in_(near), Opportunity.main_cpv_code.like("85%"))) or \
        db.session.scalar(open_entries)
