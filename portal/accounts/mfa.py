"""Use cases for two-step sign-in: set up, sign in with a code or a recovery code, turn off,
new recovery codes, and an administrator's reset when a device is lost.

No secret or code is ever written to the audit trail or the log.
"""
from dataclasses import dataclass

from flask import current_app, url_for
from sqlalchemy import or_, update

from portal.accounts import totp
from portal.accounts.models import RecoveryCode, User
from portal.accounts.services import team_member
from portal.core.audit import record
from portal.core.exceptions import DomainError, NotFound
from portal.core.mail import send_email
from portal.core.mixins import utcnow
from portal.extensions import db

WRONG_CODE = "Enter the 6-digit code shown in your authenticator app now"
WRONG_RECOVERY_CODE = "Enter one of your recovery codes that you have not used before"


@dataclass(frozen=True)
class Setup:
    """What the set-up page shows, and the sealed secret it carries until confirmed."""

    secret: str
    sealed: str
    uri: str

    @property
    def grouped(self):
        return totp.grouped(self.secret)


def required_for(user):
    """Whether this person must use two-step sign-in: their role requires it (when the portal
    enforces roles, `MFA_REQUIRED_FOR_ROLES`) or an administrator reset their lost device."""
    if user.mfa_reset_at is not None:
        return True
    return bool(current_app.config["MFA_REQUIRED_FOR_ROLES"]) and user.in_mfa_role


def must_set_up(user):
    """True while a person who must use two-step sign-in has not set it up."""
    return not user.mfa_enabled and required_for(user)


def new_setup(user, sealed=None):
    """A new secret to add to an authenticator app, or the one in `sealed` shown again (the
    page is reloaded, say). Nothing is stored until a code confirms it."""
    if user.mfa_enabled:
        raise DomainError("Two-step sign-in is already on")
    secret = None
    if sealed:
        try:
            secret = totp.unseal(sealed)
        except totp.SealBroken:
            secret = None
    secret = secret or totp.new_secret()
    return Setup(secret, totp.seal(secret), totp.provisioning_uri(secret, user.email))


def turn_on(user, sealed, code):
    """Confirm the app works by its current code, turn two-step sign-in on and return ten
    recovery codes, shown once: only their hashes are kept."""
    try:
        secret = totp.unseal(sealed or "")
    except totp.SealBroken:
        raise DomainError("Start again: the set-up has expired", field="code")
    step = totp.matching_step(secret, code)
    if step is None:
        raise DomainError("The code is not right. Check the time on your phone is correct and "
                          "enter the code shown now.", field="code")
    codes = totp.new_recovery_codes()
    user.turn_on_mfa(totp.seal(secret), step, [totp.clean_code(c) for c in codes])
    record("account.mfa_enabled", user, actor_id=user.id)
    db.session.commit()
    return codes


def _pending_user(user_id):
    """The person halfway through signing in; anything that changed since ends the attempt."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or not user.mfa_enabled:
        raise NotFound("Sign in again")
    return user


def _check_code(user, code):
    """Accept the current code once, or raise DomainError. The step used is remembered."""
    try:
        secret = totp.unseal(user.totp_secret)
    except totp.SealBroken:
        # Sealed under another key (MFA_KEY changed): only a reset will help.
        current_app.logger.error("The two-step secret of user %s cannot be unsealed", user.id)
        raise DomainError(WRONG_CODE, field="code")
    step = totp.matching_step(secret, code)
    if step is None:
        raise DomainError(WRONG_CODE, field="code")
    _claim(update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None),
                                                      User.totp_last_step < step))
           .values(totp_last_step=step), "This code has already been used. Wait for the next one.")


def _claim(statement, refusal):
    """Run a conditional update that marks a code used. Of two requests with the same code at
    once, only one changes the row; the other is refused as a reuse."""
    if db.session.execute(statement).rowcount != 1:
        raise DomainError(refusal, field="code")


def _refused(user, kind):
    record("account.mfa_code_refused", user, actor_id=user.id, kind=kind)
    db.session.commit()


def _signed_in(user, method):
    user.last_sign_in_at = utcnow()
    record("account.signed_in", user, actor_id=user.id, method=method)


def sign_in_with_code(user_id, code):
    """The second step of signing in: the code from the app. Returns the user."""
    user = _pending_user(user_id)
    try:
        _check_code(user, code)
    except DomainError:
        _refused(user, "authenticator")
        raise
    _signed_in(user, "authenticator")
    db.session.commit()
    return user


def sign_in_with_recovery_code(user_id, code):
    """The second step with a recovery code instead, which is then used up.

    Returns the user and how many unused codes they have left."""
    user = _pending_user(user_id)
    cleaned = totp.clean_code(code)
    match = next((c for c in user.unused_recovery_codes if c.matches(cleaned)), None)
    if match is None:
        _refused(user, "recovery code")
        raise DomainError(WRONG_RECOVERY_CODE, field="code")
    _claim(update(RecoveryCode).where(RecoveryCode.id == match.id, RecoveryCode.used_at.is_(None))
           .values(used_at=utcnow()), WRONG_RECOVERY_CODE)
    left = len(user.unused_recovery_codes)
    record("account.mfa_recovery_code_used", user, actor_id=user.id, remaining=left)
    _signed_in(user, "recovery code")
    db.session.commit()
    return user, left


def turn_off(user, password, code):
    """Turn two-step sign-in off: the password and a current code prove it is the owner.
    Refused for anyone who must use it."""
    if required_for(user):
        raise DomainError("Your role needs two-step sign-in, so it cannot be turned off",
                          field="password")
    if not user.mfa_enabled:
        raise DomainError("Two-step sign-in is not on", field="password")
    if not user.check_password(password):
        raise DomainError("Your password is not correct", field="password")
    _check_code(user, code)
    user.turn_off_mfa()
    record("account.mfa_disabled", user, actor_id=user.id)
    db.session.commit()


def replace_recovery_codes(user, code):
    """Ten new recovery codes in place of the old ones, for a current code from the app."""
    if not user.mfa_enabled:
        raise DomainError("Two-step sign-in is not on", field="code")
    _check_code(user, code)
    codes = totp.new_recovery_codes()
    user.set_recovery_codes([totp.clean_code(c) for c in codes])
    record("account.mfa_recovery_codes_replaced", user, actor_id=user.id)
    db.session.commit()
    return codes


def _reset(actor, user, by):
    if not user.mfa_enabled and user.mfa_reset_at is None:
        raise DomainError(f"{user.name} has not set up two-step sign-in")
    user.reset_mfa()
    record("account.mfa_reset", user, actor_id=actor.id, reset_by_id=actor.id,
           reset_by_name=actor.name, reset_by_role=by, user_id=user.id)
    send_email(user.email, "Your two-step sign-in has been reset", "email/mfa_reset.txt",
               user=user, actor=actor, by=by,
               sign_in_url=url_for("accounts.sign_in", _external=True))
    db.session.commit()
    return user


def reset_for_member(admin, user_id):
    """An organisation admin resets a member's two-step sign-in after a lost device.

    Someone in another organisation is not found."""
    member = team_member(admin, user_id)
    if member.id == admin.id:
        raise DomainError("You cannot reset your own two-step sign-in. Ask another admin or the "
                          "site administrator.")
    return _reset(admin, member, "organisation admin")


def reset_by_site_admin(admin, user_id):
    """A site admin resets anyone's two-step sign-in after a lost device."""
    user = db.session.get(User, user_id)
    if user is None or not admin.is_site_admin:
        raise NotFound("Not found")
    if user.id == admin.id:
        raise DomainError("You cannot reset your own two-step sign-in. Ask another site "
                          "administrator.")
    return _reset(admin, user, "site admin")


def user_for_reset(admin, user_id):
    """The person a site admin is about to reset."""
    user = db.session.get(User, user_id)
    if user is None or not admin.is_site_admin:
        raise NotFound("Not found")
    return user
