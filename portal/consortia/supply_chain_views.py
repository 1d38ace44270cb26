"""Supply chain pages: sub-contract packages a prime offers and the responses it shortlists and
selects, recording the sub-contract, and fairness after award (payment reports and concerns
raised with the buyer)."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.consortia.page_helpers import attempt as _attempt
from portal.consortia.page_helpers import supplier_or_404 as _supplier
from portal.consortia import bp, services, subcontracts
from portal.consortia import supply_chain_forms as forms
from portal.core.exceptions import NotFound
from portal.core.forms import ConfirmForm, first_error
from portal.core.routing import page_arg
from portal.organisations.forms import attach_error
from portal.pipeline.services import is_commissioner
from portal.reference.services import cpv_labels

RESPONSE_MOVES = "any(shortlisted, not_selected)"


def can_offer_subcontract(opportunity):
    """Whether the viewer is a supplier who may offer part of the entry's work."""
    return services.supplier_of(current_user) is not None and \
        opportunity.status in subcontracts.POSTABLE_STATUSES


bp.add_app_template_global(subcontracts.packages_for_entry, "subcontract_packages")
bp.add_app_template_global(can_offer_subcontract, "can_offer_subcontract")


# --- Helpers ------------------------------------------------------------------------------------

def _package_form(opportunity, package=None):
    return forms.PackageForm(opportunity.cpv_codes, opportunity.areas, package=package)


def _labels(opportunity, package=None):
    """Names for the category and area codes a package holds."""
    named = cpv_labels(package.cpv_codes) if package is not None else {}
    return {"cpv": {**named, **{c.code: c.label for c in opportunity.cpv_codes}},
            "area": {a.code: a.name for a in opportunity.areas}}


def _to_package(package, anchor=None):
    return redirect(url_for(".package", package_id=package.id, _anchor=anchor))


def _chain_link(opportunity_id, prime_id):
    """The (entry, prime) pair the signed-in supplier works under; any other is a 404."""
    organisation = _supplier()
    for opportunity, prime in subcontracts.supply_chain_of(organisation):
        if opportunity.id == opportunity_id and prime.id == prime_id:
            return opportunity, prime
    raise NotFound("Contract not found")


# --- Packages -----------------------------------------------------------------------------------

@bp.get("/subcontracts")
@login_required
def packages():
    form = forms.PackageFilterForm(request.args)
    valid = form.validate()
    results = subcontracts.open_packages(form.q.data, page_arg()) if valid else None
    return render_template("consortia/supply_chain/packages.html",
                           title="Sub-contract opportunities", filter_form=form,
                           form=None if valid else form, results=results, args=form.args())


@bp.route("/forward-plan/<int:opportunity_id>/subcontracts/new", methods=["GET", "POST"])
@login_required
def new_package(opportunity_id):
    _supplier()
    opportunity = services.get_entry(opportunity_id)
    form = _package_form(opportunity)
    if form.validate_on_submit():
        package, error = _attempt(subcontracts.create_package, opportunity, current_user,
                                  **form.package_data())
        if error is None:
            flash("Your sub-contract package is posted", "success")
            return _to_package(package)
        attach_error(form, error)
    return render_template("consortia/supply_chain/package_form.html",
                           title="Offer part of this work as a sub-contract", form=form,
                           opportunity=opportunity, package=None,
                           postable=opportunity.status in subcontracts.POSTABLE_STATUSES)


def _render_package(package, respond_form=None, form=None):
    viewer = services.supplier_of(current_user)
    own = viewer is not None and viewer.id == package.organisation_id
    response = package.response_from(viewer.id) if viewer is not None and not own else None
    can_respond = _can_respond(package)
    return render_template(
        "consortia/supply_chain/package.html", title=package.title, package=package, own=own,
        viewer=viewer, response=response, labels=_labels(package.opportunity, package), form=form,
        respond_form=(respond_form or forms.RespondForm()) if can_respond else None)


@bp.get("/subcontracts/<int:package_id>")
@login_required
def package(package_id):
    return _render_package(subcontracts.get_package(package_id))


@bp.post("/subcontracts/<int:package_id>/respond")
@login_required
def respond_package(package_id):
    package = subcontracts.get_package(package_id)
    form = forms.RespondForm()
    if form.validate_on_submit():
        _done, error = _attempt(subcontracts.respond_to_package, package, current_user,
                                form.note.data)
        if error is None:
            flash(f"Your response has been sent to {package.organisation.name}", "success")
            return _to_package(package)
        attach_error(form, error)
    if not _can_respond(package):
        # Already answered, closed or its own: the page says so in place of the form, so the
        # reason cannot sit next to it.
        flash(first_error(form), "error")
        return _to_package(package)
    return _render_package(package, respond_form=form, form=form)


def _can_respond(package):
    viewer = services.supplier_of(current_user)
    return (viewer is not None and viewer.id != package.organisation_id
            and package.response_from(viewer.id) is None and package.is_open)


@bp.route("/subcontracts/<int:package_id>/edit", methods=["GET", "POST"])
@login_required
def edit_package(package_id):
    package = subcontracts.get_own_package(package_id, current_user)
    form = _package_form(package.opportunity, package)
    if form.validate_on_submit():
        _done, error = _attempt(subcontracts.edit_package, package, current_user,
                                **form.package_data())
        if error is None:
            flash("Your package has been changed", "success")
            return _to_package(package)
        attach_error(form, error)
    return render_template("consortia/supply_chain/package_form.html",
                           title="Change your package", form=form,
                           opportunity=package.opportunity, package=package,
                           postable=package.status == "open")


@bp.route("/subcontracts/<int:package_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw_package(package_id):
    package = subcontracts.get_own_package(package_id, current_user)
    form = ConfirmForm(submit_label="Withdraw package")
    if form.validate_on_submit():
        _done, error = _attempt(subcontracts.withdraw_package, package, current_user)
        flash(error.message if error else "Your package has been withdrawn",
              "error" if error else "success")
        return _to_package(package)
    return render_template("consortia/supply_chain/withdraw_package.html",
                           title="Withdraw your package", form=form, package=package)


# --- Responses ----------------------------------------------------------------------------------

@bp.post(f"/subcontracts/<int:package_id>/responses/<int:response_id>/<{RESPONSE_MOVES}:status>")
@login_required
def move_response(package_id, response_id, status):
    package = subcontracts.get_own_package(package_id, current_user)
    response = subcontracts.get_own_response(package, response_id)
    if ConfirmForm().validate_on_submit():
        _done, error = _attempt(subcontracts.move_response, package, response, current_user,
                                status)
        flash(error.message if error else
              f"{response.organisation.name}: {response.status_label.lower()}",
              "error" if error else "success")
    return _to_package(package, "responses")


@bp.route("/subcontracts/<int:package_id>/responses/<int:response_id>/select",
          methods=["GET", "POST"])
@login_required
def select_response(package_id, response_id):
    package = subcontracts.get_own_package(package_id, current_user)
    response = subcontracts.get_own_response(package, response_id)
    form = forms.SelectForm()
    checking = False
    if form.validate_on_submit():
        # The first press shows the answers to check; "change" goes back to the form.
        checking = form.confirmed.data not in ("yes", "change")
        if form.confirmed.data == "yes":
            _done, error = _attempt(subcontracts.select_response, package, response,
                                    current_user, **form.contract_data())
            if error is None:
                flash(f"Sub-contract with {response.organisation.name} recorded. It now "
                      "shows in their track record.", "success")
                return _to_package(package)
            attach_error(form, error)
    return render_template("consortia/supply_chain/select.html",
                           title="Select and record the sub-contract", form=form,
                           package=package, response=response, checking=checking)


# --- Fairness after award -----------------------------------------------------------------------

@bp.get("/supply-chain")
@login_required
def supply_chain():
    organisation = services.supplier_of(current_user)
    if organisation is not None:
        return render_template(
            "consortia/supply_chain/supplier.html", title="Your supply chain",
            organisation=organisation, chain=subcontracts.supply_chain_of(organisation),
            concerns=subcontracts.concerns_raised_by(organisation),
            packages=subcontracts.own_packages(organisation),
            held=subcontracts.subcontracts_held(organisation),
            given=subcontracts.subcontracts_given(organisation),
            record=subcontracts.own_payment_record(organisation),
            reports=subcontracts.payment_reports_by(organisation),
            can_report=subcontracts.can_report_payments)
    if not is_commissioner(current_user):
        raise NotFound("Page not found")
    buyer = current_user.organisation
    return render_template(
        "consortia/supply_chain/buyer.html", title="Supply chains of your contracts",
        organisation=buyer, performance=subcontracts.payment_performance(buyer),
        concerns=subcontracts.concerns_for_buyer(buyer))


@bp.route("/supply-chain/<int:opportunity_id>/<int:prime_id>/payments/new",
          methods=["GET", "POST"])
@login_required
def report_payment(opportunity_id, prime_id):
    opportunity, prime = _chain_link(opportunity_id, prime_id)
    form = forms.PaymentForm()
    if form.validate_on_submit():
        _done, error = _attempt(subcontracts.report_payment, current_user, opportunity.id,
                                prime.id, **form.payment_data())
        if error is None:
            flash(f"Thank you: your report on {prime.name}'s payment is recorded", "success")
            return redirect(url_for(".supply_chain"))
        attach_error(form, error)
    return render_template("consortia/supply_chain/payment.html", title="Report a payment",
                           form=form, opportunity=opportunity, prime=prime)


@bp.route("/supply-chain/<int:opportunity_id>/<int:prime_id>/concerns/new",
          methods=["GET", "POST"])
@login_required
def raise_concern(opportunity_id, prime_id):
    opportunity, prime = _chain_link(opportunity_id, prime_id)
    form = forms.ConcernForm(prime)
    if form.validate_on_submit():
        concern, error = _attempt(subcontracts.raise_concern, current_user, opportunity.id,
                                  prime.id, **form.concern_data())
        if error is None:
            flash(f"Your concern has been sent to {opportunity.organisation.name}", "success")
            return redirect(url_for(".concern", concern_id=concern.id))
        attach_error(form, error)
    return render_template("consortia/supply_chain/concern_form.html",
                           title="Raise a concern with the buyer", form=form,
                           opportunity=opportunity, prime=prime)


@bp.route("/supply-chain/concerns/<int:concern_id>", methods=["GET", "POST"])
@login_required
def concern(concern_id):
    concern = subcontracts.get_concern(concern_id, current_user)
    is_buyer = current_user.organisation_id == concern.opportunity.organisation_id
    form = forms.AnswerForm() if is_buyer and concern.status == "open" else None
    if request.method == "POST" and form is None:
        if not is_buyer:
            raise NotFound("Page not found")
        flash("This concern has already been answered", "error")
        return redirect(url_for(".concern", concern_id=concern.id))
    if form is not None and form.validate_on_submit():
        _done, error = _attempt(subcontracts.answer_concern, concern, current_user,
                                form.response.data, form.outcome.data)
        if error is None:
            flash("Your answer has been sent", "success")
            return redirect(url_for(".concern", concern_id=concern.id))
        attach_error(form, error)
    return render_template("consortia/supply_chain/concern.html",
                           title="Concern about a prime contractor", concern=concern,
                           is_buyer=is_buyer, form=form)
