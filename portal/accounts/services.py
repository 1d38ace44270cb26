"""Use cases for accounts: register, verify, sign in, reset passwords, invite colleagues, suspend."""
import hashlib

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from portal.accounts.models import Invitation, User, hash_token
from portal.core.audit import record
from portal.core.exceptions import DomainError, NotFound
from portal.core.mail import send_email
from portal.core.mixins import utcnow
from portal.extensions import db
from portal.organisations.models import (
    Organisation, normalise_charity_number, normalise_company_number, normalise_postcode,
)
# The check lives with the organisations, whose profile pages need it too and may not import
# accounts; everything above them asks for it here.
from portal.organisations.services import admin_names, require_org_admin  # noqa: F401

SIGN_IN_FAILED = "Enter a correct email address and password"


def _serializer(salt):
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def find_user_by_email(email):
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def validate_organisation_details(org_type, details):
    """Normalise registration details; raises DomainError naming the field at fault."""
    cleaned = dict(details)
    cleaned["charity_number"] = normalise_charity_number(details.get("charity_number"))
    cleaned["company_number"] = normalise_company_number(details.get("company_number"))
    cleaned["postcode"] = normalise_postcode(details.get("postcode"))
    draft = Organisation(charity_number=cleaned["charity_number"])
    draft.set_type(org_type, details.get("legal_form"))
    draft.check_charity_number()
    return cleaned


def register(draft, password):
    """Create the organisation and its first admin from a completed registration draft.

    If the email is already registered nothing is created and the owner is told by email, so the
    page gives nobody a way to find out who has an account.
    """
    email = draft["email"].strip().lower()
    existing = find_user_by_email(email)
    if existing:
        send_email(existing.email, "Someone tried to register with your email address",
                   "email/already_registered.txt", user=existing,
                   sign_in_url=url_for("accounts.sign_in", _external=True),
                   reset_url=url_for("accounts.forgot_password", _external=True))
        record("registration.duplicate_email", existing, actor_id=existing.id)
        db.session.commit()
        return None
    details = validate_organisation_details(draft["org_type"], draft)
    org = Organisation(name=details["name"].strip(), charity_number=details["charity_number"],
                       company_number=details["company_number"], postcode=details["postcode"])
    org.set_type(draft["org_type"], draft["legal_form"])
    user = User(email=email, name=draft["user_name"].strip(), organisation=org, org_role="admin")
    user.set_password(password)
    db.session.add_all([org, user])
    db.session.flush()
    record("registration.completed", org, actor_id=user.id, org_type=org.org_type)
    send_verification_email(user)
    db.session.commit()
    return user


def send_verification_email(user):
    token = _serializer("verify-email").dumps({"uid": user.id, "email": user.email})
    send_email(user.email, "Confirm your email address", "email/verify.txt", user=user,
               url=url_for("accounts.verify_email", token=token, _external=True))


def resend_verification(email):
    user = find_user_by_email(email)
    if user and not user.is_verified:
        send_verification_email(user)
        db.session.commit()


def verify_email(token):
    """Mark the address in `token` as confirmed. Returns the user."""
    max_age = current_app.config["EMAIL_TOKEN_MAX_AGE"]
    try:
        data = _serializer("verify-email").loads(token, max_age=max_age)
    except SignatureExpired:
        raise DomainError("This link has expired. Sign in to get a new one.")
    except BadSignature:
        raise DomainError("This link is not valid. Check you copied the whole link.")
    user = db.session.get(User, data.get("uid"))
    if user is None or user.email != data.get("email"):
        raise DomainError("This link is not valid. Check you copied the whole link.")
    if not user.is_verified:
        user.email_verified_at = utcnow()
        record("account.email_verified", user, actor_id=user.id)
        db.session.commit()
    return user


def authenticate(email, password):
    """Return the user for a correct email and password, or raise DomainError.

    Unknown email and wrong password give the same message.
    """
    user = find_user_by_email(email)
    if user is None or not user.check_password(password):
        if user is not None:
            record("account.sign_in_failed", user, actor_id=user.id)
            db.session.commit()
        raise DomainError(SIGN_IN_FAILED, field="email")
    if user.status != "active" or (user.organisation and user.organisation.status != "active"):
        raise DomainError("Your account has been suspended. Contact the site administrator.")
    if not user.is_verified:
        send_verification_email(user)
        db.session.commit()
        raise DomainError("Confirm your email address before you sign in. "
                          "We have sent you a new link.", field="email")
    return user


def record_sign_in(user):
    user.last_sign_in_at = utcnow()
    record("account.signed_in", user, actor_id=user.id)
    db.session.commit()


def sign_out(user):
    """Revoke every session of this user (their session version moves on)."""
    user.session_version += 1
    record("account.signed_out", user, actor_id=user.id)
    db.session.commit()


def _reset_fingerprint(user):
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def request_password_reset(email):
    """Email a reset link if the account exists; say nothing either way."""
    user = find_user_by_email(email)
    if user is None:
        return
    token = _serializer("reset-password").dumps({"uid": user.id, "fp": _reset_fingerprint(user)})
    send_email(user.email, "Reset your password", "email/reset.txt", user=user,
               url=url_for("accounts.reset_password", token=token, _external=True))
    record("account.reset_requested", user, actor_id=user.id)
    db.session.commit()


def user_for_reset_token(token):
    max_age = current_app.config["RESET_TOKEN_MAX_AGE"]
    try:
        data = _serializer("reset-password").loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        raise DomainError("This link has expired or is not valid. Ask for a new one.")
    user = db.session.get(User, data.get("uid"))
    if user is None or data.get("fp") != _reset_fingerprint(user):
        raise DomainError("This link has expired or has already been used. Ask for a new one.")
    return user


def reset_password(token, password):
    user = user_for_reset_token(token)
    user.set_password(password)
    if not user.is_verified:
        user.email_verified_at = utcnow()  # they proved they read mail at this address
    record("account.password_reset", user, actor_id=user.id)
    db.session.commit()
    return user


def change_password(user, current_password, new_password):
    if not user.check_password(current_password):
        raise DomainError("Your current password is not correct", field="current_password")
    user.set_password(new_password)
    record("account.password_changed", user, actor_id=user.id)
    db.session.commit()
    return user


def invite_colleague(inviter, email, role):
    """Invite someone to the inviter's organisation (organisation admins only)."""
    require_org_admin(inviter, "invite colleagues")
    email = email.strip().lower()
    member = find_user_by_email(email)
    if member and member.organisation_id == inviter.organisation_id:
        raise DomainError("This person is already a member of your organisation", field="email")
    invitation, token = Invitation.issue(inviter.organisation, email, role, inviter,
                                         current_app.config["INVITE_TOKEN_MAX_AGE"])
    db.session.add(invitation)
    db.session.flush()
    send_email(email, f"Join {inviter.organisation.name} on Pathfinder", "email/invite.txt",
               invitation=invitation,
               url=url_for("accounts.accept_invitation", token=token, _external=True))
    record("team.invited", invitation, role=role)
    db.session.commit()
    return invitation


def pending_invitations(org):
    """Invitations to `org` that can still be accepted, newest first."""
    invitations = db.session.scalars(select(Invitation).where(Invitation.organisation_id == org.id)
                                     .order_by(Invitation.created_at.desc())).all()
    return [invitation for invitation in invitations if invitation.is_open]


def open_invitation(token):
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))
    if invitation is None or not invitation.is_open:
        raise DomainError("This invitation has expired or has already been used. "
                          "Ask your colleague to send a new one.")
    return invitation


def accept_invitation(token, name=None, password=None, user=None):
    """Join the inviting organisation, creating an account when the person has none."""
    invitation = open_invitation(token)
    if user is None:
        if find_user_by_email(invitation.email):
            raise DomainError("You already have an account. Sign in, then open the link again.")
        user = User(email=invitation.email, name=name.strip(), email_verified_at=utcnow())
        user.set_password(password)
        db.session.add(user)
    elif user.email.lower() != invitation.email:
        raise DomainError("This invitation was sent to a different email address.")
    elif user.organisation_id:
        raise DomainError("You already belong to an organisation.")
    user.organisation = invitation.organisation
    user.set_role(invitation.role)
    invitation.accept()
    db.session.flush()
    record("team.joined", invitation, actor_id=user.id, role=invitation.role)
    db.session.commit()
    return user


def team_member(admin, user_id):
    """A member of the admin's own organisation; anyone else is not found."""
    member = db.session.get(User, user_id)
    if member is None or member.organisation_id is None or \
            member.organisation_id != admin.organisation_id:
        raise NotFound("Not found")
    require_org_admin(admin, "change people's roles or remove them")
    return member


def change_role(admin, user_id, role):
    member = team_member(admin, user_id)
    if member.id == admin.id and role != "admin":
        raise DomainError("You cannot remove your own admin role. Ask another admin.", field="role")
    old = member.org_role
    member.set_role(role)
    record("team.role_changed", member, organisation_id=admin.organisation_id, old=old, new=role)
    db.session.commit()
    return member


def remove_member(admin, user_id):
    member = team_member(admin, user_id)
    if member.id == admin.id:
        raise DomainError("You cannot remove yourself from your organisation.")
    member.organisation = None
    member.org_role = "member"
    member.session_version += 1
    record("team.removed", member, organisation_id=admin.organisation_id)
    db.session.commit()


def revoke_invitation(admin, invitation_id):
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.organisation_id != admin.organisation_id:
        raise NotFound("Not found")
    require_org_admin(admin, "withdraw invitations")
    invitation.revoked_at = utcnow()
    record("team.invitation_revoked", invitation)
    db.session.commit()


def set_user_status(admin, user_id, status):
    """Suspend or reactivate a person (site admins only)."""
    user = db.session.get(User, user_id)
    if user is None or not admin.is_site_admin:
        raise NotFound("Not found")
    if user.id == admin.id:
        raise DomainError("You cannot suspend your own account.")
    user.set_status(status)
    record(f"admin.user_{status}", user, organisation_id=user.organisation_id)
    db.session.commit()
    return user


def set_organisation_status(admin, org_id, status):
    """Suspend or reactivate an organisation (site admins only)."""
    org = db.session.get(Organisation, org_id)
    if org is None or not admin.is_site_admin:
        raise NotFound("Not found")
    org.set_status(status)
    for member in org.members:
        member.session_version += 1
    record(f"admin.organisation_{status}", org)
    db.session.commit()
    return org


def create_site_admin(email, name, password, verified=True):
    from portal.accounts.passwords import password_problem

    problem = password_problem(password, email)
    if problem:
        raise DomainError(problem)
    if find_user_by_email(email):
        raise DomainError("An account with this email address already exists")
    user = User(email=email.strip().lower(), name=name, is_site_admin=True,
                email_verified_at=utcnow() if verified else None)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record("admin.site_admin_created", user, actor_id=user.id)
    db.session.commit()
    return user


def export_personal_data(user):
    """Everything we hold about this person, as a dict ready for JSON."""
    from portal.core.audit import AuditEvent

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id == user.id)
                                .order_by(AuditEvent.id)).all()
    return {
        "account": {
            "name": user.name, "email": user.email, "created_at": user.created_at.isoformat(),
            "email_verified_at": user.email_verified_at.isoformat() if user.email_verified_at else None,
            "last_sign_in_at": user.last_sign_in_at.isoformat() if user.last_sign_in_at else None,
            "organisation": user.organisation.name if user.organisation else None,
            "organisation_role": user.org_role if user.organisation else None,
            # That it is on, never the secret or the recovery codes.
            "two_step_sign_in_since": user.mfa_enabled_at.isoformat() if user.mfa_enabled else None,
        },
        "activity": [{"when": e.occurred_at.isoformat(), "action": e.action,
                      "object": e.object_type, "object_id": e.object_id} for e in events],
    }


def delete_account(user, password):
    """Delete the person's account. The last admin of a team with other members must hand over first."""
    if not user.check_password(password):
        raise DomainError("Your password is not correct", field="password")
    if user.is_org_admin:
        others = [m for m in user.organisation.members if m.id != user.id]
        if others and not any(m.org_role == "admin" for m in others):
            raise DomainError("Make another member an admin before you delete your account",
                              field="password")
    record("account.deleted", None, actor_id=None, organisation_id=user.organisation_id,
           user_id=user.id)
    db.session.delete(user)
    db.session.commit()
