"""Two-step sign-in: setting it up with a real authenticator code, the second step of signing in,
recovery codes, the roles that must use it, turning it off and an administrator's reset."""
import json
import re
import time

import pyotp
import pytest
from sqlalchemy import select

from config import TestingConfig
from portal import create_app
from portal.accounts import totp
from portal.accounts.models import RecoveryCode, User
from portal.core.audit import AuditEvent
from portal.core.mail import OutboxMessage
from portal.extensions import db
from tests.conftest import sign_in
from tests.factories import PASSWORD

SETUP = "/account/two-step/set-up"
CODES = "/account/two-step/recovery-codes"


class Clock:
    """The authenticator's clock, moved on by hand so codes are predictable."""

    def __init__(self):
        self.now = 1_800_000_000.0

    def time(self):
        return self.now

    def tick(self, steps=1):
        self.now += 30 * steps


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(totp, "time", fake)
    return fake


@pytest.fixture
def required(app, monkeypatch):
    monkeypatch.setitem(app.config, "MFA_REQUIRED_FOR_ROLES", True)


def _code(secret, clock):
    return pyotp.TOTP(secret).at(clock.now)


def _wrong(secret, clock):
    """A well-formed code that the authenticator does not show in any step now accepted."""
    valid = {pyotp.TOTP(secret).at(clock.now + 30 * step) for step in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def _set_up(client, clock):
    """Set up two-step sign-in through the pages; returns the secret and the recovery codes."""
    page = client.get(SETUP).get_data(as_text=True)
    secret = re.search(r'id="setup-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    assert "otpauth://totp/Pathfinder:" in page and f"secret={secret}" in page
    response = client.post(SETUP, data={"code": _code(secret, clock)})
    assert response.headers["Location"].endswith(CODES), response.get_data(as_text=True)[:3000]
    page = client.get(CODES).get_data(as_text=True)
    codes = re.findall(r'<code class="app-token">([a-z2-9]{5}-[a-z2-9]{5})</code>', page)
    assert len(codes) == 10
    assert client.post(CODES, data={"saved": "y"}).headers["Location"].endswith("/account")
    return secret, codes


def _sign_out(client):
    client.post("/sign-out")


def _signed_in(client):
    return client.get("/account").status_code == 200


def _events(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.id)).all()


def _user(app, user_id):
    with app.app_context():
        return db.session.get(User, user_id)


@pytest.fixture
def person(make_org, make_user):
    return make_user(make_org(), role="member", name="Priya Member")


def _with_mfa(client, login, user, clock):
    login(user)
    secret, codes = _set_up(client, clock)
    _sign_out(client)
    return secret, codes


def test_set_up_with_a_real_code_shows_recovery_codes_once(app, client, login, person, clock):
    login(person)
    assert "Set up two-step sign-in" in client.get("/account").get_data(as_text=True)
    page = client.get(SETUP).get_data(as_text=True)
    secret = re.search(r'id="setup-key">([A-Z2-7 ]+)<', page).group(1)
    assert re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{4}", secret)  # grouped in fours
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page
    wrong = client.post(SETUP, data={"code": "000000"})  # the secret is new: any code is wrong
    assert wrong.status_code == 200 and "The code is not right" in wrong.get_data(as_text=True)
    assert client.get(SETUP).get_data(as_text=True).count(secret) == 1  # the same secret again
    secret, codes = _set_up(client, clock)
    user = _user(app, person.id)
    assert user.mfa_enabled and secret not in user.totp_secret
    with app.app_context():
        hashes = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(hashes) == 10
    assert not any(code.replace("-", "") in digest for code in codes for digest in hashes)
    # Shown once: the page is gone, and nowhere else shows the secret or a code.
    assert client.get(CODES).headers["Location"].endswith("/account/two-step")
    settings = client.get("/account/two-step").get_data(as_text=True)
    assert "10 of 10" in settings and secret not in settings
    assert client.get(SETUP).headers["Location"].endswith("/account/two-step")
    assert len(_events(app, "account.mfa_enabled")) == 1


def test_the_codes_page_needs_the_box_ticked(app, client, login, person, clock):
    login(person)
    page = client.get(SETUP).get_data(as_text=True)
    secret = re.search(r'id="setup-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    client.post(SETUP, data={"code": _code(secret, clock)})
    refused = client.post(CODES, data={})
    assert "Confirm you have saved your recovery codes" in refused.get_data(as_text=True)
    assert refused.get_data(as_text=True).count('<code class="app-token">') == 10


def test_sign_in_needs_the_code_after_the_password(app, client, login, person, clock):
    secret, _codes = _with_mfa(client, login, person, clock)
    clock.tick()
    response = sign_in(client, person.email)
    assert response.headers["Location"].endswith("/sign-in/code")
    assert not _signed_in(client)
    page = client.get("/sign-in/code").get_data(as_text=True)
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page
    response = client.post("/sign-in/code", data={"code": _code(secret, clock)})
    assert response.status_code == 302 and _signed_in(client)
    methods = [e.details.get("method") for e in _events(app, "account.signed_in")]
    assert methods[-1] == "authenticator"


def test_a_wrong_code_is_refused_and_nobody_is_signed_in(app, client, login, person, clock):
    secret, _codes = _with_mfa(client, login, person, clock)
    clock.tick()
    sign_in(client, person.email)
    wrong = _wrong(secret, clock)
    response = client.post("/sign-in/code", data={"code": wrong})
    assert response.status_code == 200
    assert "Enter the 6-digit code shown in your authenticator app now" in response.get_data(
        as_text=True)
    assert not _signed_in(client)
    assert client.post("/sign-in/code", data={"code": "12ab"}).status_code == 200
    assert len(_events(app, "account.mfa_code_refused")) == 1  # a malformed code is not tried
    for _ in range(4):
        response = client.post("/sign-in/code", data={"code": wrong})
    assert response.headers["Location"].endswith("/sign-in")  # five wrong: start again
    assert client.post("/sign-in/code", data={"code": _code(secret, clock)}).headers[
        "Location"].endswith("/sign-in")
    assert not _signed_in(client)


def test_the_second_step_times_out(client, login, person, clock):
    secret, _codes = _with_mfa(client, login, person, clock)
    clock.tick()
    sign_in(client, person.email)
    with client.session_transaction() as session:
        session["mfa_pending"] = {**session["mfa_pending"], "at": time.time() - 301}
    response = client.post("/sign-in/code", data={"code": _code(secret, clock)})
    assert response.headers["Location"].endswith("/sign-in")
    assert not _signed_in(client)


def test_a_code_cannot_be_used_twice(app, client, login, person, clock):
    secret, _codes = _with_mfa(client, login, person, clock)
    # The code that turned it on is spent already.
    sign_in(client, person.email)
    assert client.post("/sign-in/code", data={"code": _code(secret, clock)}).status_code == 200
    clock.tick()
    client.post("/sign-in/code", data={"code": _code(secret, clock)})
    assert _signed_in(client)
    _sign_out(client)
    sign_in(client, person.email)
    replayed = client.post("/sign-in/code", data={"code": _code(secret, clock)})
    assert "already been used" in replayed.get_data(as_text=True) and not _signed_in(client)


def test_a_recovery_code_works_once(app, client, login, person, clock):
    _secret, codes = _with_mfa(client, login, person, clock)
    sign_in(client, person.email)
    response = client.post("/sign-in/recovery-code", data={"code": codes[3].upper()})
    assert response.status_code == 302
    page = client.get("/account")
    assert page.status_code == 200  # signed in
    assert "You used a recovery code. You have 9 left." in page.get_data(as_text=True)
    [used] = _events(app, "account.mfa_recovery_code_used")
    assert used.details == {"remaining": 9}
    _sign_out(client)
    sign_in(client, person.email)
    again = client.post("/sign-in/recovery-code", data={"code": codes[3]})
    assert "have not used before" in again.get_data(as_text=True) and not _signed_in(client)


@pytest.mark.parametrize("kind", ["site admin", "assessor", "board member", "buyer admin"])
def test_a_required_role_must_set_up_before_anything_else(app, client, login, make_org,
                                                          make_user, clock, required, kind):
    user = {
        "site admin": lambda: make_user(site_admin=True),
        "assessor": lambda: make_user(make_org(org_type="accreditation_body"), role="member"),
        "board member": lambda: make_user(make_org(org_type="accreditation_body")),
        "buyer admin": lambda: make_user(make_org(org_type="commissioner")),
    }[kind]()
    response = login(user)
    assert response.headers["Location"].endswith(SETUP)
    for path in ("/admin/", "/forward-plan/manage", "/accreditation/assess", "/team"):
        assert client.get(path).headers["Location"].endswith(SETUP), path
    assert client.get("/account").status_code == 200
    assert "Your role needs two-step sign-in" in client.get(SETUP).get_data(as_text=True)
    _set_up(client, clock)
    for path in ("/admin/", "/forward-plan/manage", "/accreditation/assess", "/team"):
        assert not client.get(path).headers.get("Location", "").endswith(SETUP), path
    assert "cannot be turned off" in client.get("/account/two-step/turn-off").get_data(
        as_text=True)


def test_other_people_are_offered_it_but_not_made_to(client, login, make_org, make_user,
                                                     required):
    buyer_member = make_user(make_org(org_type="commissioner"), role="member")
    assert login(buyer_member).headers["Location"].endswith("/forward-plan/manage")
    assert client.get("/forward-plan/manage").status_code == 200


def test_roles_that_need_it(make_org, make_user):
    body, buyer, vcse = (make_org(org_type=t) for t in ("accreditation_body", "commissioner",
                                                         "vcse"))
    assert make_user(site_admin=True).in_mfa_role
    assert make_user(body, role="member").in_mfa_role and make_user(body).in_mfa_role
    assert make_user(buyer).in_mfa_role and not make_user(buyer, role="member").in_mfa_role
    assert not make_user(vcse).in_mfa_role and not make_user().in_mfa_role


def test_turning_off_needs_password_and_code(app, client, login, person, clock):
    secret, _codes = _with_mfa(client, login, person, clock)
    clock.tick()
    sign_in(client, person.email)
    client.post("/sign-in/code", data={"code": _code(secret, clock)})
    clock.tick()
    page = client.post("/account/two-step/turn-off",
                       data={"password": "not my password", "code": _code(secret, clock)})
    assert "Your password is not correct" in page.get_data(as_text=True)
    page = client.post("/account/two-step/turn-off",
                       data={"password": PASSWORD, "code": _wrong(secret, clock)})
    assert "Enter the 6-digit code" in page.get_data(as_text=True)
    assert _user(app, person.id).mfa_enabled
    response = client.post("/account/two-step/turn-off",
                           data={"password": PASSWORD, "code": _code(secret, clock)})
    assert response.headers["Location"].endswith("/account")
    user = _user(app, person.id)
    assert not user.mfa_enabled and user.totp_secret is None
    with app.app_context():
        assert db.session.scalar(select(db.func.count(RecoveryCode.id))) == 0
    assert len(_events(app, "account.mfa_disabled")) == 1
    _sign_out(client)
    sign_in(client, person.email)
    assert _signed_in(client)  # the password alone again


def test_a_required_role_cannot_turn_it_off(app, client, login, make_org, make_user, clock,
                                            required):
    assessor = make_user(make_org(org_type="accreditation_body"), role="member")
    login(assessor)
    secret, _codes = _set_up(client, clock)
    clock.tick()
    page = client.post("/account/two-step/turn-off",
                       data={"password": PASSWORD, "code": _code(secret, clock)})
    assert "Your role needs two-step sign-in" in page.get_data(as_text=True)
    assert _user(app, assessor.id).mfa_enabled
    assert not _events(app, "account.mfa_disabled")


def test_deleting_the_account_deletes_its_recovery_codes(app, client, login, person, clock):
    person_id = person.id
    login(person)
    _set_up(client, clock)
    client.post("/account/delete", data={"password": PASSWORD})
    with app.app_context():
        assert db.session.get(User, person_id) is None
        assert db.session.scalar(select(db.func.count(RecoveryCode.id))) == 0


def test_new_recovery_codes_replace_the_old(app, client, login, person, clock):
    login(person)
    secret, old = _set_up(client, clock)
    clock.tick()
    response = client.post("/account/two-step/new-recovery-codes",
                           data={"code": _code(secret, clock)})
    assert response.headers["Location"].endswith(CODES)
    new = re.findall(r'<code class="app-token">([a-z2-9]{5}-[a-z2-9]{5})</code>',
                     client.get(CODES).get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    _sign_out(client)
    sign_in(client, person.email)
    assert client.post("/sign-in/recovery-code", data={"code": old[0]}).status_code == 200
    assert client.post("/sign-in/recovery-code", data={"code": new[0]}).status_code == 302


class RateLimited(TestingConfig):
    RATELIMIT_ENABLED = True
    LOGIN_LIMIT_PER_IP = "100 per minute"
    LOGIN_LIMIT_PER_ACCOUNT = "3 per minute"


def test_wrong_codes_are_rate_limited_per_account(client, login, person, clock):
    secret, _codes = _with_mfa(client, login, person, clock)
    limited = create_app(RateLimited).test_client()
    sign_in(limited, person.email)
    wrong = _wrong(secret, clock)
    for _ in range(3):
        assert limited.post("/sign-in/code", data={"code": wrong}).status_code == 200
    response = limited.post("/sign-in/code", data={"code": _code(secret, clock)})
    assert response.status_code == 429 and "Too many attempts" in response.get_data(as_text=True)
    # A new sign-in is the same account: still limited.
    sign_in(limited, person.email)
    assert limited.post("/sign-in/code", data={"code": wrong}).status_code == 429


def _reset_email(app, user):
    with app.app_context():
        return db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == user.email,
            OutboxMessage.subject == "Your two-step sign-in has been reset")).all()


def test_an_organisation_admin_resets_a_lost_device(app, client, login, make_org, make_user,
                                                    clock):
    org = make_org()
    admin = make_user(org, name="Ada Admin")
    member = make_user(org, role="member", name="Priya Member")
    _with_mfa(client, login, member, clock)
    member_client = app.test_client()
    login(admin)
    team = client.get("/team").get_data(as_text=True)
    assert f"/team/{member.id}/two-step-reset" in team
    assert "Priya Member" in client.get(f"/team/{member.id}/two-step-reset").get_data(as_text=True)
    response = client.post(f"/team/{member.id}/two-step-reset")
    assert response.headers["Location"].endswith("/team")
    user = _user(app, member.id)
    assert not user.mfa_enabled and user.mfa_reset_at is not None and user.totp_secret is None
    [event] = _events(app, "account.mfa_reset")
    assert event.actor_id == admin.id and event.object_id == member.id
    assert event.details["reset_by_role"] == "organisation admin"
    [email] = _reset_email(app, member)
    assert "Ada Admin, an administrator of" in email.body
    # Next sign-in: a password, then set it up again (even where roles are not enforced).
    assert sign_in(member_client, member.email).headers["Location"].endswith(SETUP)
    assert member_client.get("/team").headers["Location"].endswith(SETUP)
    _set_up(member_client, clock)
    assert member_client.get("/team").status_code == 200


def test_a_site_admin_resets_anyones(app, client, login, make_org, make_user, clock):
    admin = make_user(site_admin=True, name="Sam Siteadmin")
    person = make_user(make_org(org_type="commissioner"))
    _with_mfa(client, login, person, clock)
    login(admin)
    assert f"/admin/users/{person.id}/two-step-reset" in client.get(
        "/admin/users").get_data(as_text=True)
    response = client.post(f"/admin/users/{person.id}/two-step-reset")
    assert response.status_code == 302
    assert not _user(app, person.id).mfa_enabled
    [event] = _events(app, "account.mfa_reset")
    assert event.actor_id == admin.id and event.details["reset_by_role"] == "site admin"
    assert "a site administrator" in _reset_email(app, person)[0].body


def test_another_organisations_admin_cannot_reset(app, client, login, make_org, make_user,
                                                  person, clock):
    _with_mfa(client, login, person, clock)
    outsider = make_user(make_org())
    login(outsider)
    assert client.get(f"/team/{person.id}/two-step-reset").status_code == 404
    assert client.post(f"/team/{person.id}/two-step-reset").status_code == 404
    assert client.post(f"/admin/users/{person.id}/two-step-reset").status_code == 404
    assert _user(app, person.id).mfa_enabled and not _events(app, "account.mfa_reset")


def test_a_member_who_is_not_an_admin_cannot_reset(app, client, login, make_org, make_user,
                                                   clock):
    org = make_org()
    target = make_user(org, role="member")
    _with_mfa(client, login, target, clock)
    login(make_user(org, role="member"))
    assert client.post(f"/team/{target.id}/two-step-reset").status_code == 403
    assert _user(app, target.id).mfa_enabled


def test_no_secret_or_code_reaches_the_audit_trail(app, client, login, person, clock):
    secret, codes = _with_mfa(client, login, person, clock)
    sign_in(client, person.email)
    wrong = _wrong(secret, clock)
    client.post("/sign-in/code", data={"code": wrong})
    client.post("/sign-in/recovery-code", data={"code": codes[0]})
    with app.app_context():
        trail = json.dumps([e.details for e in db.session.scalars(select(AuditEvent))])
    assert secret not in trail and wrong not in trail
    assert not any(code in trail or code.replace("-", "") in trail for code in codes)


def test_a_sealed_secret_is_refused_when_altered_or_under_another_key(app, monkeypatch):
    with app.app_context():
        sealed = totp.seal("JBSWY3DPEHPK3PXP")
        assert totp.unseal(sealed) == "JBSWY3DPEHPK3PXP" and "JBSWY3DP" not in sealed
        assert totp.seal("JBSWY3DPEHPK3PXP") != sealed  # a new nonce each time
        for at in range(len(sealed)):
            flipped = sealed[:at] + ("A" if sealed[at] != "A" else "B") + sealed[at + 1:]
            with pytest.raises(totp.SealBroken):
                totp.unseal(flipped)
        with pytest.raises(totp.SealBroken):
            totp.unseal("not sealed at all")
        monkeypatch.setitem(app.config, "MFA_KEY", "another key")
        with pytest.raises(totp.SealBroken):
            totp.unseal(sealed)
