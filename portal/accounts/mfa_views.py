"""Two-step sign-in pages: the code after the password, setting it up and turning it off, and an
organisation admin's reset of a member's lost device. Also the rule that keeps someone who
must use it on the set-up pages until it is on."""
import time

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user

from portal.accounts import bp, forms, mfa, services, totp
from portal.core.exceptions import DomainError, NotFound
from portal.core.forms import ConfirmForm
# Rate limits on the second step of signing in, as on the first.
from portal.extensions import limiter
from portal.organisations.forms import attach_error

PENDING_KEY = "mfa_pending"
PENDING_SECONDS = 5 * 60
MAX_WRONG_CODES = 5
SETUP_KEY = "mfa_setup"
NEW_CODES_KEY = "mfa_new_codes"
# Pages someone who must set up two-step sign-in may still open.
OPEN_DURING_SETUP = frozenset({
    "static", "accounts.sign_out", "accounts.account", "accounts.mfa_settings",
    "accounts.mfa_setup", "accounts.mfa_recovery_codes",
})


# --- the second step of signing in ------------------------------------------------------------

def start_session(user):
    """Sign the person in on a fresh session (no fixation)."""
    session.clear()
    login_user(user, remember=False)
    session["signed_in_at"] = time.time()


def ask_for_code(user, destination):
    """The password was right: remember who is signing in, for a few minutes, and ask for
    the code. Nobody is signed in until it is given."""
    session.clear()
    session[PENDING_KEY] = {"uid": user.id, "at": time.time(), "next": destination, "wrong": 0}
    return redirect(url_for("accounts.sign_in_code"))


def after_password(user, destination):
    """Where a person signed in with a password alone goes: the set-up page if they must use
    two-step sign-in, otherwise where they were going."""
    if mfa.must_set_up(user):
        return _to_setup(user)
    return redirect(destination)


def _to_setup(user):
    flash("An administrator reset your two-step sign-in: set it up again to continue."
          if user.mfa_reset_at else "Set up two-step sign-in to continue: your role needs it.",
          "info")
    return redirect(url_for("accounts.mfa_setup"))


def _pending():
    pending = session.get(PENDING_KEY)
    if pending and time.time() - pending.get("at", 0) <= PENDING_SECONDS:
        return pending
    session.pop(PENDING_KEY, None)
    return None


def _pending_key():
    pending = session.get(PENDING_KEY) or {}
    return f"mfa:{pending.get('uid')}"


def _ip_limit():
    return current_app.config["LOGIN_LIMIT_PER_IP"]


def _account_limit():
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


def _start_again(message):
    session.pop(PENDING_KEY, None)
    flash(message, "info")
    return redirect(url_for("accounts.sign_in"))


def _wrong_code(pending, form, error, template):
    # A few wrong codes send the person back to the password. The per-account rate limit on
    # these pages is the guard that an old session cookie cannot wind back.
    pending["wrong"] = pending.get("wrong", 0) + 1
    if pending["wrong"] >= MAX_WRONG_CODES:
        return _start_again("Too many wrong codes. Sign in again.")
    session[PENDING_KEY] = pending
    attach_error(form, error)
    return render_template(template, form=form, title=form.title)


def _second_step(form, check, template):
    pending = _pending()
    if pending is None:
        return _start_again("Your sign-in timed out. Enter your email address and password "
                            "again.")
    if not form.validate_on_submit():
        return render_template(template, form=form, title=form.title)
    try:
        user, note = check(pending["uid"], form.code.data)
    except NotFound:
        return _start_again("Sign in again.")
    except DomainError as error:
        return _wrong_code(pending, form, error, template)
    start_session(user)
    if note:
        flash(note, "info")
    return redirect(pending["next"])


def _with_code(user_id, code):
    return mfa.sign_in_with_code(user_id, code), None


def _with_recovery_code(user_id, code):
    user, left = mfa.sign_in_with_recovery_code(user_id, code)
    note = (f"You used a recovery code. You have {left} left." if left else
            "You used your last recovery code. If you still have your phone, make new ones from "
            "your account page; if not, ask an administrator to reset two-step sign-in.")
    return user, note


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.limit(_account_limit, key_func=_pending_key, methods=["POST"])
def sign_in_code():
    form = forms.AuthenticatorCodeForm()
    form.title = "Enter the code from your authenticator app"
    return _second_step(form, _with_code, "accounts/sign_in_code.html")


@bp.route("/sign-in/recovery-code", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.limit(_account_limit, key_func=_pending_key, methods=["POST"])
def sign_in_recovery():
    form = forms.RecoveryCodeForm()
    form.title = "Enter a recovery code"
    return _second_step(form, _with_recovery_code, "accounts/sign_in_recovery.html")


# --- keeping people who must use it on the set-up pages ------------------------------------

@bp.before_app_request
def require_two_step():
    if request.endpoint is None or request.endpoint in OPEN_DURING_SETUP:
        return None
    if current_user.is_authenticated and mfa.must_set_up(current_user):
        return _to_setup(current_user)
    return None


# --- the person's own settings ----------------------------------------------------------------

@bp.get("/account/two-step")
@login_required
def mfa_settings():
    if not current_user.mfa_enabled:
        return redirect(url_for("accounts.mfa_setup"))
    return _settings_page(forms.AuthenticatorCodeForm())


def _settings_page(form, status=200):
    form.submit.label.text = "Make new recovery codes"
    return render_template("accounts/mfa.html", title="Two-step sign-in", form=form,
                           codes_left=len(current_user.unused_recovery_codes),
                           required=mfa.required_for(current_user)), status


@bp.route("/account/two-step/set-up", methods=["GET", "POST"])
@login_required
def mfa_setup():
    if current_user.mfa_enabled:
        return redirect(url_for("accounts.mfa_settings"))
    setup = mfa.new_setup(current_user, session.get(SETUP_KEY))
    session[SETUP_KEY] = setup.sealed
    form = forms.AuthenticatorCodeForm()
    form.submit.label.text = "Turn on two-step sign-in"
    if form.validate_on_submit():
        try:
            codes = mfa.turn_on(current_user._get_current_object(), setup.sealed, form.code.data)
        except DomainError as error:
            attach_error(form, error)
        else:
            return _show_codes(codes)
    return render_template("accounts/mfa_setup.html", form=form, setup=setup,
                           required=mfa.required_for(current_user),
                           title="Set up two-step sign-in")


def _show_codes(codes):
    """Keep the new codes (sealed) for the one page that shows them."""
    session.pop(SETUP_KEY, None)
    session[NEW_CODES_KEY] = totp.seal(" ".join(codes))
    return redirect(url_for("accounts.mfa_recovery_codes"))


@bp.route("/account/two-step/recovery-codes", methods=["GET", "POST"])
@login_required
def mfa_recovery_codes():
    codes = _new_codes()
    if codes is None:
        return redirect(url_for("accounts.mfa_settings"))
    form = forms.SavedCodesForm()
    if form.validate_on_submit():
        session.pop(NEW_CODES_KEY, None)
        flash("Two-step sign-in is on. Keep your recovery codes safe.", "success")
        return redirect(url_for("accounts.account"))
    return render_template("accounts/mfa_recovery_codes.html", form=form, codes=codes,
                           title="Save your recovery codes")


def _new_codes():
    try:
        return totp.unseal(session.get(NEW_CODES_KEY) or "").split()
    except totp.SealBroken:
        return None


@bp.post("/account/two-step/new-recovery-codes")
@login_required
def mfa_new_recovery_codes():
    if not current_user.mfa_enabled:
        return redirect(url_for("accounts.mfa_setup"))
    form = forms.AuthenticatorCodeForm()
    if form.validate_on_submit():
        try:
            codes = mfa.replace_recovery_codes(current_user._get_current_object(), form.code.data)
        except DomainError as error:
            attach_error(form, error)
        else:
            return _show_codes(codes)
    return _settings_page(form, 400)


@bp.route("/account/two-step/turn-off", methods=["GET", "POST"])
@login_required
def mfa_turn_off():
    if not current_user.mfa_enabled:
        return redirect(url_for("accounts.mfa_setup"))
    form = forms.TurnOffMfaForm()
    if form.validate_on_submit():
        try:
            mfa.turn_off(current_user._get_current_object(), form.password.data, form.code.data)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash("Two-step sign-in is off.", "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/mfa_turn_off.html", form=form,
                           required=mfa.required_for(current_user),
                           title="Turn off two-step sign-in")


def _form_problem(form, error):
    """A problem with the whole form (a one-button form has no field to point at)."""
    form.form_errors.append(error.message)
    form._errors = None


# --- an organisation admin's reset ------------------------------------------------------------

@bp.route("/team/<int:user_id>/two-step-reset", methods=["GET", "POST"])
@login_required
def reset_member_mfa(user_id):
    member = services.team_member(current_user, user_id)
    form = ConfirmForm(submit_label="Reset two-step sign-in")
    if form.validate_on_submit():
        try:
            mfa.reset_for_member(current_user._get_current_object(), user_id)
        except DomainError as error:
            _form_problem(form, error)
        else:
            flash(f"Two-step sign-in for {member.name} is reset. They will set it up again "
                  "when they next sign in, and we have emailed them.", "success")
            return redirect(url_for("accounts.team"))
    return render_template("accounts/mfa_reset.html", form=form, member=member,
                           back=url_for("accounts.team"),
                           title=f"Reset two-step sign-in for {member.name}?"[:200])
