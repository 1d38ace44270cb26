"""Teaming and consortia as services: posts and roles, suggestions, invitations answered,
the team formed, shares, lead, charter and leaving; the rules each refuses to break."""
import threading

import pytest
from sqlalchemy import select

from portal.consortia import services
from portal.consortia.models import PartnerRole
from portal.core.audit import AuditEvent
from portal.core.exceptions import DomainError, NotFound
from portal.core.mail import OutboxMessage
from portal.pipeline import services as pipeline
from tests.functional.consortia_world import build_world


@pytest.fixture
def world(app, ctx):
    with app.test_request_context():
        yield build_world()


def _lead_post(world, roles=1):
    post = services.create_post(world.entry, world.prime_user, "lead",
                                "Bidding to deliver the whole service across Leeds")
    for n in range(roles):
        services.add_role(post, world.prime_user, title=f"Carers' short breaks {n + 1}",
                          delivers="Short breaks and peer support groups for unpaid carers",
                          cpv_codes=["85312000"], area_codes=[], client_group_ids=[],
                          recommended_tier=None, work_share=30, value_share=25)
    return post


def test_a_role_needs_a_name_and_something_it_delivers(world):
    post = _lead_post(world, roles=0)
    with pytest.raises(DomainError) as error:
        services.add_role(post, world.prime_user, title="Partner", delivers="", cpv_codes=[],
                          area_codes=[], client_group_ids=[], recommended_tier=None,
                          work_share=None, value_share=None)
    assert error.value.field == "delivers"


def test_one_open_post_per_organisation_and_entry(world):
    _lead_post(world, roles=0)
    with pytest.raises(DomainError):
        services.create_post(world.entry, world.prime_user, "available", "We can help")


def test_suggestions_for_a_role_rank_carers_groups_and_leave_out_the_lead(world):
    post = _lead_post(world)
    rows = services.suggestions_for_role(post.roles[0])
    names = [row.organisation.name for row in rows]
    assert "Leeds Carers Circle" in names and "Aire Valley Respite" in names
    assert "Northern Care Partnership Ltd" not in names
    assert "York Allotment Society" not in names
    assert all(row.match.reasons for row in rows)


def test_an_accepted_invitation_forms_the_team_and_fills_the_role(world):
    post = _lead_post(world)
    role = post.roles[0]
    invitation = services.invite_partner(world.entry, world.carers, world.prime_user, role=role,
                                         message="Would you deliver the short breaks?")
    assert services.invitations_received(world.carers, waiting_only=True) == [invitation]
    team = services.accept_invitation(invitation, world.carers_user)
    assert [m.organisation.name for m in team.members] == [
        "Northern Care Partnership Ltd", "Leeds Carers Circle"]
    assert not role.is_open and role.filled_by_organisation_id == world.carers.id
    subjects = [m.subject for m in OutboxMessage.query.all()]
    assert any("Invitation to join a bid" in s for s in subjects)
    assert any("accepted your invitation" in s for s in subjects)


def test_the_last_open_role_goes_to_one_organisation(world):
    role = _lead_post(world).roles[0]
    first = services.invite_partner(world.entry, world.carers, world.prime_user, role=role)
    second = services.invite_partner(world.entry, world.respite, world.prime_user, role=role)
    services.accept_invitation(first, world.carers_user)
    with pytest.raises(DomainError, match="already been filled"):
        services.accept_invitation(second, world.respite_user)
    assert services.get_invitation(second.id, world.respite_user).status == "sent"


def test_an_invitation_cannot_be_accepted_by_another_organisation_or_once_withdrawn(world):
    role = _lead_post(world).roles[0]
    invitation = services.invite_partner(world.entry, world.carers, world.prime_user, role=role)
    with pytest.raises(NotFound):
        services.accept_invitation(invitation, world.respite_user)
    services.withdraw_invitation(invitation, world.prime_user)
    with pytest.raises(DomainError, match="withdrawn"):
        services.accept_invitation(invitation, world.carers_user)


def test_an_organisation_nobody_can_answer_for_cannot_be_invited(world):
    from tests.functional.consortia_world import make_supplier

    silent = make_supplier("Quiet Carers Group", "vcse", "Peer support for unpaid carers")
    with pytest.raises(DomainError, match="Nobody at Quiet Carers Group"):
        services.invite_partner(world.entry, silent, world.prime_user)


def test_declining_needs_a_reason_and_tells_the_lead(world):
    invitation = services.invite_partner(world.entry, world.carers, world.prime_user)
    with pytest.raises(DomainError):
        services.decline_invitation(invitation, world.carers_user, " ")
    services.decline_invitation(invitation, world.carers_user, "We are at capacity this year")
    assert invitation.status == "declined"


def test_shares_must_add_up_to_100(world):
    team = services.create_consortium(world.entry, world.prime_user, "Leeds Carers Alliance")
    services.accept_invitation(services.invite_partner(world.entry, world.carers,
                                                       world.prime_user), world.carers_user)
    lead, partner = team.members
    with pytest.raises(DomainError, match="add up to 100%"):
        services.set_shares(team, world.prime_user, {lead.id: (60, 60), partner.id: (30, 40)})
    services.set_shares(team, world.prime_user, {lead.id: (60, 60), partner.id: (40, 40)})
    assert team.shares_state() == "agreed"
    with pytest.raises(DomainError, match="Only the lead"):
        services.set_shares(team, world.carers_user, {lead.id: (50, 50), partner.id: (50, 50)})


def test_a_changed_charter_needs_everyone_to_confirm_again(world):
    team = services.create_consortium(world.entry, world.prime_user, "Leeds Carers Alliance")
    services.accept_invitation(services.invite_partner(world.entry, world.carers,
                                                       world.prime_user), world.carers_user)
    terms = dict(payment_days=30, management_fee=5, risk_sharing="Each member carries the "
                 "risk of its own part", disputes="Mediation by the buyer's contract manager")
    services.write_charter(team, world.prime_user, **terms)
    assert team.charter_state == "waiting"
    services.confirm_charter(team, world.carers_user)
    assert team.charter_state == "agreed"
    services.write_charter(team, world.prime_user, **{**terms, "payment_days": 60})
    assert team.charter_state == "waiting" and team.slow_payment
    with pytest.raises(DomainError) as error:
        services.write_charter(team, world.prime_user, **{**terms, "disputes": ""})
    assert error.value.field == "disputes"


def test_the_lead_hands_over_before_leaving(world):
    team = services.create_consortium(world.entry, world.prime_user, "Leeds Carers Alliance")
    services.accept_invitation(services.invite_partner(world.entry, world.carers,
                                                       world.prime_user), world.carers_user)
    with pytest.raises(DomainError, match="Hand the lead"):
        services.leave_consortium(team, world.prime_user)
    services.hand_over_lead(team, world.prime_user, world.carers.id)
    services.leave_consortium(team, world.prime_user)
    assert [m.organisation_id for m in team.members] == [world.carers.id]
    with pytest.raises(NotFound):
        services.get_consortium(team.id, world.prime_user)


def test_only_members_see_a_consortium(world):
    team = services.create_consortium(world.entry, world.prime_user, "Leeds Carers Alliance")
    assert services.get_consortium(team.id, world.prime_user) is team
    for outsider in (world.carers_user, world.outsider_user, world.buyer_user):
        with pytest.raises(NotFound):
            services.get_consortium(team.id, outsider)


def test_interest_as_a_consortium_links_the_team(world):
    team = services.create_consortium(world.entry, world.prime_user, "Leeds Carers Alliance")
    interest = services.express_interest_as_consortium(team, world.prime_user)
    assert interest.kind == "lead"
    assert services.consortia_for_interests(world.entry) == {interest.id: team}


def test_the_coverage_matrix_shows_the_gap_a_partner_closes(world):
    from portal.consortia.coverage import coverage

    team = services.create_consortium(world.entry, world.prime_user, "Leeds Carers Alliance")
    capacity = next(n for n in coverage(team, suggest=False) if n.kind == "capacity")
    assert capacity.state == "met"
    world.prime.cpv_codes.clear()
    category = next(n for n in coverage(team) if n.kind == "category")
    assert category.state == "gap" and category.suggestions
    services.accept_invitation(services.invite_partner(world.entry, world.carers,
                                                       world.prime_user), world.carers_user)
    category = next(n for n in coverage(team, suggest=False) if n.kind == "category")
    assert category.state == "met" and category.met_by == ["Leeds Carers Circle"]


def test_posts_close_when_the_entry_leaves_the_open_stages(world):
    post = _lead_post(world)
    pipeline.change_status(world.entry, "withdrawn", world.buyer_user, {"reason": "Not needed"})
    assert not post.is_open and services.board_posts(world.entry) == []
    with pytest.raises(DomainError):
        services.invite_partner(world.entry, world.carers, world.prime_user)


def test_every_step_is_audited(world):
    role = _lead_post(world).roles[0]
    services.accept_invitation(services.invite_partner(world.entry, world.carers,
                                                       world.prime_user, role=role),
                               world.carers_user)
    from portal.extensions import db

    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"consortia.post_created", "consortia.role_added", "consortia.partner_invited",
            "consortia.invitation_accepted"} <= actions


@pytest.mark.postgres  # two connections at once: run in the PostgreSQL pass
def test_two_acceptances_at_once_leave_one_organisation_in_the_role(app, world):
    role = _lead_post(world).roles[0]
    with app.test_request_context():
        invitations = [services.invite_partner(world.entry, org, world.prime_user, role=role).id
                       for org in (world.carers, world.respite)]
    users = [world.carers_user.id, world.respite_user.id]
    start, outcomes = threading.Barrier(2), {}

    def accept(invitation_id, user_id):
        from portal.accounts.models import User
        from portal.extensions import db

        with app.test_request_context():
            user = db.session.get(User, user_id)
            invitation = services.get_invitation(invitation_id, user)
            start.wait()
            try:
                services.accept_invitation(invitation, user)
                outcomes[user_id] = "joined"
            except DomainError as error:
                outcomes[user_id] = str(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=accept, args=pair) for pair in zip(invitations, users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    joined = [uid for uid, outcome in outcomes.items() if outcome == "joined"]
    refused = [outcome for outcome in outcomes.values() if "already been filled" in outcome]
    assert len(joined) == 1 and len(refused) == 1, outcomes
    from portal.extensions import db
    db.session.expire_all()
    filled_by = db.session.get(PartnerRole, role.id).filled_by_organisation_id
    assert filled_by == (world.carers.id if joined == [users[0]] else world.respite.id)


def test_a_new_role_is_suggested_to_the_suppliers_that_fit_it_until_filled(app, world):
    role = _lead_post(world).roles[0]
    fits = services.fits_for(world.carers)
    assert [fit.role_id for fit in fits] == [role.id] and fits[0].reasons
    assert services.fits_for(world.outsider) == []
    assert services.fits_for(world.prime) == []  # its own role
    with app.test_request_context():
        services.accept_invitation(services.invite_partner(world.entry, world.respite,
                                                           world.prime_user, role=role),
                                   world.respite_user)
    assert services.fits_for(world.carers) == []


def test_a_package_is_suggested_to_the_suppliers_that_fit_it_until_they_respond(app, world):
    from datetime import date, timedelta

    from portal.consortia import subcontracts

    with app.test_request_context():
        package = subcontracts.create_package(
            world.entry, world.prime_user, title="Peer support groups for unpaid carers",
            description="Weekly short breaks and peer support groups for unpaid carers",
            cpv_codes=["85312000"], area_codes=[], value=40_000, starts_on=None, ends_on=None,
            closes_on=date.today() + timedelta(days=14), recommended_tier=None,
            how_to_respond=None)
        assert [fit.package_id for fit in services.fits_for(world.carers)] == [package.id]
        subcontracts.respond_to_package(package, world.carers_user, "We run four groups")
    assert services.fits_for(world.carers) == []
