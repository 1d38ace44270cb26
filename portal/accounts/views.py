"""Registration journey, sign in and out, email confirmation, passwords and team management."""
import hashlib
from urllib.parse import urlsplit

from flask import (abort, current_app, flash, jsonify, redirect, render_template, request, session,
                   url_for)
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import bp
from portal.accounts import forms, mfa_views, services
from portal.core.exceptions import DomainError
from portal.core.forms import ConfirmForm
from portal.extensions import limiter
from portal.organisations.models import LEGAL_FORMS, ORG_TYPES, TYPES_NEEDING_VERIFICATION

DRAFT_KEY = "registration"
REGISTER_STEPS = ("register_start", "register_organisation", "register_you", "register_check")


def _ip_limit():
    return current_app.config["LOGIN_LIMIT_PER_IP"]


def _account_limit():
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


def _account_key():
    # A digest, not the address: the limiter logs and stores its keys.
    email = (request.form.get("email") or "").strip().lower()
    return "account:" + hashlib.sha256(email.encode()).hexdigest()


def _draft():
    return session.get(DRAFT_KEY, {})


def _save_draft(**values):
    draft = dict(_draft())
    draft.update(values)
    session[DRAFT_KEY] = draft


def _missing_step(draft):
    if "org_type" not in draft:
        return "register_start"
    if "name" not in draft or draft.get("legal_form") not in LEGAL_FORMS[draft["org_type"]]:
        return "register_organisation"
    if "email" not in draft:
        return "register_you"
    return None


def _next_or(default_endpoint):
    """Go back to check-your-answers when the user came from there."""
    if request.args.get("change"):
        return redirect(url_for("accounts.register_check"))
    return redirect(url_for(f"accounts.{default_endpoint}"))


def _form_error(form, error):
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        form.form_errors.append(error.message)
    form._errors = None  # WTForms caches form.errors; refresh it so the summary shows this one


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def register_start():
    form = forms.OrganisationTypeForm(data=_draft())
    if form.validate_on_submit():
        if _draft().get("org_type") != form.org_type.data:
            _save_draft(org_type=form.org_type.data, legal_form=None)
        return _next_or("register_organisation")
    return render_template("accounts/register_type.html", form=form,
                           title="What type of organisation are you registering?")


@bp.route("/register/organisation", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def register_organisation():
    draft = _draft()
    if "org_type" not in draft:
        return redirect(url_for("accounts.register_start"))
    form = forms.OrganisationDetailsForm(data=draft).for_type(draft["org_type"])
    if form.validate_on_submit():
        try:
            cleaned = services.validate_organisation_details(draft["org_type"], form.data)
        except DomainError as error:
            _form_error(form, error)
        else:
            _save_draft(**{k: cleaned[k] for k in ("name", "legal_form", "charity_number",
                                                    "company_number", "postcode")})
            return _next_or("register_you")
    return render_template("accounts/register_organisation.html", form=form,
                           title="Tell us about your organisation", draft=draft)


@bp.route("/register/you", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def register_you():
    draft = _draft()
    if _missing_step(draft) in ("register_start", "register_organisation"):
        return redirect(url_for(f"accounts.{_missing_step(draft)}"))
    form = forms.YourDetailsForm(data={"name": draft.get("user_name"), "email": draft.get("email")})
    if form.validate_on_submit():
        _save_draft(user_name=form.name.data.strip(), email=form.email.data.strip().lower())
        return _next_or("register_check")
    return render_template("accounts/register_you.html", form=form, title="Your details")


@bp.route("/register/check", methods=["GET", "POST"])
def register_check():
    draft = _draft()
    missing = _missing_step(draft)
    if missing:
        return redirect(url_for(f"accounts.{missing}"))
    form = ConfirmForm()
    if form.validate_on_submit():
        _save_draft(checked=True)
        return redirect(url_for("accounts.register_password"))
    return render_template("accounts/register_check.html", form=form, draft=draft,
                           org_types=ORG_TYPES, legal_forms=LEGAL_FORMS,
                           title="Check your answers before creating your account")


@bp.route("/register/password", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def register_password():
    draft = _draft()
    if _missing_step(draft) or not draft.get("checked"):
        return redirect(url_for("accounts.register_check"))
    form = forms.NewPasswordForm(data={"email": draft["email"]})
    form.email.data = draft["email"]
    if form.validate_on_submit():
        try:
            services.register(draft, form.password.data)
        except DomainError as error:
            _form_error(form, error)
        else:
            session.pop(DRAFT_KEY, None)
            session["registered_email"] = draft["email"]
            session["registered_org_type"] = draft["org_type"]
            return redirect(url_for("accounts.register_done"))
    return render_template("accounts/register_password.html", form=form, title="Create a password")


@bp.get("/register/done")
def register_done():
    email = session.get("registered_email")
    if not email:
        return redirect(url_for("accounts.register_start"))
    org_type = session.get("registered_org_type")
    return render_template("accounts/register_done.html", email=email, org_type=org_type,
                           needs_verification=org_type in TYPES_NEEDING_VERIFICATION,
                           title="Registration complete")


@bp.get("/verify-email/<token>")
def verify_email(token):
    try:
        user = services.verify_email(token)
    except DomainError as error:
        return render_template("accounts/link_problem.html", message=error.message,
                               title="There is a problem with this link"), 400
    flash(f"Your email address {user.email} is confirmed. You can now sign in.", "success")
    return redirect(url_for("accounts.sign_in"))


def _safe_next(target):
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")) or _home_for(current_user))
    form = forms.SignInForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except DomainError as error:
            form.password.data = ""
            _form_error(form, error)
        else:
            destination = _safe_next(request.args.get("next")) or _home_for(user)
            if user.mfa_enabled:
                return mfa_views.ask_for_code(user, destination)
            mfa_views.start_session(user)  # a fresh session on sign-in: no fixation
            services.record_sign_in(user)
            return mfa_views.after_password(user, destination)
    return render_template("accounts/sign_in.html", form=form, title="Sign in")


# Where each kind of organisation starts its work after signing in.
HOME_BY_ORG_TYPE = {
    "vcse": "matching.dashboard",
    "commissioner": "pipeline.manage",
    "accreditation_body": "accreditation.queue",
    "prime": "consortia.teams",  # its bids and partner searches
}


def _home_for(user):
    """The page for the person's job: their organisation's kind decides, a site admin with no
    organisation goes to the admin pages."""
    if user.organisation_id:
        endpoint = HOME_BY_ORG_TYPE.get(user.organisation.org_type)
        return url_for(endpoint) if endpoint else url_for("organisations.show",
                                                          org_id=user.organisation_id)
    if user.is_site_admin:
        return url_for("admin.index")
    return url_for("accounts.account")


@bp.post("/sign-out")
@login_required
def sign_out():
    services.sign_out(current_user._get_current_object())
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("accounts.sign_in"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"])
def forgot_password():
    form = forms.EmailOnlyForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        return render_template("accounts/check_email.html", email=form.email.data,
                               title="Check your email")
    return render_template("accounts/forgot_password.html", form=form, title="Reset your password")


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def reset_password(token):
    try:
        user = services.user_for_reset_token(token)
    except DomainError as error:
        return render_template("accounts/link_problem.html", message=error.message,
                               title="There is a problem with this link"), 400
    form = forms.NewPasswordForm(data={"email": user.email})
    form.email.data = user.email
    form.submit.label.text = "Save new password"
    if form.validate_on_submit():
        services.reset_password(token, form.password.data)
        flash("Your password has been changed. Sign in with your new password.", "success")
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/reset_password.html", form=form, title="Choose a new password")


@bp.route("/verify-email/resend", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"])
def resend_verification():
    form = forms.EmailOnlyForm()
    if form.validate_on_submit():
        services.resend_verification(form.email.data)
        return render_template("accounts/check_email.html", email=form.email.data,
                               title="Check your email")
    return render_template("accounts/resend.html", form=form, title="Get a new confirmation link")


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = forms.ChangePasswordForm(data={"email": current_user.email})
    form.email.data = current_user.email
    if form.validate_on_submit():
        try:
            user = services.change_password(current_user._get_current_object(),
                                            form.current_password.data, form.password.data)
        except DomainError as error:
            _form_error(form, error)
        else:
            login_user(user, remember=False)  # keep this session; every other one is revoked
            flash("Your password has been changed. Other devices have been signed out.", "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", form=form, title="Your account")


@bp.get("/account/export")
@login_required
def export_data():
    response = jsonify(services.export_personal_data(current_user))
    response.headers["Content-Disposition"] = "attachment; filename=pathfinder-my-data.json"
    return response


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    form = forms.DeleteAccountForm()
    if form.validate_on_submit():
        try:
            services.delete_account(current_user._get_current_object(), form.password.data)
        except DomainError as error:
            _form_error(form, error)
        else:
            logout_user()
            session.clear()
            flash("Your account has been deleted.", "success")
            return redirect(url_for("main.home"))
    return render_template("accounts/delete_account.html", form=form, title="Delete your account")


@bp.get("/team")
@login_required
def team():
    if not current_user.organisation_id:
        abort(404)
    org = current_user.organisation
    return render_template("accounts/team.html", org=org,
                           invitations=services.pending_invitations(org),
                           title=f"Team: {org.name}")


@bp.route("/team/invite", methods=["GET", "POST"])
@login_required
def invite():
    services.require_org_admin(current_user, "invite colleagues")
    form = forms.InviteForm()
    if form.validate_on_submit():
        try:
            services.invite_colleague(current_user._get_current_object(), form.email.data, form.role.data)
        except DomainError as error:
            _form_error(form, error)
        else:
            flash(f"Invitation sent to {form.email.data.strip().lower()}.", "success")
            return redirect(url_for("accounts.team"))
    return render_template("accounts/invite.html", form=form, title="Invite a colleague")


@bp.route("/team/<int:user_id>/role", methods=["GET", "POST"])
@login_required
def change_role(user_id):
    member = services.team_member(current_user, user_id)
    form = forms.RoleForm(data={"role": member.org_role})
    if form.validate_on_submit():
        try:
            services.change_role(current_user, user_id, form.role.data)
        except DomainError as error:
            _form_error(form, error)
        else:
            flash(f"{member.name} is now {form.role.data}.", "success")
            return redirect(url_for("accounts.team"))
    return render_template("accounts/role.html", form=form, member=member,
                           title=f"Change role for {member.name}")


@bp.route("/team/<int:user_id>/remove", methods=["GET", "POST"])
@login_required
def remove_member(user_id):
    member = services.team_member(current_user, user_id)
    form = ConfirmForm(submit_label="Remove from organisation")
    if form.validate_on_submit():
        try:
            services.remove_member(current_user, user_id)
        except DomainError as error:
            _form_error(form, error)
        else:
            flash(f"{member.name} has been removed from your organisation.", "success")
            return redirect(url_for("accounts.team"))
    return render_template("accounts/remove_member.html", form=form, member=member,
                           title=f"Remove {member.name}?")


@bp.post("/team/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(invitation_id):
    services.revoke_invitation(current_user, invitation_id)
    flash("Invitation withdrawn.", "success")
    return redirect(url_for("accounts.team"))


TOKENS_ACTION = "create or revoke the organisation's API tokens"


@bp.route("/team/api-tokens", methods=["GET", "POST"])
@login_required
def api_tokens():
    from portal.api import services as api_services

    services.require_org_admin(current_user, TOKENS_ACTION)
    form, new_token = forms.ApiTokenForm(), None
    if form.validate_on_submit():
        try:
            _row, new_token = api_services.issue_token(current_user, form.name.data)
        except DomainError as error:
            _form_error(form, error)
        else:
            form = forms.ApiTokenForm(formdata=None)
    return render_template("accounts/api_tokens.html", form=form, new_token=new_token,
                           tokens=api_services.list_tokens(current_user), title="API tokens")


@bp.post("/team/api-tokens/<int:token_id>/revoke")
@login_required
def revoke_api_token(token_id):
    from portal.api import services as api_services

    api_services.revoke_token(current_user, token_id)
    flash("Token revoked. Anything using it can no longer call the API.", "success")
    return redirect(url_for("accounts.api_tokens"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def accept_invitation(token):
    try:
        invitation = services.open_invitation(token)
    except DomainError as error:
        return render_template("accounts/link_problem.html", message=error.message,
                               title="There is a problem with this invitation"), 400
    form = forms.AcceptInvitationForm(data={"email": invitation.email})
    form.email.data = invitation.email
    signed_in = current_user.is_authenticated
    if signed_in and request.method == "POST" or (not signed_in and form.validate_on_submit()):
        try:
            user = services.accept_invitation(
                token, name=form.name.data, password=form.password.data,
                user=current_user._get_current_object() if signed_in else None)
        except DomainError as error:
            _form_error(form, error)
        else:
            flash(f"You have joined {invitation.organisation.name}.", "success")
            if signed_in:
                login_user(user, remember=False)
                return redirect(url_for("organisations.show", org_id=user.organisation_id))
            return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/accept_invitation.html", form=form, invitation=invitation,
                           signed_in=signed_in, title=f"Join {invitation.organisation.name}")
