"""Account rules: passwords, roles, statuses, invitations and tokens."""
from datetime import timedelta

import pytest

from portal.accounts import services
from portal.accounts.models import Invitation, User
from portal.accounts.passwords import password_problem
from portal.core.exceptions import DomainError, NotFound
from portal.core.mixins import utcnow


@pytest.mark.parametrize("password,ok", [
    ("correct horse battery staple", True),
    ("short", False),
    ("password1234", False),          # on the common list
    ("aaaaaaaaaaaaaaa", False),       # too few distinct characters
    ("x" * 129, False),
])
def test_password_rules(password, ok):
    assert (password_problem(password) is None) is ok


def test_password_may_not_be_the_email():
    assert password_problem("someone@example.org", "Someone@Example.org")


def test_set_password_moves_session_version_on():
    user = User(email="a@example.org", name="A", session_version=3)
    user.set_password("correct horse battery staple")
    assert user.session_version == 4
    assert user.check_password("correct horse battery staple")
    assert not user.check_password("wrong")
    assert user.get_id().endswith(":4")


def test_role_and_status_are_guarded():
    user = User(email="a@example.org", name="A", session_version=1)
    with pytest.raises(DomainError):
        user.set_role("owner")
    with pytest.raises(DomainError):
        user.set_status("deleted")
    user.set_status("suspended")
    assert not user.is_active and user.session_version == 2


def test_invitation_token_is_hashed_and_expires():
    invitation, token = Invitation.issue(None, "b@example.org", "member", None, 60)
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64
    assert invitation.is_open
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    assert not invitation.is_open
    with pytest.raises(DomainError):
        invitation.accept()


def test_invitation_refuses_unknown_role():
    with pytest.raises(DomainError):
        Invitation.issue(None, "b@example.org", "owner", None, 60)


def test_authenticate_requires_verified_email(app, ctx, make_user):
    make_user(email="new@example.org", verified=False)
    with app.test_request_context(), pytest.raises(DomainError, match="Confirm your email"):
        services.authenticate("new@example.org", "correct horse battery staple")


def test_authenticate_ignores_email_case(ctx, make_user):
    user = make_user(email="mixed@example.org")
    assert services.authenticate("MIXED@Example.org", "correct horse battery staple").id == user.id


def test_authenticate_same_message_for_unknown_and_wrong(ctx, make_user):
    make_user(email="known@example.org")
    messages = set()
    for email, password in (("unknown@example.org", "x" * 12), ("known@example.org", "y" * 12)):
        with pytest.raises(DomainError) as error:
            services.authenticate(email, password)
        messages.add(error.value.message)
    assert messages == {services.SIGN_IN_FAILED}


def test_team_member_lookup_is_scoped_to_own_organisation(ctx, make_user, make_org):
    admin = make_user(org=make_org(), role="admin")
    stranger = make_user(org=make_org())
    with pytest.raises(NotFound):
        services.team_member(admin, stranger.id)


def test_create_site_admin_checks_password(ctx):
    with pytest.raises(DomainError):
        services.create_site_admin("root@example.org", "Root", "password")
    user = services.create_site_admin("root@example.org", "Root", "a long unusual passphrase")
    assert user.is_site_admin and user.is_verified
