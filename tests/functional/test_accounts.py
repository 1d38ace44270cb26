"""Registration, email confirmation, sign in/out, password reset and team management."""
import re

import pytest
from sqlalchemy import select

from portal.accounts.models import Invitation, User
from portal.core.audit import AuditEvent
from portal.core.mail import OutboxMessage
from portal.extensions import db
from portal.organisations.models import Organisation
from tests.conftest import sign_in
from tests.factories import PASSWORD

NEW_PASSWORD = "plum orchard lantern 42"


def _last_link(app, path_part):
    with app.app_context():
        message = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        match = re.search(rf"http://[^\s]*{path_part}[^\s]*", message.body)
        assert match, message.body
        return match.group(0).replace("http://localhost", "")


def _register(client, email="founder@example.org", **overrides):
    client.post("/register", data={"org_type": overrides.get("org_type", "vcse")})
    client.post("/register/organisation", data={
        "name": overrides.get("name", "Riverside Befriending"), "legal_form": overrides.get("legal_form", "cio"),
        "charity_number": "1123456", "company_number": "", "postcode": "e1 6an"})
    client.post("/register/you", data={"name": "Ada Founder", "email": email})
    client.post("/register/check", data={})
    return client.post("/register/password", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})


def test_register_journey_creates_organisation_and_admin(app, client):
    check = None
    client.post("/register", data={"org_type": "vcse"})
    client.post("/register/organisation", data={"name": "Riverside Befriending", "legal_form": "cio",
                                                "charity_number": "1123456", "postcode": "e1 6an"})
    client.post("/register/you", data={"name": "Ada Founder", "email": "Founder@Example.org"})
    check = client.get("/register/check").get_data(as_text=True)
    assert "Riverside Befriending" in check and "E1 6AN" in check and "founder@example.org" in check
    response = client.post("/register/check", data={})
    assert response.headers["Location"].endswith("/register/password")
    response = client.post("/register/password", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.headers["Location"].endswith("/register/done")
    assert "founder@example.org" in client.get("/register/done").get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "founder@example.org"))
        assert user.org_role == "admin" and not user.is_verified
        assert user.organisation.name == "Riverside Befriending"
        assert user.organisation.legal_form == "cio" and user.organisation.charity_number == "1123456"
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert "registration.completed" in actions


def test_registration_steps_cannot_be_skipped(client):
    assert client.get("/register/organisation").headers["Location"].endswith("/register")
    assert client.get("/register/check").headers["Location"].endswith("/register")
    assert client.get("/register/password").headers["Location"].endswith("/register/check")


def test_registration_errors_keep_what_was_typed(client):
    client.post("/register", data={"org_type": "vcse"})
    response = client.post("/register/organisation", data={
        "name": "Typed Name Trust", "legal_form": "cio", "charity_number": "ABC", "postcode": "E1 6AN"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in html and "charity number in the correct format" in html
    assert 'value="Typed Name Trust"' in html and 'value="E1 6AN"' in html


def test_a_cio_needs_its_charity_number(client):
    client.post("/register", data={"org_type": "vcse"})
    response = client.post("/register/organisation", data={
        "name": "Riverside Befriending", "legal_form": "cio", "postcode": "E1 6AN"})
    page = response.get_data(as_text=True)
    assert "Enter the charity number" in page and 'href="#charity_number"' in page
    assert client.get("/register/you").headers["Location"].endswith("/register/organisation")


def test_legal_form_must_fit_type(client):
    client.post("/register", data={"org_type": "commissioner"})
    response = client.post("/register/organisation", data={
        "name": "A Council", "legal_form": "cio", "postcode": "E1 6AN"})
    assert "Not a valid choice" in response.get_data(as_text=True)


@pytest.mark.parametrize("password,message", [
    ("short", "12 characters or more"),
    ("password1234", "too common"),
    ("founder@example.org", "not be your email"),
])
def test_weak_passwords_refused(client, password, message):
    client.post("/register", data={"org_type": "vcse"})
    client.post("/register/organisation", data={"name": "X", "legal_form": "cio",
                                                "charity_number": "1123456", "postcode": "E1 6AN"})
    client.post("/register/you", data={"name": "Ada", "email": "founder@example.org"})
    client.post("/register/check", data={})
    response = client.post("/register/password", data={"password": password, "confirm": password})
    assert message in response.get_data(as_text=True)


def test_verify_then_sign_in(app, client):
    _register(client)
    response = client.post("/sign-in", data={"email": "founder@example.org", "password": NEW_PASSWORD})
    assert "Confirm your email address" in response.get_data(as_text=True)
    link = _last_link(app, "/verify-email/")
    assert client.get(link).status_code == 302
    response = sign_in(client, "founder@example.org", NEW_PASSWORD)
    assert response.headers["Location"] == "/dashboard"  # a new VCSE starts on its checklist


def test_duplicate_registration_reveals_nothing(app, client, make_user):
    make_user(email="taken@example.org")
    response = _register(client, email="taken@example.org")
    assert response.headers["Location"].endswith("/register/done")
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Organisation.id))) == 0
        subject = db.session.scalars(select(OutboxMessage.subject)).all()[-1]
        assert "tried to register" in subject


def test_bad_verification_link(client):
    response = client.get("/verify-email/not-a-token")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_one_message_for_unknown_email_and_wrong_password(client, make_user):
    make_user(email="known@example.org")
    unknown = client.post("/sign-in", data={"email": "nobody@example.org", "password": "whatever-password"})
    wrong = client.post("/sign-in", data={"email": "known@example.org", "password": "wrong-password-1"})
    for response in (unknown, wrong):
        assert "Enter a correct email address and password" in response.get_data(as_text=True)


def test_open_redirect_refused(client, make_user):
    user = make_user()
    response = client.post("/sign-in?next=https://evil.example/", data={"email": user.email, "password": PASSWORD})
    assert "evil" not in response.headers["Location"]
    client.post("/sign-out")
    response = client.post("/sign-in?next=/account", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/account"


def test_sign_out_revokes_copied_session(app, make_user, make_org):
    user = make_user(org=make_org())
    first, second = app.test_client(), app.test_client()
    sign_in(first, user.email)
    cookie = first.get_cookie("pathfinder_session").value
    second.set_cookie("pathfinder_session", cookie)
    assert second.get("/account").status_code == 200
    first.post("/sign-out")
    assert second.get("/account").status_code == 302  # the copied cookie no longer signs in


def test_password_reset_flow_and_single_use(app, client, make_user):
    user = make_user(email="forgetful@example.org")
    response = client.post("/forgot-password", data={"email": "forgetful@example.org"})
    assert "Check your email" in response.get_data(as_text=True)
    link = _last_link(app, "/reset-password/")
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get(link).status_code == 400  # used once, now invalid
    sign_in(client, user.email, NEW_PASSWORD)


def test_reset_for_unknown_email_looks_the_same(app, client):
    response = client.post("/forgot-password", data={"email": "ghost@example.org"})
    assert "Check your email" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(db.func.count(OutboxMessage.id))) == 0


def test_change_password_revokes_other_sessions(app, make_user, make_org):
    user = make_user(org=make_org())
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, user.email)
    sign_in(elsewhere, user.email)
    response = here.post("/account", data={"current_password": PASSWORD, "password": NEW_PASSWORD,
                                           "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert here.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302


def test_change_password_wrong_current(client, login, make_user):
    user = make_user()
    login(user)
    response = client.post("/account", data={"current_password": "nope-nope-nope", "password": NEW_PASSWORD,
                                             "confirm": NEW_PASSWORD})
    assert "current password is not correct" in response.get_data(as_text=True)


def test_invite_colleague_and_accept(app, client, login, make_user, make_org):
    org = make_org(name="Team Org")
    admin = make_user(org=org, role="admin")
    login(admin)
    response = client.post("/team/invite", data={"email": "new.colleague@example.org", "role": "member"})
    assert response.status_code == 302
    link = _last_link(app, "/invitations/")
    client.post("/sign-out")
    page = client.get(link).get_data(as_text=True)
    assert "Join Team Org" in page
    response = client.post(link, data={"name": "New Colleague", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    with app.app_context():
        joined = db.session.scalar(select(User).where(User.email == "new.colleague@example.org"))
        assert joined.organisation_id == org.id and joined.org_role == "member" and joined.is_verified
    assert client.get(link).status_code == 400  # an invitation works once
    sign_in(client, "new.colleague@example.org", NEW_PASSWORD)


def test_members_cannot_invite_or_change_roles(client, login, make_user, make_org):
    org = make_org()
    admin = make_user(org=org, role="admin")
    member = make_user(org=org, role="member")
    login(member)
    assert client.get("/team").status_code == 200
    # A member is told whom to ask rather than that the page does not exist.
    assert client.get("/team/invite").status_code == 403
    assert client.post("/team/invite", data={"email": "x@example.org", "role": "admin"}).status_code == 403
    assert client.post(f"/team/{admin.id}/role", data={"role": "member"}).status_code == 403
    with client.application.app_context():
        assert db.session.get(User, admin.id).org_role == "admin"
        assert db.session.scalar(select(db.func.count(Invitation.id))) == 0


def test_admin_changes_role_and_removes_member(app, client, login, make_user, make_org):
    org = make_org()
    admin = make_user(org=org, role="admin")
    member = make_user(org=org, role="member")
    login(admin)
    assert client.post(f"/team/{member.id}/role", data={"role": "admin"}).status_code == 302
    assert client.post(f"/team/{admin.id}/role", data={"role": "member"}).status_code == 200  # refused, shown
    assert client.post(f"/team/{member.id}/remove", data={}).status_code == 302
    with app.app_context():
        assert db.session.get(User, member.id).organisation_id is None
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"team.role_changed", "team.removed"} <= actions


def test_team_routes_refuse_other_organisation(client, login, make_user, make_org):
    org_a, org_b = make_org(name="A"), make_org(name="B")
    admin_a = make_user(org=org_a, role="admin")
    member_b = make_user(org=org_b, role="member")
    login(admin_a)
    assert client.get(f"/team/{member_b.id}/role").status_code == 404
    assert client.post(f"/team/{member_b.id}/role", data={"role": "admin"}).status_code == 404
    assert client.post(f"/team/{member_b.id}/remove").status_code == 404


def test_revoke_invitation_of_other_org_is_404(app, client, login, make_user, make_org):
    org_a, org_b = make_org(name="A"), make_org(name="B")
    admin_a = make_user(org=org_a, role="admin")
    with app.app_context():
        invitation, _token = Invitation.issue(db.session.get(Organisation, org_b.id), "z@example.org",
                                              "member", None, 3600)
        db.session.add(invitation)
        db.session.commit()
        invitation_id = invitation.id
    login(admin_a)
    assert client.post(f"/team/invitations/{invitation_id}/revoke").status_code == 404


def test_signed_out_user_is_sent_to_sign_in(client):
    for path in ("/account", "/team", "/team/invite"):
        response = client.get(path)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_suspended_user_cannot_sign_in(client, make_user):
    user = make_user()
    user.set_status("suspended")
    db.session.commit()
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert "suspended" in response.get_data(as_text=True)


def test_export_own_data(client, login, make_user, make_org):
    user = make_user(org=make_org(name="Export Org"), email="me@example.org")
    login(user)
    response = client.get("/account/export")
    assert response.headers["Content-Disposition"].startswith("attachment")
    data = response.get_json()
    assert data["account"]["email"] == "me@example.org"
    assert any(item["action"] == "account.signed_in" for item in data["activity"])


def test_delete_account(app, client, login, make_user, make_org):
    user = make_user(org=make_org(), email="leaving@example.org")
    login(user)
    wrong = client.post("/account/delete", data={"password": "not my password"})
    assert "password is not correct" in wrong.get_data(as_text=True)
    assert client.post("/account/delete", data={"password": PASSWORD}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "leaving@example.org")) is None
    assert client.get("/account").status_code == 302


def test_last_admin_must_hand_over_before_deleting(client, login, make_user, make_org):
    org = make_org()
    admin = make_user(org=org, role="admin")
    make_user(org=org, role="member")
    login(admin)
    response = client.post("/account/delete", data={"password": PASSWORD})
    assert "Make another member an admin" in response.get_data(as_text=True)


def test_signed_in_visit_to_sign_in_goes_to_the_landing_page(client, make_org, make_user):
    user = make_user(make_org(org_type="commissioner"))
    sign_in(client, user.email)
    assert client.get("/sign-in").headers["Location"] == "/forward-plan/manage"
    assert client.get("/sign-in?next=/account").headers["Location"] == "/account"
