"""Social value pages. A supplier's own commitments for an entry (add, withdraw before award,
report delivery after it); the commissioner's committed-against-delivered summary, its
contracts, one contract's breakdown and the CSV of each table."""
from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.core.downloads import content_disposition
from portal.core.exceptions import DomainError, NotFound
from portal.core.forms import ConfirmForm
from portal.core.routing import id_arg, page_arg
from portal.insight import access, bp, social_value
from portal.insight import social_value_forms as forms
from portal.insight.dashboard_forms import FilterForm
from portal.insight.page_filters import filter_form, read_filters
from portal.insight.models import COMMITMENT_STAGES
from portal.insight.tables import to_csv
from portal.organisations.forms import attach_error

HELPERS = {"measure_for": social_value.measure_for, "show_amount": social_value.show_amount,
           "percent_of": social_value.percent_of, "stages": COMMITMENT_STAGES}


def social_value_link(opportunity, user=None):
    """The supplier's social value page for the entry when it has a part in the entry (a stage
    reached or commitments made); None for anyone else."""
    if social_value.has_a_part(opportunity, user if user is not None else current_user):
        return url_for("insight.entry_commitments", opportunity_id=opportunity.id)
    return None


bp.add_app_template_global(social_value_link, "social_value_link")


def _attempt(action, *args):
    """(result, None) or (None, the DomainError); a missing object stays a 404."""
    try:
        return action(*args), None
    except NotFound:
        raise
    except DomainError as error:
        return None, error


def _to_entry(opportunity_id):
    return redirect(url_for(".entry_commitments", opportunity_id=opportunity_id))


# --- A supplier's commitments -------------------------------------------------------------------

@bp.get("/insight/social-value/entries/<int:opportunity_id>")
@login_required
def entry_commitments(opportunity_id):
    entry = social_value.supplier_entry(opportunity_id, current_user)
    return render_template("insight/social_value/entry.html", title="Social value you commit to",
                           entry=entry, **HELPERS)


@bp.route("/insight/social-value/entries/<int:opportunity_id>/commit", methods=["GET", "POST"])
@login_required
def commit(opportunity_id):
    entry = social_value.supplier_entry(opportunity_id, current_user)
    measure = social_value.measures().get(request.values.get("measure") or "")
    if measure is None or entry.stage is None:
        return _measure_step(entry)
    form = forms.CommitmentForm(measure)
    if form.validate_on_submit():
        _done, error = _attempt(social_value.make_commitment, entry.opportunity,
                                entry.organisation, current_user, entry.stage, measure.key,
                                form.amount.data, form.note.data)
        if error is None:
            flash(f"Commitment added: {measure.show(form.amount.data)}", "success")
            return _to_entry(opportunity_id)
        attach_error(form, error)
    return render_template("insight/social_value/commit.html", title="How much will you deliver?",
                           entry=entry, measure=measure, form=form,
                           amount_params=forms.amount_params(measure))


def _measure_step(entry):
    form = forms.MeasureForm(social_value.measures().values(), formdata=request.args)
    if "measure" in request.values:
        form.validate()
    return render_template("insight/social_value/commit.html", title="What will you commit to?",
                           entry=entry, measure=None, form=form,
                           themes=social_value.measures_by_theme())


@bp.post("/insight/social-value/commitments/<int:commitment_id>/withdraw")
@login_required
def withdraw_commitment(commitment_id):
    commitment = social_value.own_commitment(commitment_id, current_user)
    opportunity_id = commitment.opportunity_id
    if ConfirmForm().validate_on_submit():
        _done, error = _attempt(social_value.withdraw_commitment, commitment, current_user)
        if error is None:
            flash("Commitment withdrawn", "success")
        else:
            flash(error.message)
    return _to_entry(opportunity_id)


@bp.route("/insight/social-value/commitments/<int:commitment_id>/report",
          methods=["GET", "POST"])
@login_required
def report_delivery(commitment_id):
    commitment = social_value.own_commitment(commitment_id, current_user)
    measure = social_value.measure_for(commitment.measure)
    form = forms.ReportForm(measure)
    if form.validate_on_submit():
        _done, error = _attempt(social_value.report_delivery, commitment, current_user,
                                form.period_end.data, form.amount.data, form.note.data)
        if error is None:
            flash(f"Delivery reported: {measure.show(form.amount.data)}", "success")
            return _to_entry(commitment.opportunity_id)
        attach_error(form, error)
    return render_template("insight/social_value/report.html", title="Report delivery",
                           commitment=commitment, measure=measure, form=form,
                           amount_params=forms.amount_params(measure),
                           latest=social_value.latest_report_day(), **HELPERS)


# --- The commissioner's view --------------------------------------------------------------------

def _buyer():
    return access.buyer_for(current_user, id_arg("organisation"))


def _scope_args():
    return {"organisation": request.args["organisation"]} \
        if request.args.get("organisation") else {}


@bp.get("/insight/social-value", endpoint="social_value")
@login_required
def social_value_summary():
    buyer = _buyer()
    form = filter_form(buyer)
    filters, error = read_filters(form)
    return render_template("insight/social_value/summary.html", title="Social value",
                           summary=social_value.summary(buyer, filters, page_arg()), form=form,
                           filter_error=error, scope_args=_scope_args(), **HELPERS)


@bp.get("/insight/social-value/contracts")
@login_required
def social_value_contracts():
    buyer = _buyer()
    form = filter_form(buyer)
    filters, error = read_filters(form)
    return render_template("insight/social_value/contracts.html",
                           title="Social value by contract", buyer=buyer, form=form,
                           filter_error=error, scope_args=_scope_args(),
                           rows=social_value.contract_rows(buyer, filters, page_arg()),
                           pending=social_value.pending_entries(buyer))


@bp.get("/insight/social-value/contracts/<int:opportunity_id>")
@login_required
def social_value_contract(opportunity_id):
    breakdown = social_value.entry_breakdown(opportunity_id, current_user)
    return render_template("insight/social_value/breakdown.html",
                           title=breakdown.opportunity.title, breakdown=breakdown,
                           scope_args=_scope_args(), **HELPERS)


@bp.get("/insight/social-value/<any(themes, suppliers, contracts):key>.csv")
@login_required
def social_value_csv(key):
    buyer = _buyer()
    filters, error = read_filters(FilterForm(request.args))
    if error is not None:
        raise NotFound("Not found")
    table = social_value.csv_table(buyer, filters, key)
    return Response(to_csv(table), mimetype="text/csv", headers={
        "Content-Disposition": content_disposition(f"social-value-{key}.csv"),
        "Cache-Control": "private, no-store"})
