"""Matching pages: an entry's ranked suppliers and invitations, the supplier's dashboard,
recommendations and dismissals."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSubmitInput, GovTextArea
from wtforms import BooleanField, SelectChoice, SubmitField, TextAreaField
from wtforms.validators import Length

from portal.accreditation.services import current_records
from portal.core.exceptions import DomainError, NotFound
from portal.core.forms import ChoiceField, ConfirmForm, PortalForm, first_error
from portal.core.routing import id_arg, page_arg
from portal.matching import alerts  # noqa: F401  (registers the "profile" alert source)
from portal.matching import bp, services
from portal.organisations.checklist import profile_checklist
from portal.organisations.directory import directory_filter_options
from portal.organisations.forms import attach_error
from portal.pipeline.models import ACCREDITATION_TIERS

MATCHES_PER_PAGE = 20
# Fewer suppliers than this with evidence of doing the work is a thin market, and the page says so.
FEW_SUPPLIERS = 5
RECOMMENDATIONS_PER_PAGE = 10
SUPPLIER_TYPE_LABELS = {"vcse": "VCSEs", "prime": "Prime contractors"}


class MatchFilterForm(PortalForm):
    """The matches page's filters (GET: reading needs no CSRF token)."""

    class Meta:
        csrf = False

    accredited = BooleanField("Accredited suppliers only", widget=GovCheckboxInput())
    tier = ChoiceField("Accredited at least at", "Choose a tier from the list", choices=[
        SelectChoice("", "Any tier or none")] + [
        SelectChoice(str(k), v) for k, v in ACCREDITATION_TIERS.items()])
    area = ChoiceField("Serving", "Choose an area from the list", choices=[])
    type = ChoiceField("Type of supplier", "Choose a type of supplier from the list", choices=[
        SelectChoice("", "Any type")] + [
        SelectChoice(k, v) for k, v in SUPPLIER_TYPE_LABELS.items()])

    def __init__(self, formdata, **kwargs):
        super().__init__(formdata=formdata, **kwargs)
        self.area.choices = [SelectChoice("", "Anywhere")] + [
            SelectChoice(a.code, a.name if a.kind == "authority" else f"{a.name} ({a.kind_label})")
            for a in directory_filter_options()["areas"]]


class InviteForm(PortalForm):
    message = TextAreaField("Message to the supplier (optional)", widget=GovTextArea(),
                            description="For example, why you think they could take part, or "
                                        "who to contact",
                            validators=[Length(max=1000, message="Your message must be 1,000 "
                                                                 "characters or fewer")])
    submit = SubmitField("Send invitation", widget=GovSubmitInput())


def _viewer():
    return services.user_organisation(current_user)


def _opportunity_for_viewer(opportunity_id):
    return services.get_matchable_opportunity(opportunity_id, _viewer(),
                                              current_user.is_site_admin)


def _lot_arg(opportunity):
    lot_id = id_arg("lot")
    return services.get_lot(opportunity, lot_id) if lot_id else None


def _filters(form):
    """MatchFilters from a validated filter form; a bad value is shown on the form."""
    if not form.validate():
        return None
    try:
        return services.build_filters(
            accredited_only=form.accredited.data,
            tier=int(form.tier.data) if form.tier.data else None,
            area=form.area.data or None, org_type=form.type.data or None)
    except DomainError as error:
        attach_error(form, error)
        return None


def _filter_args(form, lot):
    args = {k: v for k, v in (("tier", form.tier.data), ("area", form.area.data),
                              ("type", form.type.data)) if v}
    if form.accredited.data:
        args["accredited"] = "y"
    if lot:
        args["lot"] = lot.id
    return args


# --- An entry's matches -------------------------------------------------------------------------

@bp.get("/forward-plan/<int:opportunity_id>/matches")
@login_required
def matches(opportunity_id):
    viewer = _viewer()
    opportunity = _opportunity_for_viewer(opportunity_id)
    lot = _lot_arg(opportunity)
    form = MatchFilterForm(request.args)
    filters = _filters(form)
    rows = services.find_matches(opportunity, viewer, filters, lot=lot) \
        if filters is not None else []
    return render_template(
        "matching/matches.html", title=f"Suppliers for {opportunity.title}"[:200],
        opportunity=opportunity, lot=lot, form=form if form.errors else None, filter_form=form,
        results=services.paginate(rows, page_arg(), MATCHES_PER_PAGE),
        left_out=getattr(rows, "left_out", {}), few_suppliers=FEW_SUPPLIERS,
        args=_filter_args(form, lot), can_invite=services.can_invite(opportunity, viewer),
        is_owner=viewer is not None and viewer.id == opportunity.organisation_id)


def _invited_message(supplier, emailed):
    if emailed:
        people = "person" if emailed == 1 else "people"
        return (f"Invitation sent to {supplier.name}. We emailed {emailed} {people} there, and "
                "it is on their dashboard.")
    return (f"Invitation recorded for {supplier.name}. Nobody there has a confirmed account "
            "yet, so nobody was emailed: they will see it on their dashboard when someone "
            "joins.")


@bp.route("/forward-plan/<int:opportunity_id>/matches/invite/<int:organisation_id>",
          methods=["GET", "POST"])
@login_required
def invite(opportunity_id, organisation_id):
    opportunity = _opportunity_for_viewer(opportunity_id)
    if services.invites_to_bid(opportunity, _viewer()):
        # A supplier's invitation is to join its bid, a conversation the teaming pages hold.
        return redirect(url_for("consortia.invite", opportunity_id=opportunity.id,
                                organisation_id=organisation_id, **request.args))
    if not services.can_invite(opportunity, _viewer()):
        raise NotFound("Page not found")
    supplier = services.get_supplier(organisation_id)
    lot = _lot_arg(opportunity)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            _invitation, emailed = services.invite_supplier(
                opportunity, supplier, current_user, form.message.data, lot)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(_invited_message(supplier, emailed), "success")
            return redirect(url_for(".matches", opportunity_id=opportunity.id,
                                    **({"lot": lot.id} if lot else {})))
    already = services.existing_invitation(opportunity, supplier, _viewer())
    if form.errors and already:
        # The page says who invited them and when in place of the form.
        flash(first_error(form), "error")
        return redirect(request.full_path)
    return render_template(
        "matching/invite.html", title=f"Invite {supplier.name}"[:200], form=form,
        opportunity=opportunity, supplier=supplier, lot=lot,
        reachable=services.can_receive_invitations(supplier), already=already,
        reasons=services.reasons_for(opportunity, supplier, lot))


# --- The supplier's side ------------------------------------------------------------------------

@bp.get("/dashboard")
@login_required
def dashboard():
    organisation = _viewer()
    if not services.is_supplier(organisation):
        # Buyers and everyone else have their own starting points.
        if organisation is not None and organisation.org_type == "commissioner":
            return redirect(url_for("pipeline.manage"))
        return redirect(url_for("accounts.account"))
    page = services.dashboard(current_user)
    return render_template("matching/dashboard.html", title="Your dashboard",
                           confirm=ConfirmForm(), checklist=_checklist(page["organisation"]),
                           **page)


def _checklist(organisation):
    """The new-profile checklist; whether the organisation is accredited comes from its records."""
    return profile_checklist(organisation, accredited=bool(current_records(organisation)))


@bp.get("/recommendations")
@login_required
def recommendations():
    organisation = services.supplier_for(current_user)
    return render_template(
        "matching/recommendations.html", title="Recommended for you", organisation=organisation,
        results=services.recommendations(organisation, page_arg(), RECOMMENDATIONS_PER_PAGE),
        updated=services.last_computed(organisation),
        updating=services.recommendations_updating(organisation), confirm=ConfirmForm())


@bp.get("/recommendations/dismissed")
@login_required
def dismissed():
    organisation = services.supplier_for(current_user)
    return render_template("matching/dismissed.html", title="Dismissed recommendations",
                           opportunities=services.dismissed(organisation))


def _back_to(default):
    target = request.form.get("next", "")
    return target if target in (url_for(".dashboard"), url_for(".recommendations")) \
        else url_for(default)


@bp.post("/recommendations/<int:opportunity_id>/dismiss")
@login_required
def dismiss(opportunity_id):
    if ConfirmForm().validate_on_submit():
        opportunity = services.dismiss(current_user, opportunity_id)
        flash(f"'{opportunity.title}' will not be recommended to your organisation again. "
              "You can bring it back from the list of dismissed recommendations.", "success")
    return redirect(_back_to(".recommendations"))


@bp.post("/recommendations/<int:opportunity_id>/restore")
@login_required
def restore(opportunity_id):
    if ConfirmForm().validate_on_submit():
        services.restore(current_user, opportunity_id)
        flash("The entry can be recommended to your organisation again.", "success")
    return redirect(url_for(".dismissed"))
