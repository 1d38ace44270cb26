"""Accreditation pages: the public register, applying, assessing, deciding and running schemes."""
from functools import wraps

from flask import (
    Response, abort, current_app, flash, redirect, render_template, request, url_for,
)
from flask_login import current_user, login_required

from portal.accreditation import bp, certificates, forms, register, schemes, services
from portal.accreditation.evidence import KINDS, max_bytes
from portal.core.downloads import send_download
from portal.core.exceptions import DomainError, NotFound
from portal.core.forms import ConfirmForm, first_error
from portal.core.routing import id_arg, page_arg
from portal.organisations.services import area_labels

# --- public -------------------------------------------------------------------------------------

@bp.get("/accredited-providers")
def register_list():
    listing = register.browse_register(request.args, page_arg(), current_app.config["PER_PAGE"])
    form = forms.RegisterFilterForm(request.args, listing.options)
    for error in listing.errors:
        forms.attach_error(form, error)
    return render_template("accreditation/register.html", title="Accredited providers",
                           form=form, listing=listing, query=listing.query,
                           results=listing.results, area_labels=area_labels)


@bp.get("/accredited-providers.csv")
def register_csv():
    query = register.parse_register_query(request.args)
    return Response(register.register_csv(query), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=accredited-providers.csv"})


@bp.get("/accreditation/schemes")
def scheme_list():
    return render_template("accreditation/schemes.html", title="Accreditation schemes",
                           schemes=schemes.list_schemes())


@bp.get("/accreditation/schemes/<slug>")
def scheme_detail(slug):
    scheme = schemes.get_scheme(slug)
    number = id_arg("version")
    version = next((v for v in scheme.versions if v.number == number), scheme.current)
    return render_template("accreditation/scheme.html", title=scheme.name, scheme=scheme,
                           version=version)


# --- the applicant ------------------------------------------------------------------------------

def applicant(view):
    """Load the signed-in organisation's own application; anyone else gets a 404."""
    @wraps(view)
    @login_required
    def wrapper(app_id, **kwargs):
        return view(services.get_own_application(app_id, current_user), **kwargs)
    return wrapper


@bp.get("/accreditation")
@login_required
def dashboard():
    if services.is_body_user(current_user) and not services.can_apply(current_user):
        return redirect(url_for(".queue"))
    org = current_user.organisation
    return render_template(
        "accreditation/dashboard.html", title="Your accreditation", org=org,
        can_apply=services.can_apply(current_user),
        ask_admins=services.admins_to_ask(current_user),
        applications=services.open_applications(org) if org else [],
        records=services.records_for(org) if org else [])


@bp.route("/accreditation/apply", methods=["GET", "POST"])
@login_required
def apply():
    services.require_applicant_admin(current_user)
    open_schemes = schemes.list_schemes(open_only=True)
    form = forms.SchemeChoiceForm(open_schemes)
    if form.validate_on_submit():
        return redirect(url_for(".apply_level", slug=form.scheme.data))
    return render_template("accreditation/apply_scheme.html", title="Choose a scheme",
                           form=form, schemes=open_schemes)


@bp.route("/accreditation/apply/<slug>", methods=["GET", "POST"])
@login_required
def apply_level(slug):
    services.require_applicant_admin(current_user)
    scheme = schemes.get_scheme(slug)
    org = current_user.organisation
    suggested = services.suggest_level(org, scheme.current)
    form = forms.LevelChoiceForm(scheme.current, suggested)
    if form.validate_on_submit():
        try:
            application = services.start_application(org, scheme, form.level.data, current_user)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash("Application started. Work through the standards in any order.", "success")
            return redirect(url_for(".application", app_id=application.id))
    return render_template("accreditation/apply_level.html", title="Choose a level", form=form,
                           scheme=scheme, version=scheme.current, suggested=suggested, org=org)


@bp.get("/accreditation/applications/<int:app_id>")
@applicant
def application(application):
    return render_template("accreditation/application.html", title="Your application",
                           application=application, tasks=services.task_list(application),
                           missing=services.missing_answers(application),
                           passported=services.passported(application))


@bp.route("/accreditation/applications/<int:app_id>/standards/<int:standard_id>",
          methods=["GET", "POST"])
@applicant
def answer(application, standard_id):
    standard = services.standard_of(application, standard_id)
    current = application.answer_for(standard)
    form = forms.AnswerForm(current, schemes.marks_for(standard))
    if application.is_editable and form.validate_on_submit():
        try:
            services.save_answer(application, standard.id, form.answer_data(), form.upload(),
                                 current_user)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash(f"Saved your answer to {standard.label}", "success")
            if form.save_later.data:
                return redirect(url_for(".application", app_id=application.id))
            return redirect(_next_task(application, standard))
    return render_template("accreditation/answer.html", title=standard.title, form=form,
                           application=application, standard=standard,
                           evidence=application.evidence_for(standard),
                           remove_form=ConfirmForm(), kinds=KINDS,
                           max_mb=max_bytes() // (1024 * 1024),
                           profile=certificates.profile_certificates(application, standard))


@bp.post("/accreditation/applications/<int:app_id>/standards/<int:standard_id>/certificate")
@applicant
def use_certificate(application, standard_id):
    form = forms.UseCertificateForm()
    if form.validate_on_submit():
        try:
            item = certificates.use_credential(application, standard_id, form.credential.data,
                                               current_user)
        except NotFound:
            raise
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(f"Added {item.filename} from your profile as evidence", "success")
    return redirect(url_for(".answer", app_id=application.id, standard_id=standard_id))


def _next_task(application, standard):
    missing = [s for s in services.missing_answers(application) if s.id != standard.id]
    if missing:
        return url_for(".answer", app_id=application.id, standard_id=missing[0].id)
    return url_for(".check", app_id=application.id)


@bp.post("/accreditation/applications/<int:app_id>/evidence/<int:evidence_id>/remove")
@applicant
def remove_evidence(application, evidence_id):
    if ConfirmForm().validate_on_submit():
        item = services.remove_evidence(application, evidence_id, current_user)
        flash(f"Removed {item.filename}", "success")
        return redirect(url_for(".answer", app_id=application.id, standard_id=item.standard_id))
    return redirect(url_for(".application", app_id=application.id))


@bp.route("/accreditation/applications/<int:app_id>/check", methods=["GET", "POST"])
@applicant
def check(application):
    form = forms.SubmitForm()
    if application.is_editable and form.validate_on_submit():
        try:
            services.submit_application(application, current_user, form.response.data)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            return redirect(url_for(".submitted", app_id=application.id))
    return render_template("accreditation/check.html", title="Check your answers", form=form,
                           application=application, tasks=services.task_list(application),
                           missing=services.missing_answers(application))


@bp.get("/accreditation/applications/<int:app_id>/submitted")
@applicant
def submitted(application):
    return render_template("accreditation/submitted.html", title="Application submitted",
                           application=application)


@bp.post("/accreditation/records/<int:record_id>/renew")
@login_required
def renew(record_id):
    record = services.get_own_record(record_id, current_user)
    services.require_applicant_admin(current_user)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for(".dashboard"))
    try:
        application = services.renew(record, current_user)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for(".dashboard"))
    flash("Renewal started. Your previous answers and recent evidence have been copied: "
          "check each one is still right.", "success")
    return redirect(url_for(".application", app_id=application.id))


@bp.get("/accreditation/evidence/<int:evidence_id>")
@login_required
def download(evidence_id):
    item, path = services.get_evidence_for_download(evidence_id, current_user)
    return send_download(path, KINDS[item.kind][1], item.filename)


# --- the accreditation body ----------------------------------------------------------------------

def body_view(view):
    """Load an application for the board or an assigned assessor; anyone else gets a 404."""
    @wraps(view)
    @login_required
    def wrapper(app_id, **kwargs):
        application, assignment, board = services.get_for_body(app_id, current_user)
        return view(application, assignment, board, **kwargs)
    return wrapper


def file_view(view):
    """Like body_view, and the assessor or board member must have declared no conflict first."""
    @wraps(view)
    @body_view
    def wrapper(application, assignment, board, **kwargs):
        if not services.may_read_file(application, current_user):
            return _to_declaration(application)
        return view(application, assignment, board, **kwargs)
    return wrapper


def _to_declaration(application):
    if services.declaration_of(application, current_user) is None:
        return redirect(url_for(".declare", app_id=application.id))
    abort(404)


@bp.get("/accreditation/assess")
@login_required
def queue():
    if not services.is_body_user(current_user):
        abort(404)
    status = request.args.get("status") or None
    if status not in (None, "submitted", "in_assessment", "more_info", "accredited", "declined"):
        status = None
    return render_template("accreditation/queue.html", title="Accreditation applications",
                           assignments=services.my_assignments(current_user), status=status,
                           pagination=services.board_queue(current_user, status, page_arg()))


@bp.get("/accreditation/assess/<int:app_id>")
@body_view
def assess(application, assignment, board):
    # The board sees who is assessing before declaring; the file itself only afterwards.
    cleared = services.may_read_file(application, current_user)
    if not cleared and (assignment is not None or not board):
        return _to_declaration(application)
    return render_template("accreditation/assess.html", title="Assess application",
                           application=application, assignment=assignment, board=board,
                           comparisons=services.read_file(application, current_user)
                           if cleared else None,
                           declared=services.declaration_of(application, current_user),
                           ready=services.ready_for_decision(application),
                           confirm_form=ConfirmForm())


@bp.route("/accreditation/assess/<int:app_id>/assign", methods=["GET", "POST"])
@body_view
def assign(application, assignment, board):
    if not board:
        abort(404)
    form = forms.AssignForm(services.assessors_for(application.version.scheme))
    if form.validate_on_submit():
        try:
            new = services.assign_assessors(application, form.assessors.data, current_user)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash(f"Assigned {len(new)} assessor{'s' if len(new) != 1 else ''}", "success")
            return redirect(url_for(".assess", app_id=application.id))
    return render_template("accreditation/assign.html", title="Assign assessors", form=form,
                           application=application)


@bp.route("/accreditation/assess/<int:app_id>/declare", methods=["GET", "POST"])
@body_view
def declare(application, assignment, board):
    if services.declaration_of(application, current_user) is not None:
        return redirect(url_for(".assess", app_id=application.id))
    form = forms.ConflictForm()
    if form.validate_on_submit():
        try:
            services.declare(application, form.has_conflict.data == "yes", form.details.data,
                             current_user)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            return _after_declaring(application, assignment)
    return render_template("accreditation/declare.html", title="Declare any conflict of interest",
                           form=form, application=application, assignment=assignment)


def _after_declaring(application, assignment):
    if not services.declaration_of(application, current_user):
        return redirect(url_for(".assess", app_id=application.id))
    if assignment is not None:
        flash("Thank you. You have been taken off this application and the board will assign "
              "someone else.", "success")
        return redirect(url_for(".queue"))
    flash("Thank you. You will not see this application's file or take part in its decision.",
          "success")
    return redirect(url_for(".assess", app_id=application.id))


@bp.route("/accreditation/assess/<int:app_id>/standards/<int:standard_id>",
          methods=["GET", "POST"])
@file_view
def review(application, assignment, board, standard_id):
    if assignment is None:
        abort(404)
    standard = services.standard_of(application, standard_id)
    current = assignment.review_for(standard)
    form = forms.ReviewForm(current)
    if form.validate_on_submit():
        try:
            services.save_review(assignment, standard.id, form.review_data(), current_user)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash(f"Saved your verdict on {standard.label}", "success")
            return redirect(url_for(".assess", app_id=application.id, _anchor=standard.code))
    return render_template("accreditation/review.html", title=f"Assess {standard.label}",
                           form=form, application=application, standard=standard,
                           answer=application.answer_for(standard),
                           evidence=application.evidence_for(standard))


@bp.post("/accreditation/assess/<int:app_id>/complete")
@file_view
def complete(application, assignment, board):
    if assignment is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            services.complete_review(assignment, current_user)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash("Your review is complete. The board will make the decision.", "success")
    return redirect(url_for(".assess", app_id=application.id))


@bp.route("/accreditation/assess/<int:app_id>/send-back", methods=["GET", "POST"])
@file_view
def send_back(application, assignment, board):
    form = forms.SendBackForm(application.standards)
    if form.validate_on_submit():
        try:
            services.request_more_info(application, form.message.data, form.standards.data,
                                       current_user)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash("The application has been sent back to the applicant", "success")
            return redirect(url_for(".assess", app_id=application.id))
    return render_template("accreditation/send_back.html", title="Ask for more information",
                           form=form, application=application)


@bp.route("/accreditation/assess/<int:app_id>/decide", methods=["GET", "POST"])
@file_view
def decide(application, assignment, board):
    if not board:
        abort(404)
    form = forms.DecisionForm(application)
    if form.validate_on_submit():
        try:
            services.decide(application, form.outcome.data, form.level.data, form.reasons.data,
                            form.moderation_notes.data, current_user)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash("Decision recorded and the applicant has been told", "success")
            return redirect(url_for(".assess", app_id=application.id))
    return render_template("accreditation/decide.html", title="Decide", form=form,
                           application=application,
                           comparisons=services.compare_reviews(application),
                           ready=services.ready_for_decision(application))


@bp.get("/accreditation/assess/records")
@login_required
def records():
    if not services.is_body_user(current_user):
        abort(404)
    return render_template("accreditation/records.html", title="Accreditations",
                           pagination=services.board_records(current_user, page_arg()))


@bp.route("/accreditation/assess/records/<int:record_id>", methods=["GET", "POST"])
@login_required
def record(record_id):
    record = services.get_record_for_board(record_id, current_user)
    form = forms.RecordStatusForm()
    if form.validate_on_submit():
        try:
            services.change_record_status(record, form.status.data, form.reason.data,
                                          current_user)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash(f"{record.organisation.name} is now {record.status_label.lower()}", "success")
            return redirect(url_for(".record", record_id=record.id))
    if form.errors and record.status not in ("active", "suspended"):
        # A revoked or renewed record's page shows no form to put the message next to.
        flash(first_error(form), "error")
        return redirect(url_for(".record", record_id=record.id))
    return render_template("accreditation/record.html", title="Accreditation", form=form,
                           record=record)


@bp.get("/accreditation/report")
@login_required
def report():
    if not services.is_body_user(current_user):
        abort(404)
    all_schemes = schemes.list_schemes()
    if not all_schemes:
        raise NotFound("No schemes yet")
    chosen = next((s for s in all_schemes if s.slug == request.args.get("scheme")),
                  all_schemes[0])
    options = register.filter_options()
    form = forms.ReportFilterForm(request.args, all_schemes, chosen.current, options["areas"])
    form.scheme.data = chosen.slug
    level = id_arg("level")
    area = request.args.get("area") if request.args.get("area") in {
        a.code for a in options["areas"]} else None
    rows = register.standards_report(chosen, level, area)
    return render_template("accreditation/report.html", title="Standards applicants do not yet meet",
                           form=form, rows=rows, scheme=chosen)


# --- site admin: schemes -------------------------------------------------------------------------

def site_admin(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_site_admin:
            abort(404)
        return view(*args, **kwargs)
    return wrapper


@bp.get("/accreditation/admin/schemes")
@site_admin
def admin_schemes():
    return render_template("accreditation/admin_schemes.html", title="Accreditation schemes",
                           schemes=schemes.list_schemes())


@bp.route("/accreditation/admin/schemes/new", methods=["GET", "POST"])
@site_admin
def admin_new_scheme():
    form = forms.SchemeForm()
    if not form.is_submitted():
        form.document.data = NEW_SCHEME_TEMPLATE
    if form.validate_on_submit():
        try:
            version = schemes.create_scheme(form.document.data, current_user)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash(f"Published {version.label}", "success")
            return redirect(url_for(".scheme_detail", slug=version.scheme.slug))
    return render_template("accreditation/admin_scheme_form.html", title="New scheme", form=form,
                           scheme=None)


@bp.route("/accreditation/admin/schemes/<slug>/edit", methods=["GET", "POST"])
@site_admin
def admin_edit_scheme(slug):
    scheme = schemes.get_scheme(slug)
    form = forms.SchemeForm()
    if not form.is_submitted():
        form.document.data = schemes.to_yaml(scheme.current.source)
    if form.validate_on_submit():
        try:
            version, published = schemes.edit_scheme(scheme, form.document.data, current_user)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash(f"Published {version.label}" if published else "Nothing changed, so no new "
                  "version was published", "success" if published else "info")
            return redirect(url_for(".scheme_detail", slug=scheme.slug))
    return render_template("accreditation/admin_scheme_form.html", title=f"Edit {scheme.name}",
                           form=form, scheme=scheme)


NEW_SCHEME_TEMPLATE = """slug: my-scheme
name: Name of the scheme
summary: What the scheme is for and who it suits.
levels:
  - rank: 1
    name: Level 1
    suits: Who this level suits
    income_bands: [micro, small]
    max_contract_value: 50000
    validity_months: 24
standards:
  - code: S1
    area: Governance
    title: Name of the standard
    from_level: 1
    description: What an organisation must show.
    evidence: Documents that show it.
"""
