"""The contracts register: the buyer's contracts and when they end, the ones ending soon without
a re-procurement entry (started from here with one click), a contract's terms, and contracts
added by hand. A site administrator may read any buyer's register (`?organisation=<id>`)."""
from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.core.exceptions import DomainError
from portal.core.forms import ConfirmForm
from portal.core.routing import id_arg, page_arg
from portal.insight import bp, contracts
from portal.insight import contract_forms as forms
from portal.insight.access import buyer_for, own_buyer
from portal.insight.models import CONTRACT_SOURCES
from portal.insight.tables import to_csv
from portal.organisations.forms import attach_error

bp.add_app_template_global(contracts.is_end_estimated, "contract_end_estimated")
bp.add_app_template_global(contracts.reprocurement_state, "contract_reprocurement_state")
bp.add_app_template_global(CONTRACT_SOURCES, "contract_sources")


def _buyer():
    return buyer_for(current_user, id_arg("organisation"))


def _buyer_args(buyer):
    """The query string that keeps a site administrator on the buyer they are looking at."""
    return {} if buyer.id == current_user.organisation_id else {"organisation": buyer.id}


# Named "contracts" because the dashboard links to the register by that name.
@bp.get("/insight/contracts", endpoint="contracts")
@login_required
def contract_register():
    buyer = _buyer()
    query = contracts.parse_register_query(request.args)
    page = contracts.register_page(buyer, query, page_arg())
    return render_template("insight/contracts/register.html", title="Contracts register",
                           page=page, buyer=buyer, buyer_args=_buyer_args(buyer),
                           filter_form=forms.RegisterFilterForm(query),
                           can_change=buyer.id == current_user.organisation_id)


@bp.get("/insight/contracts.csv")
@login_required
def contract_register_csv():
    buyer = _buyer()
    table = contracts.register_table(buyer, contracts.parse_register_query(request.args))
    return Response(to_csv(table), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=contracts.csv",
        "Cache-Control": "private, no-store"})


def _render_contract(contract, form=None):
    can_change = contracts.can_change(current_user, contract)
    if can_change and form is None:
        form = forms.ContractForm(contract)
    return render_template("insight/contracts/contract.html", title=contract.title,
                           contract=contract, form=form if can_change else None,
                           buyer_args=_buyer_args(contract.organisation),
                           can_change=can_change)


@bp.route("/insight/contracts/<int:contract_id>", methods=["GET", "POST"])
@login_required
def contract_detail(contract_id):
    if request.method == "GET":
        return _render_contract(contracts.get_contract(contract_id, current_user))
    contract = contracts.get_own_contract(contract_id, current_user)
    form = forms.ContractForm(contract)
    if form.validate_on_submit():
        try:
            changed = contracts.update_contract(contract, form.terms_data(), current_user)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash("Contract saved" if changed else "Contract confirmed with no changes",
                  "success")
            return redirect(url_for(".contract_detail", contract_id=contract.id))
    return _render_contract(contract, form)


@bp.route("/insight/contracts/new", methods=["GET", "POST"])
@login_required
def contract_new():
    buyer = own_buyer(current_user)
    form = forms.NewContractForm()
    if form.validate_on_submit():
        try:
            contract = contracts.add_contract(buyer, form.contract_data(), current_user)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash("Contract added to your register", "success")
            return redirect(url_for(".contract_detail", contract_id=contract.id))
    return render_template("insight/contracts/new.html", title="Add a contract", form=form,
                           buyer=buyer)


@bp.post("/insight/contracts/<int:contract_id>/reprocurement")
@login_required
def contract_reprocure(contract_id):
    contract = contracts.get_own_contract(contract_id, current_user)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for(".contracts"))
    try:
        entry = contracts.start_reprocurement(contract, current_user)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for(".contract_detail", contract_id=contract_id))
    flash(f"Draft entry \u201c{entry.title}\u201d added to your forward plan. Check it, then "
          "publish it.", "success")
    return redirect(url_for("pipeline.manage_entry", opportunity_id=entry.id))
