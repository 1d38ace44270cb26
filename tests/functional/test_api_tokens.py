"""Organisation API tokens: issued once, hashed, revocable, scoped to the organisation."""
from sqlalchemy import func, select

from portal.api.models import ApiToken
from portal.core.audit import AuditEvent
from portal.extensions import db


def _issue(client, name="CRM"):
    html = client.post("/team/api-tokens", data={"name": name}).get_data(as_text=True)
    start = html.index("pf_")
    return html[start:html.index("<", start)]


def test_admin_issues_token_used_as_bearer(app, client, login, make_user, make_org):
    org = make_org(name="Token Org")
    login(make_user(org=org, role="admin"))
    token = _issue(client)
    with app.app_context():
        row = db.session.scalar(select(ApiToken))
        assert row.token_hash != token and token.endswith(row.hint)
        assert "api.token_issued" in db.session.scalars(select(AuditEvent.action)).all()
    anonymous = app.test_client()
    response = anonymous.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json()["organisation"]["name"] == "Token Org"
    assert response.get_json()["via"] == "token"
    assert "pf_" not in client.get("/team/api-tokens").get_data(as_text=True)  # shown once only


def test_unknown_or_missing_token_is_401(app):
    anonymous = app.test_client()
    assert anonymous.get("/api/v1/me").status_code == 401
    bad = anonymous.get("/api/v1/me", headers={"Authorization": "Bearer pf_nonsense"})
    assert bad.status_code == 401 and bad.get_json()["status"] == 401


def test_revoked_token_stops_working(app, client, login, make_user, make_org):
    login(make_user(org=make_org(), role="admin"))
    token = _issue(client)
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    assert client.post(f"/team/api-tokens/{token_id}/revoke").status_code == 302
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_session_counts_as_caller(client, login, make_user, make_org):
    login(make_user(org=make_org(name="Session Org")))
    body = client.get("/api/v1/me").get_json()
    assert body["via"] == "session" and body["organisation"]["name"] == "Session Org"


def test_members_and_other_organisations_cannot_manage_tokens(app, client, login, make_user, make_org):
    org_a, org_b = make_org(name="A"), make_org(name="B")
    admin_b = make_user(org=org_b, role="admin")
    other = app.test_client()
    other.post("/sign-in", data={"email": admin_b.email, "password": "correct horse battery staple"})
    _issue(other)
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    make_user(org=org_a, role="admin", name="Ada Admin")
    login(make_user(org=org_a, role="member"))
    for response in (client.get("/team/api-tokens"),
                     client.post("/team/api-tokens", data={"name": "Sneaky"})):
        assert response.status_code == 403 and "Ada Admin" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(ApiToken.id))) == 1  # only B's
    client.post("/sign-out")
    login(make_user(org=org_b, role="member"))
    assert client.post(f"/team/api-tokens/{token_id}/revoke").status_code == 403
    client.post("/sign-out")
    login(make_user(org=org_a, role="admin"))
    assert client.post(f"/team/api-tokens/{token_id}/revoke").status_code == 404
    with app.app_context():
        assert db.session.get(ApiToken, token_id).is_active


def test_token_use_is_written_only_when_the_recorded_use_is_old(app, client, login, make_user,
                                                               make_org):
    from datetime import timedelta

    from portal.api.services import LAST_USE_PRECISION
    from portal.core.mixins import utcnow

    login(make_user(org=make_org(), role="admin"))
    token = _issue(client)
    caller = app.test_client()

    def call_and_read():
        response = caller.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        with app.app_context():
            return db.session.scalar(select(ApiToken.last_used_at))

    def record_use(when):
        with app.app_context():
            db.session.scalar(select(ApiToken)).last_used_at = when
            db.session.commit()

    first = call_and_read()
    assert first is not None
    recent = utcnow() - LAST_USE_PRECISION / 2
    record_use(recent)
    assert call_and_read() == recent  # within the precision: nothing written
    old = utcnow() - LAST_USE_PRECISION - timedelta(seconds=1)
    record_use(old)
    assert call_and_read() > old
