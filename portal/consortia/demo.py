"""Demo teaming and consortia, so a new user of the demo sees the fourth pillar at once: the
demo prime leads a team with the demo VCSE and a second VCSE (shares set, charter confirmed by
all, interest expressed as a consortium); the demo VCSE leads a team of its own that still has
gaps and an open role; an invitation waits on the VCSE's dashboard; the prime offers a
sub-contract package that two VCSEs have answered; and on an awarded contract the demo VCSE is
the prime's sub-contractor, has reported payments and raised a concern the buyer answered.

Rows are written directly rather than through the services: a demo load sends no email."""
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.consortia import suggestions
from portal.consortia.models import (
    Concern, Consortium, ConsortiumMessage, PackageResponse, PartnerInvitation, PartnerRole,
    PaymentReport, Subcontract, SubcontractPackage, TeamingPost,
)
from portal.extensions import db
from portal.matching.models import OpportunityMatch
from portal.core.mixins import utcnow
from portal.organisations.demo import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD
from portal.organisations.models import Organisation
from portal.organisations.services import area_labels
from portal.pipeline.models import Interest, Opportunity

TAKING_INTEREST = ("planned", "market_engagement", "open")


def load_demo(progress=None):
    """Add the demo teams; returns counts for `flask seed demo`."""
    prime, vcse = _demo_user("prime"), _demo_user("vcse.admin")
    if prime is None or vcse is None or not prime.organisation_id or not vcse.organisation_id \
            or db.session.scalar(select(Consortium.id).limit(1)) is not None:
        return {}
    entries = _vcse_work_entries(20)
    if len(entries) < 3:
        return {}
    _complete_team(entries[0], prime, vcse)
    _team_with_gaps(entries[1], vcse)
    _waiting_invitation(_near(entries[2:], vcse.organisation), prime, vcse)
    _package_with_responses(entries[0], prime, vcse)
    awarded = _awarded_subcontract(prime, vcse)
    db.session.flush()
    _store_fits()
    db.session.commit()
    return {"teaming posts": 3, "consortia": 2, "partner invitations": 3,
            "sub-contract packages": 1, "sub-contracts with payment reports": awarded}


def _demo_user(local_part):
    return db.session.scalar(select(User).where(User.email == f"{local_part}@{DEMO_EMAIL_DOMAIN}"))


def _vcse_work_entries(count):
    """Health and social work entries taking interest that many VCSEs were matched to: the
    work a demo consortium of a prime and VCSEs would plausibly bid for."""
    vcse_matches = select(OpportunityMatch.opportunity_id, func.count().label("n")).join(
        Organisation, Organisation.id == OpportunityMatch.organisation_id).where(
        Organisation.org_type == "vcse").group_by(OpportunityMatch.opportunity_id).subquery()
    return db.session.scalars(
        select(Opportunity).join(vcse_matches, vcse_matches.c.opportunity_id == Opportunity.id)
        .where(Opportunity.status.in_(TAKING_INTEREST), Opportunity.main_cpv_code.like("85%"))
        .order_by(vcse_matches.c.n.desc(), Opportunity.id).limit(count)).all()


def _near(entries, organisation):
    """The first entry delivered somewhere the organisation works, else the first entry."""
    from portal.reference.places import gazetteer

    gaz = gazetteer()
    served = gaz.expand([a.code for a in organisation.areas])
    return next((e for e in entries if served & gaz.expand([a.code for a in e.areas])),
                entries[0])


def _local_vcses(entry, leave_out, count, offset=0):
    """The best-matched VCSEs for the entry that work in one of its areas, other than those
    left out: the partners a lead would really approach."""
    served = _served_by_entry_areas(entry)
    return db.session.scalars(
        select(Organisation).join(OpportunityMatch,
                                  OpportunityMatch.organisation_id == Organisation.id)
        .where(OpportunityMatch.opportunity_id == entry.id, Organisation.org_type == "vcse",
               Organisation.id.not_in(leave_out), Organisation.id.in_(served))
        .order_by(OpportunityMatch.score.desc()).offset(offset).limit(count)).all()


def _served_by_entry_areas(entry):
    from portal.organisations.models import organisation_area
    from portal.reference.places import gazetteer

    gaz = gazetteer()
    codes = set()
    for area in entry.areas:
        codes |= gaz.expand([area.code]) | {area.code} | set(gaz.parents(area.code))
    return select(organisation_area.c.organisation_id).where(
        organisation_area.c.area_code.in_(codes))


def _partner_account(organisation):
    """A demo account for a partner, so that it can answer, as a real partner would."""
    email = f"partner@{DEMO_EMAIL_DOMAIN}"
    if db.session.scalar(select(User.id).where(User.email == email)) is None:
        user = User(email=email, name="Demo user (Partner VCSE)", organisation=organisation,
                    org_role="admin", email_verified_at=utcnow())
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)


def _role_for(post, organisation, work, value, title=None, delivers=None):
    cpv = organisation.cpv_codes[0] if organisation.cpv_codes else None
    places = ", ".join(area_labels(post.opportunity.areas)[:3]) or "the area"
    what = title or (cpv.description if cpv else "Community support")
    return PartnerRole(post=post, title=what[:200],
                       delivers=delivers or f"{what} for the people this service supports, "
                                            f"delivered in {places} by a local organisation "
                                            "that already works with them.",
                       cpv_codes=[cpv.code] if cpv else [],
                       area_codes=[],  # delivered wherever the entry is
                       client_group_ids=[t.id for t in organisation.client_groups][:3],
                       recommended_tier=None, work_share=work, value_share=value)


def _complete_team(entry, prime, vcse):
    post = TeamingPost(opportunity=entry, organisation_id=prime.organisation_id, kind="lead",
                       created_by_id=prime.id,
                       summary="We will bid as lead and want local VCSE partners to deliver "
                               "the community parts of this service.")
    db.session.add(post)
    vcse_org = db.session.get(Organisation, vcse.organisation_id)
    second = next(iter(_local_vcses(entry, [prime.organisation_id, vcse.organisation_id], 1)),
                  None)
    first_role = _role_for(post, vcse_org, 30, 25, "Counselling and emotional support",
                           "One-to-one counselling and emotional support for adults and "
                           "children affected by abuse, including those who are bereaved.")
    team = Consortium(opportunity=entry, post=post, lead_organisation_id=prime.organisation_id,
                      name=f"{entry.title[:120]} partnership")
    team.add_member(prime.organisation_id, "lead", "Contract management and reporting")
    _join(team, first_role, vcse_org, vcse, prime)
    shares = [(Decimal(50), Decimal(55)), (Decimal(30), Decimal(25))]
    if second is not None:
        _partner_account(second)
        _join(team, _role_for(post, second, 20, 20, "Local outreach and advocacy"), second,
              None, prime)
        shares.append((Decimal(20), Decimal(20)))
    else:
        shares = [(Decimal(70), Decimal(75)), (Decimal(30), Decimal(25))]
    db.session.add(team)
    db.session.flush()
    team.set_shares({m.id: share for m, share in zip(team.members, shares)})
    team.write_charter(payment_days=30, management_fee=Decimal(8),
                       risk_sharing="Each member carries the risk of its own part of the "
                                    "service; service credits are passed on only where a "
                                    "member caused the failure.",
                       disputes="Raised first with the lead's contract manager, then at the "
                                "monthly partnership board; unresolved disputes go to "
                                "mediation before any other step.")
    for member in team.members:
        member.confirm_charter(None)
    team.interest = _interest(entry, prime)
    db.session.add(ConsortiumMessage(consortium=team, organisation_id=prime.organisation_id,
                                     user_id=prime.id, body="Welcome to the partnership. "
                                     "The draft method statement is due at the end of the "
                                     "month; please send your sections by then."))


def _interest(entry, prime):
    interest = db.session.scalar(select(Interest).where(
        Interest.opportunity_id == entry.id,
        Interest.organisation_id == prime.organisation_id)) or Interest(
        opportunity=entry, organisation_id=prime.organisation_id)
    interest.kind, interest.user_id, interest.withdrawn_at = "lead", prime.id, None
    interest.note = "Bidding as lead of a partnership with local VCSEs."
    return interest


def _join(team, role, organisation, user, inviter):
    role.filled_by_organisation_id = organisation.id
    db.session.add(PartnerInvitation(
        opportunity_id=team.opportunity.id, role=role, organisation_id=organisation.id,
        invited_by_organisation_id=inviter.organisation_id, invited_by_user_id=inviter.id,
        message="Would you deliver this part of the service with us?", status="accepted",
        answered_by_user_id=getattr(user, "id", None)))
    team.add_member(organisation.id, "partner", role.title)


def _team_with_gaps(entry, vcse):
    post = TeamingPost(opportunity=entry, organisation_id=vcse.organisation_id, kind="lead",
                       created_by_id=vcse.id,
                       summary="We plan to lead a bid and need a partner with experience of "
                               "larger contracts and of the areas we do not yet cover.")
    places = ", ".join(area_labels(entry.areas)[:3]) or "the area"
    PartnerRole(post=post, title=f"Victim support and advocacy in {places}"[:200],
                delivers="Independent advocacy, safety planning and outreach for victims of "
                         f"domestic abuse in {places}, where we do not yet work.",
                cpv_codes=[entry.main_cpv_code] if entry.main_cpv_code else [],
                area_codes=[], client_group_ids=[],
                recommended_tier=None, work_share=60, value_share=60)
    db.session.add(post)
    team = Consortium(opportunity=entry, post=post, lead_organisation_id=vcse.organisation_id,
                      name=f"{entry.title[:120]} community bid")
    team.add_member(vcse.organisation_id, "lead")
    db.session.add(team)


def _waiting_invitation(entry, prime, vcse):
    post = TeamingPost(opportunity=entry, organisation_id=prime.organisation_id, kind="lead",
                       created_by_id=prime.id,
                       summary="Looking for a VCSE partner with local reach for this entry.")
    role = _role_for(post, db.session.get(Organisation, vcse.organisation_id), 25, 20,
                     "Counselling and emotional support for survivors",
                     "One-to-one counselling and emotional support for survivors of sexual "
                     "violence and abuse, and for children and families bereaved or affected "
                     "by it.")
    db.session.add(post)
    db.session.add(PartnerInvitation(
        opportunity_id=entry.id, role=role, organisation_id=vcse.organisation_id,
        invited_by_organisation_id=prime.organisation_id, invited_by_user_id=prime.id,
        message="Your work looks a close fit for this role. Could we talk this week?"))


def _package_with_responses(entry, prime, vcse):
    package = SubcontractPackage(
        opportunity_id=entry.id, organisation_id=prime.organisation_id, created_by_id=prime.id,
        title="Peer support groups for survivors", description="Weekly peer support groups "
        "run by and for survivors, in two community venues, with a crèche.",
        cpv_codes=[entry.main_cpv_code] if entry.main_cpv_code else [],
        area_codes=[], value=60_000,
        starts_on=date.today() + timedelta(days=120), ends_on=date.today() + timedelta(days=850),
        closes_on=date.today() + timedelta(days=21), recommended_tier=None,
        how_to_respond="Tell us about the groups you run now and who leads them.")
    db.session.add(package)
    notes = ("We run two survivor-led groups in the borough now and could add a third "
             "within a month.", "Our volunteers, themselves survivors, already meet weekly; "
             "this would let us offer a crèche and a second venue.")
    team_ids = [m.organisation_id for m in db.session.scalars(select(Consortium).where(
        Consortium.opportunity_id == entry.id)).first().members]
    responders = _local_vcses(entry, [prime.organisation_id, vcse.organisation_id, *team_ids],
                              2)
    for organisation, status, note in zip(responders, ("shortlisted", "submitted"), notes):
        package.responses.append(PackageResponse(organisation_id=organisation.id,
                                                 status=status, note=note))


def _awarded_entry_of_demo_buyer():
    """An awarded contract of the demo commissioner's, so that signing in as the commissioner
    shows the supply chain's payments and the concern; the first awarded health, social care
    or consultancy contract when it has none."""
    buyer = _demo_user("commissioner")
    query = select(Opportunity).where(Opportunity.status == "awarded")
    preferred = query.order_by(Opportunity.main_cpv_code.like("85%").desc(),
                               Opportunity.main_cpv_code.like("79%").desc(), Opportunity.id)
    if buyer is not None and buyer.organisation_id:
        found = db.session.scalar(preferred.where(
            Opportunity.organisation_id == buyer.organisation_id).limit(1))
        if found is not None:
            return found
    return db.session.scalar(preferred.limit(1))


def _awarded_subcontract(prime, vcse):
    """The demo VCSE as the prime's sub-contractor on an awarded contract of the demo buyer,
    with its payment reports and a concern the buyer has answered."""
    from portal.organisations.models import PastWork

    entry = _awarded_entry_of_demo_buyer()
    if entry is None:
        return 0
    contract = Subcontract(opportunity_id=entry.id, prime_organisation_id=prime.organisation_id,
                           organisation_id=vcse.organisation_id,
                           title="Engaging residents and community groups",
                           value=45_000, starts_on=date.today() - timedelta(days=200),
                           ends_on=date.today() + timedelta(days=530))
    db.session.add(contract)
    db.session.flush()
    db.session.add(PastWork(organisation_id=vcse.organisation_id,
                            source=f"subcontract:{contract.id}", title=contract.title,
                            description=f"Sub-contract for '{entry.title}'",
                            funder_name=db.session.get(Organisation, prime.organisation_id).name,
                            amount=contract.value, awarded_on=contract.starts_on,
                            kind="contract"))
    for invoiced, paid in ((170, 150), (140, 100), (110, 45)):
        db.session.add(PaymentReport(
            opportunity_id=entry.id, prime_organisation_id=prime.organisation_id,
            organisation_id=vcse.organisation_id, user_id=vcse.id,
            invoiced_on=date.today() - timedelta(days=invoiced),
            paid_on=date.today() - timedelta(days=paid)))
    concern = Concern(opportunity_id=entry.id, prime_organisation_id=prime.organisation_id,
                      organisation_id=vcse.organisation_id, user_id=vcse.id,
                      withhold_name=True, body="Our last invoice took 65 days to be paid, "
                      "against the 30 days in our sub-contract, and we had to use our "
                      "reserves to pay staff.")
    concern.answer(None, "We raised payment times with the prime at the quarterly contract "
                         "review.", "The prime has agreed to pay its supply chain within 30 "
                                    "days and to report payment times to us each quarter.")
    db.session.add(concern)
    return 1


def _store_fits():
    """The suppliers each open role and package fits, as posting them through the services
    would have stored."""
    for role in db.session.scalars(select(PartnerRole).where(
            PartnerRole.filled_by_organisation_id.is_(None))):
        suggestions.store_fits(suggestions.role_query(role), suggestions.team_of(role),
                               role_id=role.id)
    for package in db.session.scalars(select(SubcontractPackage).where(
            SubcontractPackage.status == "open")):
        suggestions.store_fits(suggestions.package_query(package), {package.organisation_id},
                               package_id=package.id)
