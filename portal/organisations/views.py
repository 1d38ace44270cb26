"""Organisation profiles, their editing pages and the directory."""
from functools import wraps

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.core.downloads import send_download
from portal.core.exceptions import DomainError
from portal.core import files
from portal.core.forms import ConfirmForm
from portal.core.routing import page_arg
from portal.organisations import bp, forms, services
from portal.organisations.directory import (
    SORTS, browse_directory, default_directory_sort, standing_of, submitted_filters,
)
from portal.organisations.verification import needs_verification

# A profile's current accreditation, as the search index holds it (see directory.Standing).
bp.add_app_template_global(standing_of, "accreditation_standing")


@bp.app_template_global("admins_to_ask")
def admins_to_ask(org):
    """For a member who may not change `org`'s profile, whom to ask; otherwise None."""
    return services.admins_to_ask(current_user, org)


@bp.app_context_processor
def verification_notice():
    # Pages that only some organisations reach show the notice with one `if`.
    return {"current_org_needs_verification": needs_verification(current_user)}


def editable(view):
    """Load the organisation for its administrators or a site admin. A member of it is told
    whom to ask (403); anyone else gets a 404."""
    @wraps(view)
    @login_required
    def wrapper(org_id, **kwargs):
        org = services.get_editable_organisation(org_id, current_user)
        return view(org, **kwargs)
    return wrapper


# --- Public pages -------------------------------------------------------------------------------

@bp.get("/organisations")
def directory():
    submitted = submitted_filters(request.args, default_directory_sort)
    if submitted is not None:  # the filter form: show the page at its own address
        return redirect(url_for(".directory", **submitted))
    listing = browse_directory(request.args, page_arg(), current_app.config["PER_PAGE"])
    form = forms.DirectoryForm(request.args, SORTS, listing.query.effective_sort)
    for error in listing.errors:
        forms.attach_error(form, error)
    return render_template("organisations/directory.html", title="Find an organisation",
                           form=form, listing=listing, query=listing.query,
                           results=listing.results, area_labels=services.area_labels)


@bp.get("/organisations/<int:org_id>")
def show(org_id):
    profile = services.public_profile(org_id, current_user, work_page=page_arg())
    return render_template("organisations/show.html", title=profile.org.name, profile=profile,
                           org=profile.org)


# --- Main details -------------------------------------------------------------------------------

@bp.route("/organisations/<int:org_id>/edit", methods=["GET", "POST"])
@editable
def edit(org):
    form = forms.ProfileForm(org)
    if form.validate_on_submit():
        try:
            services.update_profile(org, form.profile_data(), current_user)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash("Organisation details saved", "success")
            return redirect(url_for(".show", org_id=org.id))
    return render_template("organisations/edit.html", title="Edit organisation details",
                           form=form, org=org)


# --- Service categories -------------------------------------------------------------------------

@bp.get("/organisations/<int:org_id>/categories")
@editable
def categories(org):
    picker = services.category_picker(org, q=request.args.get("q"),
                                      parent=request.args.get("parent"),
                                      social=bool(request.args.get("social")))
    return render_template("organisations/categories.html", title="Service categories", org=org,
                           picker=picker, q=request.args.get("q", "").strip())


def _picker_post(org, action, endpoint, describe):
    form = forms.CodeForm()
    if form.validate_on_submit():
        try:
            item, changed = action(org, form.code.data, current_user)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(describe(item, changed), "success" if changed else "info")
    return redirect(url_for(endpoint, org_id=org.id, **form.return_args()))


@bp.post("/organisations/<int:org_id>/categories/add")
@editable
def add_category(org):
    return _picker_post(org, services.add_category, ".categories", lambda cpv, added: (
        f"Added {cpv.code} {cpv.description}" if added else f"{cpv.code} is already in your list"))


@bp.post("/organisations/<int:org_id>/categories/remove")
@editable
def remove_category(org):
    return _picker_post(org, services.remove_category, ".categories", lambda cpv, removed: (
        f"Removed {cpv.code} {cpv.description}" if removed else f"{cpv.code} was not in your list"))


# --- Areas served -------------------------------------------------------------------------------

@bp.get("/organisations/<int:org_id>/areas")
@editable
def areas(org):
    picker = services.area_picker(org, q=request.args.get("q"))
    return render_template("organisations/areas.html", title="Areas served", org=org,
                           picker=picker, q=request.args.get("q", "").strip())


def _describe_added(area, count):
    if not count:
        return f"{area.name} is already covered"
    noun = "authority" if count == 1 else "authorities"
    if area.kind == "authority":
        return f"Added {area.name}"
    return f"Added {area.name}: {count} local {noun}"


def _describe_removed(area, count):
    return f"Removed {area.name}" if count else f"{area.name} was not in your list"


@bp.post("/organisations/<int:org_id>/areas/add")
@editable
def add_area(org):
    return _picker_post(org, services.add_area, ".areas", _describe_added)


@bp.post("/organisations/<int:org_id>/areas/remove")
@editable
def remove_area(org):
    return _picker_post(org, services.remove_area, ".areas", _describe_removed)


@bp.post("/organisations/<int:org_id>/areas/remove-all")
@editable
def remove_all_areas(org):
    if ConfirmForm().validate_on_submit():
        count = services.remove_all_areas(org, current_user)
        flash(f"Removed all {count} areas" if count else "There were no areas to remove", "success")
    return redirect(url_for(".areas", org_id=org.id))


# --- Client groups and ways of working ----------------------------------------------------------

@bp.route("/organisations/<int:org_id>/client-groups", methods=["GET", "POST"])
@bp.route("/organisations/<int:org_id>/ways-of-working", methods=["GET", "POST"],
          endpoint="ways_of_working")
@editable
def client_groups(org):
    form = forms.TermsForm(org, services.vocabulary_terms())
    if form.validate_on_submit():
        try:
            services.set_terms(org, form.term_ids(), current_user)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash("Client groups and ways of working saved", "success")
            return redirect(url_for(".show", org_id=org.id))
    return render_template("organisations/terms.html", title="Client groups and ways of working",
                           form=form, org=org)


# --- Policies and certificates ------------------------------------------------------------------

@bp.route("/organisations/<int:org_id>/credentials", methods=["GET", "POST"])
@editable
def credentials(org):
    form = forms.CredentialForm()
    if form.validate_on_submit():
        try:
            credential = services.add_credential(org, form.credential_data(), current_user,
                                                 form.upload())
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash(f"Added {credential.title}", "success")
            return redirect(url_for(".credentials", org_id=org.id))
    return render_template("organisations/credentials.html", title="Policies and certificates",
                           form=form, org=org, **_upload_hints())


def _upload_hints():
    return {"accepted": files.ACCEPTED, "max_mb": files.max_bytes() // (1024 * 1024),
            "accept": ",".join(files.EXTENSIONS)}


@bp.route("/organisations/<int:org_id>/credentials/<int:credential_id>/remove",
          methods=["GET", "POST"])
@editable
def remove_credential(org, credential_id):
    form = ConfirmForm()
    if form.validate_on_submit():
        credential = services.remove_credential(org, credential_id, current_user)
        flash(f"Removed {credential.title}", "success")
        return redirect(url_for(".credentials", org_id=org.id))
    credential = services.get_credential(org, credential_id)
    return render_template("organisations/remove_credential.html",
                           title="Remove policy or certificate", form=form, org=org,
                           credential=credential)


@bp.route("/organisations/<int:org_id>/credentials/<int:credential_id>/document",
          methods=["GET", "POST"])
@editable
def credential_document(org, credential_id):
    credential = services.get_credential(org, credential_id)
    form = forms.CredentialFileForm()
    if form.validate_on_submit():
        try:
            services.attach_credential_file(org, credential.id, form.upload(), current_user)
        except DomainError as error:
            forms.attach_error(form, error)
        else:
            flash(f"Uploaded the document for {credential.title}", "success")
            return redirect(url_for(".credentials", org_id=org.id))
    return render_template("organisations/credential_document.html",
                           title=f"Document for {credential.title}", form=form, org=org,
                           credential=credential, remove_form=ConfirmForm(), **_upload_hints())


@bp.post("/organisations/<int:org_id>/credentials/<int:credential_id>/document/remove")
@editable
def remove_credential_document(org, credential_id):
    if ConfirmForm().validate_on_submit():
        credential, filename = services.remove_credential_file(org, credential_id, current_user)
        if filename:
            flash(f"Removed {filename} from {credential.title}", "success")
    return redirect(url_for(".credentials", org_id=org.id))


@bp.get("/organisations/<int:org_id>/credentials/<int:credential_id>/document/download")
@login_required
def download_credential_document(org_id, credential_id):
    credential, path = services.credential_file_for_download(org_id, credential_id, current_user)
    return send_download(path, files.KINDS[credential.file_kind][1], credential.filename)
