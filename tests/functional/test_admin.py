"""Site administration: only site admins, suspend and reactivate, outbox and audit pages."""
from sqlalchemy import select

from portal.accounts.models import User
from portal.core.audit import AuditEvent
from portal.extensions import db
from portal.organisations.models import Organisation
from tests.factories import PASSWORD

ADMIN_PAGES = ("/admin/", "/admin/users", "/admin/organisations", "/admin/outbox", "/admin/audit")


def test_admin_pages_are_404_for_everyone_else(client, login, make_user, make_org):
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 404
    login(make_user(org=make_org(), role="admin"))
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 404


def test_site_admin_sees_people_and_organisations(client, login, make_user, make_org):
    org = make_org(name="Visible Trust")
    make_user(org=org, email="someone@example.org")
    login(make_user(site_admin=True, email="root@example.org"))
    assert "someone@example.org" in client.get("/admin/users").get_data(as_text=True)
    assert "someone@example.org" in client.get("/admin/users?q=someone").get_data(as_text=True)
    assert "Visible Trust" in client.get("/admin/organisations?q=visible").get_data(as_text=True)
    assert "Visible Trust" not in client.get("/admin/organisations?status=suspended").get_data(as_text=True)


def test_suspend_user_signs_them_out_and_blocks_sign_in(app, client, login, make_user):
    victim = make_user(email="victim@example.org")
    other = app.test_client()
    other.post("/sign-in", data={"email": victim.email, "password": PASSWORD})
    assert other.get("/account").status_code == 200
    login(make_user(site_admin=True))
    assert client.post(f"/admin/users/{victim.id}/suspended").status_code == 302
    assert other.get("/account").status_code == 302
    response = other.post("/sign-in", data={"email": victim.email, "password": PASSWORD})
    assert "suspended" in response.get_data(as_text=True)
    client.post(f"/admin/users/{victim.id}/active")
    with app.app_context():
        assert db.session.get(User, victim.id).status == "active"


def test_suspend_organisation_hides_members(app, client, login, make_user, make_org):
    org = make_org()
    member = make_user(org=org)
    login(make_user(site_admin=True))
    assert client.post(f"/admin/organisations/{org.id}/suspended").status_code == 302
    with app.app_context():
        assert db.session.get(Organisation, org.id).status == "suspended"
        assert "admin.organisation_suspended" in db.session.scalars(select(AuditEvent.action)).all()
    response = app.test_client().post("/sign-in", data={"email": member.email, "password": PASSWORD})
    assert "suspended" in response.get_data(as_text=True)


def test_admin_cannot_suspend_self(client, login, make_user):
    admin = make_user(site_admin=True)
    login(admin)
    response = client.post(f"/admin/users/{admin.id}/suspended")
    assert response.status_code == 400


def test_outbox_shows_messages(client, login, make_user):
    client.post("/forgot-password", data={"email": (target := make_user()).email})
    login(make_user(site_admin=True))
    html = client.get("/admin/outbox").get_data(as_text=True)
    assert "Reset your password" in html and target.email in html
    assert client.get("/admin/outbox/999999").status_code == 404


def test_audit_page_lists_sign_ins(client, login, make_user):
    login(make_user(site_admin=True))
    assert "account.signed_in" in client.get("/admin/audit?action=account.").get_data(as_text=True)
