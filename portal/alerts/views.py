"""Managing alerts, and the one-click unsubscribe link from their emails."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.alerts import bp, forms, services
from portal.alerts.sources import SOURCES
from portal.core.exceptions import DomainError
from portal.core.forms import ConfirmForm
from portal.extensions import csrf

RESERVED_ARGS = {"source", "csrf_token", "name", "frequency", "submit"}


def _search_params():
    return {k: v for k, v in request.args.items() if k not in RESERVED_ARGS and v}


@bp.get("/alerts")
@login_required
def index():
    return render_template("alerts/index.html", title="Your alerts",
                           subscriptions=services.list_subscriptions(current_user),
                           deliveries=services.recent_deliveries(current_user))


@bp.route("/alerts/new", methods=["GET", "POST"])
@login_required
def new():
    source = request.args.get("source", "forward_plan")
    if source not in SOURCES:
        return redirect(url_for("alerts.index"))
    params = _search_params()
    form = forms.SubscribeForm()
    if form.validate_on_submit():
        try:
            services.subscribe(current_user, source, form.name.data, params, form.frequency.data,
                               kind="profile" if source == "profile" else "search")
        except DomainError as error:
            form.name.errors = list(form.name.errors) + [error.message]
        else:
            flash(f"Alert '{form.name.data.strip()}' saved. We will email {current_user.email}.", "success")
            return redirect(url_for("alerts.index"))
    return render_template("alerts/new.html", form=form, params=params, source=source,
                           source_label=SOURCES[source].label,
                           title="Set up an email alert")


@bp.route("/alerts/<int:subscription_id>", methods=["GET", "POST"])
@login_required
def edit(subscription_id):
    subscription = services.own_subscription(current_user, subscription_id)
    form = forms.FrequencyForm(data={"frequency": subscription.frequency})
    if form.validate_on_submit():
        services.change_frequency(current_user, subscription_id, form.frequency.data)
        flash("Alert updated.", "success")
        return redirect(url_for("alerts.index"))
    return render_template("alerts/edit.html", form=form, subscription=subscription,
                           title=f"Change alert: {subscription.name}")


@bp.route("/alerts/<int:subscription_id>/delete", methods=["GET", "POST"])
@login_required
def delete(subscription_id):
    subscription = services.own_subscription(current_user, subscription_id)
    form = ConfirmForm(submit_label="Delete alert")
    if form.validate_on_submit():
        services.stop(current_user, subscription_id)
        flash(f"Alert '{subscription.name}' deleted.", "success")
        return redirect(url_for("alerts.index"))
    return render_template("alerts/delete.html", form=form, subscription=subscription,
                           title=f"Delete the alert '{subscription.name}'?")


@bp.route("/alerts/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # mail programs send the one-click POST (RFC 8058); the signed token is the proof
def unsubscribe(token):
    try:
        subscription = services.subscription_for_token(token)
        if request.method == "POST":
            services.unsubscribe(token)
            return render_template("alerts/unsubscribed.html", subscription=subscription,
                                   title="You have unsubscribed")
    except DomainError as error:
        return render_template("errors/error.html", status=400, title="There is a problem with this link",
                               message=error.message), 400
    return render_template("alerts/unsubscribe.html", subscription=subscription, token=token,
                           title=f"Unsubscribe from '{subscription.name}'?")
