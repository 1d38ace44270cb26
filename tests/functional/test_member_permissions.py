"""A member of an organisation sees its profile but may not do what only its administrators
may: change the profile, apply for accreditation or renew it, manage API tokens. Each such page
answers 403 naming the administrators to ask, for a GET and a POST alike, and a member's POST
stores nothing."""
from html import unescape

import pytest
from sqlalchemy import func, select

from portal.accreditation import services as accreditation
from portal.accreditation.models import Application
from portal.api.models import ApiToken
from portal.core.audit import AuditEvent
from portal.core.exceptions import AdminOnly
from portal.extensions import db
from portal.organisations import services as organisations
from tests import factories
from tests.functional.test_accreditation_support import (  # noqa: F401  (fixtures)
    as_user, assessed, complete_application, evidence_dir, world,
)
from tests.functional.test_organisations import (  # noqa: F401  (other_org: a fixture)
    assert_b_unchanged, edit_routes, other_org,
)


def page_text(response):
    return unescape(response.get_data(as_text=True))


def assert_ask_admins(response, *names, absent=()):
    """A 403 that says only administrators may do this and names each of them."""
    text = page_text(response)
    assert response.status_code == 403, text[:500]
    assert "Ask your organisation's administrator" in text
    assert "Only your organisation's administrators can" in text
    for name in names:
        assert name in text, name
    for name in absent:
        assert name not in text, name


def _events():
    return db.session.scalar(select(func.count(AuditEvent.id)))


# --- The profile --------------------------------------------------------------------------------

@pytest.fixture
def member_of_b(other_org, make_user, login):
    """Signed in as a member of Organisation B, which has two admins and another member."""
    org_b, _credential_id = other_org
    make_user(org_b, role="admin", name="Ada Admin", email="ada@b.example")
    make_user(org_b, role="admin", name="Ben Boss", email="ben@b.example")
    make_user(org_b, role="member", name="Other Member", email="other@b.example")
    user = make_user(org_b, role="member", name="Mo Member")
    login(user)
    return user


def test_a_member_is_refused_every_profile_page_and_told_whom_to_ask(client, db, other_org,
                                                                     member_of_b):
    org_b, credential_id = other_org
    gets, _posts = edit_routes(org_b.id, credential_id)
    for url in gets:
        assert_ask_admins(client.get(url), "Ada Admin", "Ben Boss",
                          absent=("Other Member", "ada@b.example"))


def test_a_member_s_posts_to_the_profile_change_nothing(client, db, other_org, member_of_b):
    org_b, credential_id = other_org
    _gets, posts = edit_routes(org_b.id, credential_id)
    before = _events()
    for url, data in posts:
        assert_ask_admins(client.post(url, data=data), "Ada Admin", "Ben Boss")
    assert_b_unchanged(db, org_b)
    assert _events() == before


def test_a_member_can_still_view_the_profile(client, other_org, member_of_b):
    org_b, _ = other_org
    response = client.get(f"/organisations/{org_b.id}")
    text = page_text(response)
    assert response.status_code == 200 and "Organisation B" in text
    assert f"/organisations/{org_b.id}/edit" not in text
    assert "Only your organisation's administrators can change your organisation's profile" in text
    assert "Ask: Ada Admin, Ben Boss." in text


def test_the_admin_page_says_profile_changes_are_for_administrators(client, other_org,
                                                                     member_of_b):
    org_b, _ = other_org
    text = page_text(client.get(f"/organisations/{org_b.id}/edit"))
    assert "change the organisation's profile" in text
    assert "apply for accreditation" in text


def test_an_organisation_without_an_admin_sends_the_member_to_the_site_admin(client, make_org,
                                                                              make_user, login):
    org = make_org("Leaderless Trust")
    login(make_user(org, role="member"))
    response = client.get(f"/organisations/{org.id}/edit")
    assert response.status_code == 403
    assert "no active administrator" in page_text(response)
    profile = page_text(client.get(f"/organisations/{org.id}"))
    assert "contact the site administrator" in profile


def test_a_suspended_admin_is_not_offered_to_ask(client, make_org, make_user, login):
    org = make_org()
    make_user(org, role="admin", name="Gone Admin").set_status("suspended")
    make_user(org, role="admin", name="Here Admin")
    db.session.commit()
    login(make_user(org, role="member"))
    assert_ask_admins(client.get(f"/organisations/{org.id}/credentials"), "Here Admin",
                      absent=("Gone Admin",))


def test_a_member_of_another_organisation_still_gets_404_and_no_names(client, other_org,
                                                                       make_org, make_user,
                                                                       login):
    org_b, credential_id = other_org
    make_user(org_b, role="admin", name="Ada Admin")
    login(make_user(make_org("Elsewhere"), role="member"))
    gets, posts = edit_routes(org_b.id, credential_id)
    for url in gets:
        response = client.get(url)
        assert response.status_code == 404 and "Ada Admin" not in page_text(response), url
    for url, data in posts:
        assert client.post(url, data=data).status_code == 404, url


def test_an_admin_may_still_change_the_profile(client, db, other_org, make_user, login):
    org_b, _ = other_org
    login(make_user(org_b, role="admin"))
    response = client.post(f"/organisations/{org_b.id}/credentials",
                           data={"kind": "equality", "title": "Second policy"})
    assert response.status_code == 302
    assert len(organisations.get_public_organisation(org_b.id).credentials) == 2


def test_the_service_refuses_a_member_whatever_the_page(db, other_org, make_user):
    org_b, _ = other_org
    member = make_user(org_b, role="member")
    with pytest.raises(AdminOnly):
        organisations.get_editable_organisation(org_b.id, member)


def test_the_dashboard_checklist_has_no_edit_links_for_a_member(client, make_org, make_user,
                                                                login):
    org = make_org(org_type="vcse")
    make_user(org, role="admin", name="Ada Admin")
    login(make_user(org, role="member"))
    text = page_text(client.get("/dashboard"))
    assert "Finish your profile" in text and "0 of 4 done" in text
    assert f'href="/organisations/{org.id}/categories"' not in text
    assert f'href="/organisations/{org.id}/areas"' not in text
    assert "Only your organisation's administrators can complete these steps" in text
    assert "Ask: Ada Admin." in text


def test_the_dashboard_checklist_links_for_an_admin(client, make_org, make_user, login):
    org = make_org(org_type="vcse")
    login(make_user(org, role="admin"))
    text = page_text(client.get("/dashboard"))
    assert f'href="/organisations/{org.id}/categories"' in text
    assert "Only your organisation's administrators" not in text


# --- Accreditation ------------------------------------------------------------------------------

def test_a_member_cannot_apply_for_accreditation(world, as_user):
    member = factories.make_user(world.org, role="member", email="mo@riverside.test")
    client = as_user(member)
    scheme = world.scheme("sliding-scale")
    level = scheme.current.levels[0]
    assert_ask_admins(client.get("/accreditation/apply"), world.applicant.name)
    assert_ask_admins(client.post("/accreditation/apply", data={"scheme": scheme.slug}),
                      world.applicant.name)
    assert_ask_admins(client.get(f"/accreditation/apply/{scheme.slug}"), world.applicant.name)
    assert_ask_admins(client.post(f"/accreditation/apply/{scheme.slug}",
                                  data={"level": str(level.id)}), world.applicant.name)
    assert db.session.scalar(select(func.count(Application.id))) == 0


def test_a_member_sees_whom_to_ask_instead_of_the_apply_button(world, as_user):
    member = factories.make_user(world.org, role="member", email="mo@riverside.test")
    text = page_text(as_user(member).get("/accreditation"))
    assert 'href="/accreditation/apply"' not in text
    assert "Only your organisation's administrators can apply for accreditation" in text
    assert world.applicant.name in text
    admin_text = page_text(as_user(world.applicant).get("/accreditation"))
    assert 'href="/accreditation/apply"' in admin_text


def test_the_service_refuses_a_member_s_application(world):
    member = factories.make_user(world.org, role="member", email="mo@riverside.test")
    scheme = world.scheme("sliding-scale")
    with pytest.raises(AdminOnly):
        accreditation.start_application(world.org, scheme, scheme.current.levels[0].id, member)


def test_a_member_cannot_renew_an_accreditation(world, as_user):
    application = complete_application(world)
    accreditation.submit_application(application, world.applicant)
    assessed(world, application, [world.assessor])
    record = accreditation.decide(application, "accredit", None, "Meets them.", None, world.board)
    member = factories.make_user(world.org, role="member", email="mo@riverside.test")
    client = as_user(member)
    assert "Renew" not in page_text(client.get("/accreditation")).split("Applications")[0]
    assert_ask_admins(client.post(f"/accreditation/records/{record.id}/renew"),
                      world.applicant.name)
    assert db.session.scalar(select(func.count(Application.id))) == 1


# --- API tokens ---------------------------------------------------------------------------------

def test_a_member_cannot_see_or_create_api_tokens(client, make_org, make_user, login):
    org = make_org()
    make_user(org, role="admin", name="Ada Admin")
    login(make_user(org, role="member", name="Mo Member"))
    assert_ask_admins(client.get("/team/api-tokens"), "Ada Admin", absent=("Mo Member",))
    assert_ask_admins(client.post("/team/api-tokens", data={"name": "Mine"}), "Ada Admin")
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0
