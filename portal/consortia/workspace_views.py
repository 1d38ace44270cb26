"""The consortium workspace: the user's teams, forming one, and a team's members, shares,
coverage, fair-terms charter, lead, messages and printable pack. Only the team's members see
it; only its lead changes the shares, the charter and who leads."""
from functools import wraps

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from portal.accreditation.services import current_level, current_standing
from portal.consortia import bp, services
from portal.consortia import workspace_forms as forms
from portal.consortia.coverage import coverage
from portal.core.downloads import send_download
from portal.core.exceptions import DomainError, NotFound
from portal.core.forms import ConfirmForm
from portal.core.routing import id_arg
from portal.organisations.forms import attach_error
from portal.pipeline.models import uk_now

# A global rather than context: the buyer's list of interests (a pipeline page) shows the
# members of a team that expressed interest, without the pipeline importing consortia.
bp.add_app_template_global(services.consortia_for_interests, "consortia_for_interests")

TRACK_RECORD_ITEMS = 5


def member_only(view):
    """Load a consortium the user's organisation belongs to; any other is a 404."""
    @wraps(view)
    @login_required
    def wrapper(consortium_id, **kwargs):
        return view(services.get_consortium(consortium_id, current_user), **kwargs)
    return wrapper


def lead_only(view):
    """As member_only, and only for the lead: other members are told the page is missing."""
    @wraps(view)
    @member_only
    def wrapper(team, **kwargs):
        if not is_lead(team):
            raise NotFound("Page not found")
        return view(team, **kwargs)
    return wrapper


def is_lead(team):
    return team.lead_organisation_id == current_user.organisation_id


def _to_workspace(team, anchor=None):
    return redirect(url_for(".workspace", consortium_id=team.id, _anchor=anchor))


# --- The user's teams ---------------------------------------------------------------------------

@bp.get("/consortia/teams")
@login_required
def teams():
    organisation = services.supplier_of(current_user)
    if organisation is None:
        raise NotFound("Page not found")
    return render_template("consortia/team/teams.html", title="Your teams",
                           organisation=organisation, teams=services.my_consortia(organisation))


def _lot(entry):
    lot_id = id_arg("lot")
    if lot_id is None:
        return None
    lot = next((lot for lot in entry.lots if lot.id == lot_id), None)
    if lot is None:
        raise NotFound("Lot not found")
    return lot


@bp.route("/forward-plan/<int:opportunity_id>/teams/new", methods=["GET", "POST"])
@login_required
def new_team(opportunity_id):
    entry = services.get_entry(opportunity_id)
    organisation = services.supplier_of(current_user)
    if organisation is None:
        raise NotFound("Page not found")
    lot = _lot(entry)
    form = forms.TeamForm(data={"name": f"{organisation.name}: {entry.title}"[:200]})
    if form.validate_on_submit():
        try:
            team = services.create_consortium(entry, current_user, form.name.data, lot=lot)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(f"{team.name} is formed. Invite partners to join it, then agree the shares "
                  "and the fair terms.", "success")
            return _to_workspace(team)
    return render_template("consortia/team/new.html", title="Form a team", form=form,
                           entry=entry, lot=lot,
                           existing=services.lead_team(entry, organisation, lot))


# --- The workspace ------------------------------------------------------------------------------

def invite_url(team, organisation):
    """Where the lead invites an organisation to the team's entry, if the teaming board offers
    that page."""
    lot = {"lot": team.lot_id} if team.lot_id else {}
    try:
        return url_for(".invite", opportunity_id=team.opportunity_id,
                       organisation_id=organisation.id, **lot)
    except BuildError:
        return None


def _waiting_invitations(team):
    """Invitations the lead has sent for the team's entry (or lot) that wait for an answer."""
    return [i for i in services.invitations_sent(team.lead)
            if i.is_waiting and i.opportunity_id == team.opportunity_id
            and i.lot_id == team.lot_id]


def _render_workspace(team, form, file_form=None):
    lead = is_lead(team)
    waiting = _waiting_invitations(team) if lead else []
    return render_template(
        "consortia/team/workspace.html", title=team.name, team=team, form=form,
        is_lead=lead, me=team.member_for(current_user.organisation_id),
        levels={m.id: current_level(m.organisation) for m in team.members},
        needs=coverage(team), invite_url=invite_url, waiting=waiting,
        invited={i.organisation_id for i in waiting},
        post=services.own_post(team.opportunity, team.lead, team.lot) if lead else None,
        file_form=file_form or forms.FileForm(formdata=None), remove_form=ConfirmForm())


@bp.get("/consortia/<int:consortium_id>")
@member_only
def workspace(team):
    return _render_workspace(team, forms.MessageForm())


# --- Files shared with the team -----------------------------------------------------------------

@bp.post("/consortia/<int:consortium_id>/files")
@member_only
def share_file(team):
    form = forms.FileForm()
    upload = form.upload() if form.validate_on_submit() else None
    if upload is None:
        if not form.errors:
            attach_error(form, DomainError("Choose a file to share", field="file"))
        return _render_workspace(team, forms.MessageForm(formdata=None), file_form=form)
    try:
        shared = services.share_file(team, current_user, *upload)
    except DomainError as error:
        attach_error(form, error)
        return _render_workspace(team, forms.MessageForm(formdata=None), file_form=form)
    flash(f"{shared.filename} shared with the team. The other members have been emailed.",
          "success")
    return _to_workspace(team, "files")


@bp.get("/consortia/<int:consortium_id>/files/<int:file_id>")
@member_only
def download_file(team, file_id):
    shared, path, mimetype = services.team_file(team, file_id)
    return send_download(path, mimetype, shared.filename)


@bp.post("/consortia/<int:consortium_id>/files/<int:file_id>/remove")
@member_only
def remove_file(team, file_id):
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.remove_file(team, current_user, file_id)
        except NotFound:
            raise
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash("File removed", "success")
    return _to_workspace(team, "files")


@bp.post("/consortia/<int:consortium_id>/messages")
@member_only
def post_message(team):
    form = forms.MessageForm()
    if form.validate_on_submit():
        try:
            services.post_message(team, current_user, form.body.data)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash("Message sent. The other members have been emailed.", "success")
            return _to_workspace(team, "messages")
    return _render_workspace(team, form)


@bp.route("/consortia/<int:consortium_id>/shares", methods=["GET", "POST"])
@lead_only
def shares(team):
    form = forms.shares_form(team.members)
    if form.validate_on_submit():
        try:
            services.set_shares(team, current_user, form.shares(), form.delivers(),
                                form.roles())
        except DomainError as error:
            attach_error(form, DomainError(error.message, form.field_for(error.field)))
        else:
            flash("Shares saved", "success")
            return _to_workspace(team, "shares")
    return render_template("consortia/team/shares.html", title="Who does what",
                           team=team, form=form)


# --- The fair-terms charter ---------------------------------------------------------------------

def _charter_form(team):
    if not team.has_charter:
        return forms.CharterForm(data={"payment_days": 30})
    return forms.CharterForm(obj=team)


@bp.route("/consortia/<int:consortium_id>/charter", methods=["GET", "POST"])
@member_only
def charter(team):
    editing = is_lead(team) and (request.method == "POST" or not team.has_charter or
                                 request.args.get("change") == "1")
    if request.method == "POST" and not is_lead(team):
        raise NotFound("Page not found")
    form = _charter_form(team) if editing else None
    if form is not None and form.validate_on_submit():
        try:
            services.write_charter(team, current_user, **form.terms())
        except DomainError as error:
            attach_error(form, error)
        else:
            flash("Terms saved. We have asked the other members to confirm them.", "success")
            return redirect(url_for(".charter", consortium_id=team.id))
    return render_template("consortia/team/charter.html", title="Fair terms for the team",
                           team=team, form=form, is_lead=is_lead(team),
                           me=team.member_for(current_user.organisation_id))


@bp.post("/consortia/<int:consortium_id>/charter/confirm")
@member_only
def confirm_charter(team):
    if ConfirmForm().validate_on_submit():
        try:
            services.confirm_charter(team, current_user)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash("You have confirmed the terms for your organisation", "success")
    return redirect(url_for(".charter", consortium_id=team.id))


# --- Who leads, who leaves ----------------------------------------------------------------------

@bp.route("/consortia/<int:consortium_id>/lead", methods=["GET", "POST"])
@lead_only
def hand_over(team):
    others = [m for m in team.members if m.organisation_id != team.lead_organisation_id]
    form = forms.HandOverForm(others)
    if others and form.validate_on_submit():
        chosen = team.member_for(int(form.member.data))
        try:
            services.hand_over_lead(team, current_user, chosen.organisation_id)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(f"{chosen.organisation.name} now leads the team", "success")
            return _to_workspace(team)
    return render_template("consortia/team/hand_over.html", title="Hand over the lead",
                           team=team, form=form, others=others)


@bp.route("/consortia/<int:consortium_id>/leave", methods=["GET", "POST"])
@member_only
def leave(team):
    form = ConfirmForm(submit_label="Leave the team")
    if form.validate_on_submit():
        try:
            services.leave_consortium(team, current_user)
        except DomainError as error:
            flash(error.message, "error")
            return _to_workspace(team)
        flash(f"Your organisation has left {team.name}", "success")
        return redirect(url_for(".teams"))
    return render_template("consortia/team/leave.html", title=f"Leave {team.name}"[:200],
                           team=team, confirm=form, is_lead=is_lead(team))


# --- Telling the buyer --------------------------------------------------------------------------

@bp.route("/consortia/<int:consortium_id>/interest", methods=["GET", "POST"])
@lead_only
def express_interest(team):
    if team.interest_id is not None or not team.opportunity.interest_open:
        flash("The buyer already knows this team will bid" if team.interest_id else
              "This entry is no longer taking expressions of interest", "error")
        return _to_workspace(team)
    form = forms.TeamInterestForm()
    if form.validate_on_submit():
        try:
            services.express_interest_as_consortium(team, current_user, form.note.data)
        except DomainError as error:
            attach_error(form, error)
        else:
            flash("The buyer can now see that you will bid leading this team, and who is in "
                  "it.", "success")
            return _to_workspace(team)
    return render_template("consortia/team/interest.html",
                           title="Tell the buyer you will bid as this team", team=team,
                           form=form)


# --- The pack -----------------------------------------------------------------------------------

@bp.get("/consortia/<int:consortium_id>/pack")
@member_only
def pack(team):
    download = request.args.get("download") == "html"
    body = render_template(
        "consortia/team/pack.html", title=f"Consortium pack: {team.name}"[:200], team=team,
        standings={m.id: current_standing(m.organisation) for m in team.members},
        needs=coverage(team, suggest=False), track_record_items=TRACK_RECORD_ITEMS,
        prepared_at=uk_now(), download=download)
    if not download:
        return body
    return body, 200, {"Content-Type": "text/html; charset=utf-8",
                       "Content-Disposition":
                           f"attachment; filename=consortium-{team.id}-pack.html"}
