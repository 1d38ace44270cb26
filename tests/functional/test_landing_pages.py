"""Each role lands on the page for its job after signing in; an assessor's menus hold no
supplier pages; a member is told whom to ask for what only an administrator may do."""
import re

import pytest

from tests.conftest import sign_in
from tests.factories import PASSWORD
from tests.functional.consortia_world import make_supplier

SUPPLIER_LINKS = ("Your interests", "Edit client groups", "Edit service categories",
                  "Edit areas served", "Your teams", 'href="/dashboard"', 'href="/consortia/teams"')


@pytest.fixture
def land(client):
    def _land(user, next_url=None):
        response = sign_in(client, user.email) if next_url is None else \
            client.post(f"/sign-in?next={next_url}", data={"email": user.email,
                                                           "password": PASSWORD})
        return response.headers["Location"]
    return _land


@pytest.mark.parametrize("org_type, path", [
    ("vcse", "/dashboard"),
    ("commissioner", "/forward-plan/manage"),
    ("accreditation_body", "/accreditation/assess"),
    ("prime", "/consortia/teams"),
])
def test_each_kind_of_organisation_lands_on_its_work(land, make_org, make_user, org_type, path):
    user = make_user(make_org(org_type=org_type))
    assert land(user) == path


def test_a_site_admin_without_an_organisation_lands_on_admin(land, make_user):
    assert land(make_user(site_admin=True)) == "/admin/"


def test_a_safe_next_still_wins_and_an_unsafe_one_is_ignored(client, land, make_org, make_user):
    user = make_user(make_org(org_type="commissioner"))
    assert land(user, "/organisations") == "/organisations"
    client.post("/sign-out")
    assert land(user, "//evil.example/") == "/forward-plan/manage"


def test_each_landing_page_opens(client, land, make_org, make_user):
    for org_type in ("vcse", "commissioner", "accreditation_body", "prime"):
        path = land(make_user(make_org(org_type=org_type)))
        assert client.get(path).status_code == 200, org_type
        client.post("/sign-out")


def test_an_assessor_sees_no_supplier_links(client, land, make_org, make_user):
    body = make_org("Assessing Body", org_type="accreditation_body")
    user = make_user(body)
    land(user)
    for path in ("/accreditation/assess", f"/organisations/{body.id}"):
        html = client.get(path).get_data(as_text=True)
        for text in SUPPLIER_LINKS:
            assert text not in html, (path, text)
        assert 'href="/accreditation/assess"' in html
    assert "Edit main details" in html


def test_a_vcse_keeps_its_supplier_links(client, land, make_org, make_user):
    org = make_org(org_type="vcse")
    land(make_user(org))
    html = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    for text in ("Your interests", "Your teams", 'href="/dashboard"', "Edit client groups"):
        assert text in html


def _status(html, label):
    item = re.search(rf"{label}.*?govuk-task-list__status[^>]*>(.*?)</div>", html, re.S)
    assert item, label
    return " ".join(item.group(1).split())


def test_the_dashboard_checklist_ticks_what_is_done(client, land, make_user):
    org = make_supplier("Leeds Carers Circle", "vcse", "Short breaks for unpaid carers")
    land(make_user(org))
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Finish your profile" in html and "2 of 4 done" in html
    assert "Done" in _status(html, "Choose your service categories")
    assert "Done" in _status(html, "Say which areas you serve")
    assert "Not done yet" in _status(html, "Add your policies and certificates")
    assert "Not done yet" in _status(html, "Get accredited")
    assert f'href="/organisations/{org.id}/credentials"' in html
    assert 'href="/accreditation"' in html


def test_a_new_profile_has_nothing_ticked(client, land, make_org, make_user):
    org = make_org(org_type="vcse")
    land(make_user(org))
    html = client.get("/dashboard").get_data(as_text=True)
    assert "0 of 4 done" in html
    assert f'href="/organisations/{org.id}/categories"' in html


def test_a_member_is_told_whom_to_ask(client, land, make_org, make_user):
    org = make_org(org_type="vcse")
    make_user(org, name="Ada Admin", email="ada@example.org")
    make_user(org, name="Ben Boss", email="ben@example.org")
    make_user(org, role="member", name="Other Member", email="other@example.org")
    land(make_user(org, role="member", name="Mo Member"))
    response = client.get("/team/invite")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Ask your organisation&#39;s administrator" in html or \
        "Ask your organisation's administrator" in html
    assert "Ada Admin" in html and "Ben Boss" in html
    assert "ada@example.org" not in html and "Other Member" not in html
    # It lists what only administrators can do, changing the profile among them.
    assert "invite colleagues" in html and "change the organisation's profile" in html
    assert "apply for accreditation" in html


def test_a_member_is_told_whom_to_ask_about_colleagues(client, land, make_org, make_user):
    org = make_org(org_type="vcse")
    admin = make_user(org, name="Ada Admin")
    land(make_user(org, role="member"))
    response = client.get(f"/team/{admin.id}/role")
    assert response.status_code == 403 and "Ada Admin" in response.get_data(as_text=True)


def test_someone_else_s_colleague_is_still_not_found(client, land, make_org, make_user):
    stranger = make_user(make_org(org_type="vcse"))
    land(make_user(make_org(org_type="vcse"), role="member"))
    assert client.get(f"/team/{stranger.id}/role").status_code == 404


def test_admin_only_answers_json_to_api_clients(client, land, make_org, make_user):
    org = make_org(org_type="vcse")
    make_user(org)
    land(make_user(org, role="member"))
    response = client.get("/team/invite", headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert "administrators" in response.get_json()["message"]
