"""Site administration: every route needs a signed-in site admin; anyone else sees a 404."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.accounts import mfa
from portal.accounts import services as account_services
from portal.admin import bp
from portal.admin import services
from portal.admin.forms import VerifyForm
from portal.core.exceptions import DomainError
from portal.core.forms import ConfirmForm
from portal.core.routing import page_arg
from portal.organisations.forms import attach_error


@bp.before_request
def require_site_admin():
    if not (current_user.is_authenticated and current_user.is_site_admin):
        abort(404)


@bp.get("/")
def index():
    return render_template("admin/index.html", title="Site administration",
                           waiting=services.waiting_for_verification(per_page=1).total)


@bp.get("/users")
def users():
    q = request.args.get("q", "")
    return render_template("admin/users.html", title="People", q=q,
                           pagination=services.list_users(q, page_arg()))


@bp.post("/users/<int:user_id>/<any(suspended, active):status>")
def set_user_status(user_id, status):
    user = account_services.set_user_status(current_user, user_id, status)
    flash(f"{user.email} is now {status}.", "success")
    return redirect(request.referrer or url_for("admin.users"))


@bp.route("/users/<int:user_id>/two-step-reset", methods=["GET", "POST"])
def reset_user_mfa(user_id):
    user = mfa.user_for_reset(current_user, user_id)
    form = ConfirmForm(submit_label="Reset two-step sign-in")
    if form.validate_on_submit():
        try:
            mfa.reset_by_site_admin(current_user, user_id)
        except DomainError as error:
            form.form_errors.append(error.message)
            form._errors = None
        else:
            flash(f"Two-step sign-in for {user.email} is reset. They will set it up again when "
                  "they next sign in, and we have emailed them.", "success")
            return redirect(url_for("admin.users", q=user.email))
    return render_template("accounts/mfa_reset.html", form=form, member=user,
                           back=url_for("admin.users", q=user.email),
                           title=f"Reset two-step sign-in for {user.name}?"[:200])


@bp.get("/organisations")
def organisations():
    q, status = request.args.get("q", ""), request.args.get("status", "")
    return render_template("admin/organisations.html", title="Organisations", q=q, status=status,
                           pagination=services.list_organisations(q, status, page_arg()))


@bp.post("/organisations/<int:org_id>/<any(suspended, active):status>")
def set_organisation_status(org_id, status):
    org = account_services.set_organisation_status(current_user, org_id, status)
    flash(f"{org.name} is now {status}.", "success")
    return redirect(request.referrer or url_for("admin.organisations"))


@bp.get("/verification")
def verification():
    return render_template("admin/verification.html",
                           title="Organisations waiting for verification",
                           pagination=services.waiting_for_verification(page_arg()))


@bp.route("/verification/<int:org_id>", methods=["GET", "POST"])
def verify_organisation(org_id):
    org = services.organisation_to_verify(org_id)
    form = VerifyForm()
    if org.needs_verification and form.validate_on_submit():
        try:
            services.verify_organisation(current_user, org.id, form.basis.data, form.note.data)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(f"{org.name} is verified. Its administrators have been told by email.",
                  "success")
            return redirect(url_for("admin.verification"))
    return render_template("admin/verify.html", title=f"Verify {org.name}"[:200], org=org,
                           form=form)


@bp.get("/outbox")
def outbox():
    return render_template("admin/outbox.html", title="Email outbox",
                           pagination=services.list_outbox(page_arg()))


@bp.get("/outbox/<int:message_id>")
def outbox_message(message_id):
    message = services.outbox_message(message_id)
    return render_template("admin/outbox_message.html", title=message.subject, message=message)


@bp.get("/audit")
def audit():
    action = request.args.get("action", "")
    return render_template("admin/audit.html", title="Audit trail", action=action,
                           pagination=services.list_audit(action, page_arg()))
