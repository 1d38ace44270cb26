"""The forward plan: public pages, the supplier's actions and the buyer's management pages."""
from functools import wraps

from flask import (
    Response, current_app, flash, redirect, render_template, request, url_for,
)
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from portal.core.downloads import send_download
from portal.core.exceptions import DomainError, NotFound
from portal.core.forms import ConfirmForm
from portal.core.routing import page_arg
from portal.organisations.services import area_labels, vocabulary_terms
from portal.pipeline import bp, entry_steps, forms, queries, services, spreadsheet
from portal.pipeline.models import (
    ACCREDITATION_REQUIREMENTS, ACCREDITATION_TIERS, ACTION_LABELS, INTEREST_KINDS, RESERVATIONS,
    SOCIAL_VALUE_THEMES, STATUSES,
)

# Globals rather than context, so the pages' imported macros can use them too.
bp.add_app_template_global(area_labels, "area_labels")
bp.add_app_template_global(services.is_commissioner, "is_commissioner")
bp.add_app_template_global(STATUSES, "pipeline_statuses")


def commissioner_required(view):
    """Only members of a commissioner organisation; anyone else is told the page is missing."""
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not services.is_commissioner(current_user):
            raise NotFound("Page not found")
        return view(*args, **kwargs)
    return wrapper


def owned(view):
    """Load one of the signed-in buyer's own entries; another's is a 404."""
    @wraps(view)
    @login_required
    def wrapper(opportunity_id, **kwargs):
        opportunity = services.get_own_opportunity(opportunity_id, current_user)
        return view(opportunity, **kwargs)
    return wrapper


def _filter_args():
    """Query-string filters, with the 'show only' checkboxes spelled as flags."""
    args = MultiDict(request.args)
    for name in request.args.getlist("options"):
        if name in ("vcse", "consortium"):
            args[name] = "1"
    return args


# --- Public pages -------------------------------------------------------------------------------

@bp.get("/forward-plan")
def index():
    submitted = queries.submitted_plan_filters(request.args)
    if submitted is not None:  # the filter form: show the list at its own address
        return redirect(url_for(".index", **submitted))
    args = _filter_args()
    listing = queries.browse_plan(args, page_arg(), current_app.config["PER_PAGE"])
    form = forms.PlanFilterForm(args, listing.options, listing.query.effective_sort)
    for error in listing.errors:
        forms.attach_error(form, error)
    return render_template("pipeline/index.html", title="Forward procurement plan", form=form,
                           listing=listing, query=listing.query, results=listing.results)


@bp.get("/forward-plan/timeline")
def timeline():
    args = _filter_args()
    query, errors = queries._lenient_query(args)
    months = queries.timeline(query)
    form = forms.PlanFilterForm(args, queries.filter_options(query))
    for error in errors:
        forms.attach_error(form, error)
    return render_template("pipeline/timeline.html", title="Forward plan: the next 18 months",
                           months=months, form=form, query=query)


@bp.get("/forward-plan/feed.atom")
def feed():
    body = render_template("pipeline/feed.xml", entries=queries.feed_entries())
    return Response(body, mimetype="application/atom+xml")


@bp.get("/forward-plan/<int:opportunity_id>")
def show(opportunity_id):
    opportunity = services.get_public_opportunity(opportunity_id, current_user)
    return render_template(
        "pipeline/show.html", title=opportunity.title, opportunity=opportunity,
        history=queries.history(opportunity),
        interest=services.current_interest(opportunity, current_user),
        my_questions=services.my_questions(opportunity, current_user),
        can_take_part=services.can_take_part(current_user),
        can_manage=services.can_manage(current_user, opportunity))


@bp.get("/forward-plan/<int:opportunity_id>/documents/<int:document_id>")
def document(opportunity_id, document_id):
    found, stored = services.document_for_download(opportunity_id, document_id, current_user)
    response = send_download(stored, found.content_type, found.original_name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _supplier_opportunity(opportunity_id):
    opportunity = services.get_public_opportunity(opportunity_id, current_user)
    if not services.can_take_part(current_user):
        raise NotFound("Page not found")
    return opportunity


@bp.route("/forward-plan/<int:opportunity_id>/questions/new", methods=["GET", "POST"])
@login_required
def ask(opportunity_id):
    opportunity = _supplier_opportunity(opportunity_id)
    form = forms.QuestionForm()
    if form.validate_on_submit():
        try:
            services.ask_question(opportunity, form.question.data, current_user)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash("Your question has been sent to the buyer. If they publish an answer it will "
                  "appear on this page without your organisation's name.", "success")
            return redirect(url_for(".show", opportunity_id=opportunity.id))
    return render_template("pipeline/ask.html", title="Ask a question", form=form,
                           opportunity=opportunity)


@bp.route("/forward-plan/<int:opportunity_id>/interest", methods=["GET", "POST"])
@login_required
def interest(opportunity_id):
    opportunity = _supplier_opportunity(opportunity_id)
    current = services.current_interest(opportunity, current_user)
    form = forms.InterestForm(obj=current if current and current.is_active else None)
    if form.validate_on_submit():
        try:
            services.express_interest(opportunity, current_user, form.kind.data, form.note.data)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash("Your interest is registered. The buyer can now see it.", "success")
            return redirect(url_for(".show", opportunity_id=opportunity.id))
    return render_template("pipeline/interest.html", title="Register your interest", form=form,
                           opportunity=opportunity)


@bp.post("/forward-plan/<int:opportunity_id>/interest/withdraw")
@login_required
def withdraw_interest(opportunity_id):
    opportunity = _supplier_opportunity(opportunity_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.withdraw_interest(opportunity, current_user)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash("Your interest has been withdrawn", "success")
    return redirect(url_for(".show", opportunity_id=opportunity.id))


@bp.get("/forward-plan/my-interests")
@login_required
def my_interests():
    if not services.can_take_part(current_user):
        raise NotFound("Page not found")
    return render_template("pipeline/my_interests.html", title="Your interests",
                           interests=services.my_interests(current_user))


# --- The buyer's plan ---------------------------------------------------------------------------

@bp.get("/forward-plan/manage")
@commissioner_required
def manage():
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    org = current_user.organisation
    return render_template("pipeline/manage.html", title="Your forward plan", org=org,
                           results=queries.own_plan(org, status, page_arg()),
                           counts=queries.plan_counts(org), status=status)


FIELD_TARGETS = {"closing_at": "closing_date", "question_deadline": "question_date",
                 "social_value": "sv_economic_inequality", "winners": "winner_1_name"}


def _attach(form, error):
    """Show a service's error next to the form field it is about."""
    target = FIELD_TARGETS.get(error.field, error.field)
    forms.attach_error(form, DomainError(error.message,
                                         field=target if target in form._fields else None))


# --- Adding and changing an entry, one page of questions at a time ------------------------------

PAGES = tuple(forms.ENTRY_PAGES)


def editable(view):
    """Load one of the buyer's own entries that can still change; another's is a 404, and a
    finished one sends the buyer back to its page, told why."""
    @wraps(view)
    @login_required
    def wrapper(opportunity_id, **kwargs):
        try:
            opportunity = entry_steps.editable_entry(opportunity_id, current_user)
        except NotFound:
            raise
        except DomainError as error:
            flash(error.message, "error")
            return redirect(url_for(".manage_entry", opportunity_id=opportunity_id))
        return view(opportunity, **kwargs)
    return wrapper


@bp.route("/forward-plan/manage/new", methods=["GET", "POST"])
@commissioner_required
def new():
    """The old one-page form's address: the questions now start on their first page."""
    return redirect(url_for(".entry_start"))


@bp.route("/forward-plan/manage/<int:opportunity_id>/edit", methods=["GET", "POST"])
@owned
def edit(opportunity):
    """The old one-page form's address: an entry's answers are now summed up on one page."""
    return redirect(url_for(".entry_check", opportunity_id=opportunity.id))


def _page_form(slug, opportunity=None):
    if slug == "categories":
        return forms.CategoriesPage(opportunity,
                                    client_groups=vocabulary_terms()["client_group"])
    return forms.ENTRY_PAGES[slug](opportunity)


def _saved(form):
    """Whether the page was sent to be saved (not to search) and its answers are valid."""
    return not getattr(form, "searching", False) and form.validate_on_submit()


def _after_page(opportunity, form):
    """The next page; check-your-answers after the last page or a change made from there."""
    if form.later.data:
        flash("Your answers are saved. You can carry on from here whenever you like.", "success")
        return redirect(url_for(".manage_entry", opportunity_id=opportunity.id))
    if request.args.get("then") == "close":  # came to change the closing date
        return redirect(url_for(".move", opportunity_id=opportunity.id, status="evaluation"))
    position = PAGES.index(form.SLUG)
    if request.args.get("change") or position == len(PAGES) - 1:
        return redirect(url_for(".entry_check", opportunity_id=opportunity.id))
    return redirect(url_for(".entry_page", opportunity_id=opportunity.id,
                            page=PAGES[position + 1]))


def _back_link(opportunity, slug):
    if opportunity is None:
        return url_for(".manage")
    if request.args.get("then") == "close":
        return url_for(".move", opportunity_id=opportunity.id, status="evaluation")
    if request.args.get("change"):
        return url_for(".entry_check", opportunity_id=opportunity.id)
    position = PAGES.index(slug)
    if position == 0:
        return url_for(".manage_entry", opportunity_id=opportunity.id)
    return url_for(".entry_page", opportunity_id=opportunity.id, page=PAGES[position - 1])


def _render_page(form, opportunity):
    picker = None
    if form.SLUG == "categories":
        picker = entry_steps.category_choices(form.cpv_q.data, form.main_cpv_code.data)
    return render_template(
        f"pipeline/entry/{form.SLUG.replace('-', '_')}.html", title=form.TITLE, form=form,
        opportunity=opportunity, picker=picker, back=_back_link(opportunity, form.SLUG),
        number=PAGES.index(form.SLUG) + 1, pages=len(PAGES), themes=SOCIAL_VALUE_THEMES)


@bp.route("/forward-plan/manage/new/about", methods=["GET", "POST"])
@commissioner_required
def entry_start():
    form = forms.AboutPage()
    if _saved(form):
        try:
            created = entry_steps.start_entry(current_user.organisation, form.page_data(),
                                              current_user)
        except DomainError as error:
            _attach(form, error)
        else:
            return _after_page(created, form)
    return _render_page(form, None)


@bp.route("/forward-plan/manage/<int:opportunity_id>/entry/<page>", methods=["GET", "POST"])
@editable
def entry_page(opportunity, page):
    if page not in forms.ENTRY_PAGES:
        raise NotFound("Page not found")
    form = _page_form(page, opportunity)
    if _saved(form):
        try:
            entry_steps.save_entry_page(opportunity, form.page_data(), current_user)
        except DomainError as error:
            _attach(form, error)
        else:
            return _after_page(opportunity, form)
    return _render_page(form, opportunity)


@bp.route("/forward-plan/manage/<int:opportunity_id>/entry/check", methods=["GET", "POST"])
@editable
def entry_check(opportunity):
    form = ConfirmForm(submit_label="Save draft")
    if opportunity.status == "draft" and form.validate_on_submit():
        flash("Draft saved. Check it, then publish it in the forward plan.", "success")
        return redirect(url_for(".manage_entry", opportunity_id=opportunity.id))
    return render_template("pipeline/entry/check.html", title="Check your answers", form=form,
                           opportunity=opportunity, flags=forms.FLAGS, reservations=RESERVATIONS,
                           tiers=ACCREDITATION_TIERS, requirements=ACCREDITATION_REQUIREMENTS)


@bp.get("/forward-plan/manage/category-matches")
@commissioner_required
def category_matches():
    """The picker's matches as the buyer types (the page's script asks for them)."""
    chosen, matches = entry_steps.category_choices(request.args.get("q", "")[:200],
                                                   request.args.get("chosen"))
    return render_template("pipeline/entry/_category_matches.html", chosen=chosen,
                           matches=matches, q=request.args.get("q", "").strip()[:200])


@bp.get("/forward-plan/manage/<int:opportunity_id>")
@owned
def manage_entry(opportunity):
    return render_template(
        "pipeline/manage_entry.html", title=opportunity.title, opportunity=opportunity,
        moves=services.allowed_moves(opportunity), action_labels=ACTION_LABELS,
        summary=services.interest_summary(opportunity), history=queries.history(opportunity),
        pending=[q for q in opportunity.questions if q.status == "pending"],
        confirm=ConfirmForm())


STAGE_FORMS = {
    "market_engagement": forms.MarketEngagementForm,
    "open": forms.OpenForm,
    "cancelled": forms.ReasonForm,
    "withdrawn": forms.ReasonForm,
}


@bp.route("/forward-plan/manage/<int:opportunity_id>/stage/<status>", methods=["GET", "POST"])
@owned
def move(opportunity, status):
    if status not in services.allowed_moves(opportunity):
        flash(opportunity._refusal(opportunity.status, status) if status in STATUSES
              else "Choose a stage from the list", "error")
        return redirect(url_for(".manage_entry", opportunity_id=opportunity.id))
    form = STAGE_FORMS.get(status, forms.NoDetailsForm)(obj=opportunity)
    if hasattr(form, "load_closing") and not form.is_submitted():
        form.load_closing(opportunity)
    if form.validate_on_submit():
        try:
            services.change_status(opportunity, status, current_user, form.stage_data())
        except DomainError as error:
            if FIELD_TARGETS.get(error.field, error.field) not in form._fields:
                flash(error.message, "error")
                return redirect(url_for(".manage_entry", opportunity_id=opportunity.id))
            _attach(form, error)
        else:
            flash(f"{opportunity.title}: {STATUSES[status].lower()}", "success")
            return redirect(url_for(".manage_entry", opportunity_id=opportunity.id))
    return render_template("pipeline/move.html", title=ACTION_LABELS[status], form=form,
                           opportunity=opportunity, status=status)


# --- Lots ---------------------------------------------------------------------------------------

@bp.route("/forward-plan/manage/<int:opportunity_id>/lots/new", methods=["GET", "POST"])
@owned
def lot_new(opportunity):
    form = forms.LotForm()
    if form.validate_on_submit():
        try:
            lot = services.add_lot(opportunity, form.lot_data(), current_user)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash(f"Lot {lot.number} added", "success")
            return redirect(url_for(".manage_entry", opportunity_id=opportunity.id))
    return render_template("pipeline/lot.html", title="Add a lot", form=form,
                           opportunity=opportunity, lot=None)


@bp.route("/forward-plan/manage/<int:opportunity_id>/lots/<int:lot_id>/edit",
          methods=["GET", "POST"])
@owned
def lot_edit(opportunity, lot_id):
    lot = services.get_lot(opportunity, lot_id)
    form = forms.LotForm()
    if not form.is_submitted():
        form.load(lot)
    if form.validate_on_submit():
        try:
            services.update_lot(opportunity, lot_id, form.lot_data(), current_user)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash(f"Lot {lot.number} saved", "success")
            return redirect(url_for(".manage_entry", opportunity_id=opportunity.id))
    return render_template("pipeline/lot.html", title=f"Edit lot {lot.number}", form=form,
                           opportunity=opportunity, lot=lot, confirm=ConfirmForm())


@bp.post("/forward-plan/manage/<int:opportunity_id>/lots/<int:lot_id>/remove")
@owned
def lot_remove(opportunity, lot_id):
    if ConfirmForm().validate_on_submit():
        try:
            lot = services.remove_lot(opportunity, lot_id, current_user)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(f"Lot {lot.number} removed", "success")
    return redirect(url_for(".manage_entry", opportunity_id=opportunity.id))


# --- Documents ----------------------------------------------------------------------------------

@bp.route("/forward-plan/manage/<int:opportunity_id>/documents", methods=["GET", "POST"])
@owned
def documents(opportunity):
    # Refuse oversized uploads before they are read into memory.
    request.max_content_length = services.upload_limit() + 64 * 1024
    form = forms.DocumentForm()
    if form.validate_on_submit():
        try:
            added = services.add_document(opportunity, form.file.data, form.title.data,
                                          current_user)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash(f"Uploaded {added.title}", "success")
            return redirect(url_for(".documents", opportunity_id=opportunity.id))
    return render_template("pipeline/documents.html", title="Documents", form=form,
                           opportunity=opportunity, confirm=ConfirmForm())


@bp.post("/forward-plan/manage/<int:opportunity_id>/documents/<int:document_id>/remove")
@owned
def document_remove(opportunity, document_id):
    if ConfirmForm().validate_on_submit():
        removed = services.remove_document(opportunity, document_id, current_user)
        flash(f"Removed {removed.title}", "success")
    return redirect(url_for(".documents", opportunity_id=opportunity.id))


# --- Questions, interest and award --------------------------------------------------------------

@bp.get("/forward-plan/manage/<int:opportunity_id>/questions")
@owned
def questions(opportunity):
    return render_template("pipeline/questions.html", title="Clarification questions",
                           opportunity=opportunity)


@bp.route("/forward-plan/manage/<int:opportunity_id>/questions/<int:question_id>/answer",
          methods=["GET", "POST"])
@owned
def answer(opportunity, question_id):
    question = services.get_question(opportunity, question_id)
    form = forms.AnswerForm()
    if not form.is_submitted():
        form.published_question.data = question.question
    if form.validate_on_submit():
        try:
            services.answer_question(opportunity, question_id, form.published_question.data,
                                     form.answer.data, current_user)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash("Answer published on the entry's public page", "success")
            return redirect(url_for(".questions", opportunity_id=opportunity.id))
    return render_template("pipeline/answer.html", title="Answer a question", form=form,
                           opportunity=opportunity, question=question)


@bp.get("/forward-plan/manage/<int:opportunity_id>/interest")
@owned
def interests(opportunity):
    return render_template("pipeline/interests.html", title="Who is interested",
                           opportunity=opportunity, summary=services.interest_summary(opportunity),
                           kinds=INTEREST_KINDS)


@bp.route("/forward-plan/manage/<int:opportunity_id>/award", methods=["GET", "POST"])
@owned
def award(opportunity):
    form = forms.AwardForm()
    if form.validate_on_submit():
        try:
            services.record_award(opportunity, form.award_data(), current_user)
        except DomainError as error:
            _attach(form, error)
        else:
            flash("Award recorded and shown on the public page", "success")
            return redirect(url_for(".manage_entry", opportunity_id=opportunity.id))
    return render_template("pipeline/award.html", title="Record the award", form=form,
                           opportunity=opportunity, slots=range(1, forms.WINNER_SLOTS + 1),
                           interested=[i.organisation for i in opportunity.active_interests()])


# --- Spreadsheets -------------------------------------------------------------------------------

@bp.route("/forward-plan/manage/import", methods=["GET", "POST"])
@commissioner_required
def import_start():
    request.max_content_length = spreadsheet.MAX_IMPORT_BYTES + 64 * 1024
    form = forms.ImportForm()
    if form.validate_on_submit():
        publish = form.publish.data == "yes"
        try:
            token, preview = spreadsheet.start_import(current_user.organisation, form.file.data,
                                                      publish)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            return render_template("pipeline/import_preview.html", title="Check your import",
                                   preview=preview, token=token, publish=publish,
                                   confirm=ConfirmForm())
    return render_template("pipeline/import.html", title="Import a forward plan", form=form,
                           columns=spreadsheet.COLUMNS)


@bp.post("/forward-plan/manage/import/confirm")
@commissioner_required
def import_confirm():
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for(".import_start"))
    token = request.form.get("token", "")
    publish = request.form.get("publish") == "yes"
    try:
        preview, created, updated = spreadsheet.finish_import(
            current_user.organisation, token, current_user, publish)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for(".import_start"))
    return render_template("pipeline/import_done.html", title="Import complete", preview=preview,
                           created=created, updated=updated, token=token, publish=publish)


@bp.get("/forward-plan/manage/import/<token>/report.csv")
@commissioner_required
def import_report(token):
    try:
        data = spreadsheet.import_report(current_user.organisation, token)
    except DomainError:
        raise NotFound("Import report not found") from None
    return _download(data, "text/csv", "import-problems.csv")


def _download(data, mimetype, filename):
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/forward-plan/manage/import/template.<fmt>")
@commissioner_required
def import_template(fmt):
    headers, rows = spreadsheet.template_headers(), spreadsheet.template_rows()
    if fmt == "csv":
        return _download(spreadsheet.to_csv(headers, rows), "text/csv",
                         "forward-plan-template.csv")
    if fmt == "xlsx":
        return _download(spreadsheet.to_xlsx(headers, rows, guidance=True), XLSX,
                         "forward-plan-template.xlsx")
    raise NotFound("Page not found")


@bp.get("/forward-plan/manage/export.<fmt>")
@commissioner_required
def export(fmt):
    org = current_user.organisation
    rows = [spreadsheet.export_row(o) for o in spreadsheet.plan_for_export(org)]
    headers = spreadsheet.export_headers()
    if fmt == "csv":
        return _download(spreadsheet.to_csv(headers, rows), "text/csv", "forward-plan.csv")
    if fmt == "xlsx":
        return _download(spreadsheet.to_xlsx(headers, rows), XLSX, "forward-plan.xlsx")
    raise NotFound("Page not found")
