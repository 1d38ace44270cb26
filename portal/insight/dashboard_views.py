"""The commissioner's dashboard, its printable report, its CSV tables and the buyer's targets."""
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.core.downloads import content_disposition
from portal.core.exceptions import DomainError, NotFound
from portal.core.forms import ConfirmForm
from portal.core.routing import id_arg
from portal.insight import access, bp, contracts, dashboard, page_links, targets
from portal.insight.dashboard_forms import FilterForm, TargetForm
from portal.insight.page_filters import filter_form, read_filters
from portal.insight.tables import to_csv
from portal.organisations.forms import attach_error


def _scope():
    """The buyer whose figures are asked for, or None for every buyer (site admins only)."""
    if request.args.get("scope") == "all":
        if not access.is_site_admin(current_user):
            raise NotFound("Not found")
        return None
    return access.buyer_for(current_user, id_arg("organisation"))


def _dashboard_page(template):
    buyer = _scope()
    form = filter_form(buyer)
    filters, error = read_filters(form)
    return render_template(template, board=dashboard.build(buyer, filters), form=form,
                           filter_error=error, scope_args=_scope_args(),
                           demo_data=page_links.has_demo_data(buyer), today=page_links.today(),
                           expiring=contracts.expiring_summary(buyer) if buyer else None,
                           **dashboard.TEMPLATE_HELPERS)


def _scope_args():
    return {key: request.args[key] for key in ("organisation", "scope") if request.args.get(key)}


@bp.get("/insight/")
@login_required
def dashboard_page():
    return _dashboard_page("insight/dashboard.html")


@bp.get("/insight/report")
@login_required
def report_page():
    """The dashboard laid out for printing as a committee paper."""
    return _dashboard_page("insight/report.html")


@bp.get("/insight/tables/<key>.csv")
@login_required
def table_csv(key):
    buyer = _scope()
    filters, error = read_filters(FilterForm(request.args))
    table = dashboard.build(buyer, filters).tables.get(key)
    if table is None or error is not None:
        abort(404)
    return Response(to_csv(table), mimetype="text/csv", headers={
        "Content-Disposition": content_disposition(f"{key}.csv")})


@bp.route("/insight/targets", methods=["GET", "POST"])
@login_required
def targets_page():
    buyer = access.own_buyer(current_user)
    form = TargetForm()
    if form.validate_on_submit():
        try:
            targets.set_target(buyer, current_user, form.measure.data, int(form.year.data),
                               form.target_percent.data, form.baseline_percent.data)
            flash("Target saved", "success")
            return redirect(url_for("insight.targets_page"))
        except DomainError as error:
            attach_error(form, error)
    return render_template("insight/targets.html", form=form, targets=targets.targets_of(buyer),
                           remove_form=ConfirmForm(submit_label="Remove"))


@bp.post("/insight/targets/<int:target_id>/remove")
@login_required
def remove_target(target_id):
    buyer = access.own_buyer(current_user)
    if ConfirmForm().validate_on_submit():
        targets.remove_target(buyer, current_user, target_id)
        flash("Target removed", "success")
    return redirect(url_for("insight.targets_page"))
