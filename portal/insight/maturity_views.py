"""The National Procurement Strategy self-assessment pages: the buyer's profile with suggestions
from its own data, a rating page and a history per sub-area, and the entries behind each
suggestion. A buyer sees only its own; a site administrator may read any buyer's
(?organisation=<id>) but only members rate."""
from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal.core.exceptions import DomainError, NotFound
from portal.core.routing import id_arg, page_arg
from portal.insight import bp, maturity
from portal.insight.access import buyer_for, own_buyer
from portal.insight.maturity_forms import RatingForm
from portal.organisations.forms import attach_error

TEMPLATES = "insight/self_assessment/"


def _buyer():
    """The buyer whose self-assessment is asked for, with the query arguments that keep it."""
    org = buyer_for(current_user, id_arg("organisation"))
    own = org.id == current_user.organisation_id
    return org, own, ({} if own else {"organisation": org.id})


def _own_buyer():
    """Only members rate: asking to rate another buyer's self-assessment finds nothing."""
    if id_arg("organisation") not in (None, current_user.organisation_id):
        raise NotFound("Page not found")
    return own_buyer(current_user)


def _render(template, **context):
    return render_template(TEMPLATES + template, scale=maturity.framework().levels, **context)


@bp.get("/insight/self-assessment")
@login_required
def self_assessment():
    org, own, org_args = _buyer()
    return _render("overview.html", title="National Procurement Strategy self-assessment",
                   org=org, own=own, org_args=org_args, overview=maturity.overview(org),
                   first=maturity.framework().first_sub_area)


@bp.route("/insight/self-assessment/<sub_area>/rate", methods=["GET", "POST"])
@login_required
def self_assessment_rate(sub_area):
    org = _own_buyer()
    found, latest = maturity.latest_rating(org, sub_area)
    form = RatingForm(obj=latest)
    if form.validate_on_submit():
        try:
            maturity.record_rating(org, current_user, found.key, **form.rating_data())
        except DomainError as error:
            attach_error(form, error)
        else:
            flash(f"Rating saved for {found.name}", "success")
            return redirect(url_for(".self_assessment", _anchor=f"area-{found.area_key}"))
    return _render("rate.html", title=f"Rate: {found.name}", form=form, sub_area=found,
                   area=maturity.framework().area(found.area_key), latest=latest)


@bp.get("/insight/self-assessment/<sub_area>/history")
@login_required
def self_assessment_history(sub_area):
    org, own, org_args = _buyer()
    ratings = maturity.history(org, sub_area, page_arg())
    found = maturity.framework().sub_area(sub_area)
    return _render("history.html", title=f"Ratings over time: {found.name}", org=org, own=own,
                   org_args=org_args, sub_area=found, ratings=ratings,
                   area=maturity.framework().area(found.area_key))


@bp.get("/insight/self-assessment/suggestions/<key>")
@login_required
def self_assessment_suggestion(key):
    org, own, org_args = _buyer()
    found = maturity.suggestion_entries(org, key, page=page_arg())
    return _render("suggestion.html", title="Entries behind a suggestion", org=org, own=own,
                   org_args=org_args, found=found, key=key)
