"""Teaming board pages: the board across the forward plan, an organisation's post and the roles
it wants filled, suggested partners, and invitations to join a bid with their answers."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.consortia.page_helpers import attempt as _attempt
from portal.consortia.page_helpers import supplier_or_404 as _supplier
from portal.consortia import bp, services
from portal.consortia.board_forms import (
    BoardFilterForm, DeclineForm, EditPostForm, InviteForm, PostForm, ReplyForm, RoleForm,
)
from portal.core.exceptions import NotFound
from portal.core.forms import ConfirmForm, first_error
from portal.core.routing import id_arg, page_arg
from portal.matching import services as matching
from portal.organisations.directory import directory_filter_options
from portal.organisations.forms import attach_error
from portal.organisations.services import vocabulary_terms
from portal.reference.services import cpv_labels


# --- Pieces the entry page, the dashboard and the matches page draw on ----------------------------

def teaming_board(opportunity):
    """What an entry's page shows of its teaming board: counts for everyone, the posts for
    people signed in, and the viewer's own post when it is a supplier."""
    organisation = services.supplier_of(current_user)
    posts = services.board_posts(opportunity)
    return {"counts": services.board_counts(posts),
            "posts": posts if current_user.is_authenticated else [],
            "supplier": organisation, "own": services.own_post(opportunity, organisation),
            "team": services.member_team(opportunity, organisation)}


def teaming_invitations():
    """Invitations to join a bid waiting for the viewer's organisation to answer."""
    organisation = services.supplier_of(current_user)
    return services.invitations_received(organisation, waiting_only=True) \
        if organisation is not None else []


def can_invite_to_bid(opportunity):
    """Whether the viewer is a supplier who may invite partners to bid for the entry."""
    organisation = services.supplier_of(current_user)
    return organisation is not None and opportunity.interest_open


def teaming_fits():
    """Open roles and packages the viewer's organisation fits, for its dashboard."""
    organisation = services.supplier_of(current_user)
    return services.fits_for(organisation) if organisation is not None else []


def can_invite_to_a_bid(organisation):
    """Whether the viewer, a supplier, may invite this other supplier to one of its bids."""
    viewer = services.supplier_of(current_user)
    return viewer is not None and matching.is_supplier(organisation) and \
        organisation.id != viewer.id


bp.add_app_template_global(teaming_fits, "teaming_fits")
bp.add_app_template_global(can_invite_to_a_bid, "can_invite_to_a_bid")
bp.add_app_template_global(teaming_board, "teaming_board")
bp.add_app_template_global(teaming_invitations, "teaming_invitations")
bp.add_app_template_global(can_invite_to_bid, "can_invite_to_bid")


# --- Helpers ------------------------------------------------------------------------------------

def _unique(items, key):
    seen = {}
    for item in items:
        seen.setdefault(getattr(item, key), item)
    return list(seen.values())


def _offered(post):
    """The categories and areas a role may name: the entry's and its lot's."""
    sources = [post.opportunity] + ([post.lot] if post.lot else [])
    return (_unique((c for s in sources for c in s.cpv_codes), "code"),
            _unique((a for s in sources for a in s.areas), "code"))


def _labels(post):
    """Names for the codes and ids a role holds, to show it in words."""
    categories, areas = _offered(post)
    named = cpv_labels(code for role in post.roles for code in role.cpv_codes)
    return {"cpv": {**named, **{c.code: c.label for c in categories}},
            "area": {a.code: a.name for a in areas},
            "group": {t.id: t.value for t in vocabulary_terms()["client_group"]}}


def _role_form(post, role=None):
    categories, areas = _offered(post)
    return RoleForm(categories, areas, vocabulary_terms()["client_group"], role=role)


def _render_role(form, post, role=None):
    title = "Change the role" if role else "Add a role"
    return render_template("consortia/board/role_form.html", title=title, form=form, post=post,
                           role=role, confirm=ConfirmForm())


def _entry_lot(opportunity):
    return matching.get_lot(opportunity, id_arg("lot"))


# --- The board ----------------------------------------------------------------------------------

@bp.get("/consortia")
def board():
    form = BoardFilterForm(request.args, directory_filter_options()["areas"])
    valid = form.validate()
    results = services.open_board(form.q.data, form.kind.data or None, form.area.data or None,
                                  page_arg()) if valid else None
    return render_template("consortia/board/board.html", title="Teaming board",
                           filter_form=form, form=None if valid else form, results=results,
                           args=form.args(), supplier=services.supplier_of(current_user))


@bp.route("/forward-plan/<int:opportunity_id>/teaming/new", methods=["GET", "POST"])
@login_required
def new_post(opportunity_id):
    organisation = _supplier()
    opportunity = services.get_entry(opportunity_id)
    lot = _entry_lot(opportunity)
    existing = services.own_post(opportunity, organisation, lot)
    if existing is not None:
        return redirect(url_for(".post", post_id=existing.id))
    form = PostForm()
    if form.validate_on_submit():
        post, error = _attempt(services.create_post, opportunity, current_user, form.kind.data,
                               form.summary.data, lot=lot)
        if error is None:
            flash("Your post is on the teaming board", "success")
            return redirect(url_for(".post", post_id=post.id))
        attach_error(form, error)
    return render_template("consortia/board/post_form.html", title="Post on the teaming board",
                           form=form, opportunity=opportunity, lot=lot, post=None)


@bp.get("/consortia/posts/<int:post_id>")
@login_required
def post(post_id):
    post = services.get_post(post_id)
    viewer = services.supplier_of(current_user)
    own = viewer is not None and viewer.id == post.organisation_id
    if post.withdrawn_at is not None and not own:
        raise NotFound("Teaming post not found")
    return render_template("consortia/board/post.html", title=post.opportunity.title, post=post,
                           own=own, viewer=viewer, labels=_labels(post),
                           can_invite=viewer is not None and not own and post.is_open,
                           team=services.lead_team(post.opportunity, viewer, post.lot)
                           if own else None, confirm=ConfirmForm(),
                           waiting=services.waiting_for_roles(post))


@bp.route("/consortia/posts/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit_post(post_id):
    post = services.get_own_post(post_id, current_user)
    form = EditPostForm(obj=post)
    if form.validate_on_submit():
        _done, error = _attempt(services.edit_post, post, current_user, form.summary.data)
        if error is None:
            flash("Your post has been changed", "success")
            return redirect(url_for(".post", post_id=post.id))
        attach_error(form, error)
    return render_template("consortia/board/post_form.html", title="Change your post",
                           form=form, opportunity=post.opportunity, lot=post.lot, post=post)


@bp.route("/consortia/posts/<int:post_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw_post(post_id):
    post = services.get_own_post(post_id, current_user)
    form = ConfirmForm(submit_label="Withdraw post")
    if form.validate_on_submit():
        _done, error = _attempt(services.withdraw_post, post, current_user)
        flash(error.message if error else "Your post has been withdrawn from the teaming board",
              "error" if error else "success")
        return redirect(url_for(".post", post_id=post.id))
    return render_template("consortia/board/withdraw_post.html", title="Withdraw your post",
                           form=form, post=post)


# --- Roles --------------------------------------------------------------------------------------

@bp.route("/consortia/posts/<int:post_id>/roles/new", methods=["GET", "POST"])
@login_required
def new_role(post_id):
    post = services.get_own_post(post_id, current_user)
    form = _role_form(post)
    if form.validate_on_submit():
        role, error = _attempt(services.add_role, post, current_user, **form.role_data())
        if error is None:
            flash(f"Role added: {role.title}", "success")
            return redirect(url_for(".post", post_id=post.id))
        attach_error(form, form.error_field(error))
    return _render_role(form, post)


@bp.route("/consortia/roles/<int:role_id>/edit", methods=["GET", "POST"])
@login_required
def edit_role(role_id):
    role = services.get_own_role(role_id, current_user)
    form = _role_form(role.post, role)
    if form.validate_on_submit():
        _done, error = _attempt(services.edit_role, role, current_user, **form.role_data())
        if error is None:
            flash(f"Role saved: {role.title}", "success")
            return redirect(url_for(".post", post_id=role.post_id))
        attach_error(form, form.error_field(error))
    return _render_role(form, role.post, role)


@bp.post("/consortia/roles/<int:role_id>/remove")
@login_required
def remove_role(role_id):
    role = services.get_own_role(role_id, current_user)
    if ConfirmForm().validate_on_submit():
        _done, error = _attempt(services.remove_role, role, current_user)
        flash(error.message if error else f"Role removed: {role.title}",
              "error" if error else "success")
    return redirect(url_for(".post", post_id=role.post_id))


@bp.get("/consortia/roles/<int:role_id>/suggestions")
@login_required
def role_suggestions(role_id):
    role = services.get_own_role(role_id, current_user)
    rows = services.suggestions_for_role(role)
    return render_template("consortia/board/suggestions.html",
                           title=f"Suggested partners: {role.title}"[:200], role=role,
                           post=role.post, rows=rows, left_out=rows.left_out,
                           labels=_labels(role.post))


# --- Invitations --------------------------------------------------------------------------------

def _invite_target(opportunity, role, lot, team=None):
    """Where an invitation leads back to: the role's suggestions; for one to join the bid in
    general, the team the inviter leads, which lists the invitations waiting for an answer, or
    else the entry's suppliers."""
    if role is not None:
        return url_for(".role_suggestions", role_id=role.id)
    if team is not None:
        return url_for(".workspace", consortium_id=team.id)
    return url_for("matching.matches", opportunity_id=opportunity.id,
                   **({"lot": lot.id} if lot else {}))


@bp.route("/consortia/invite/<int:opportunity_id>/<int:organisation_id>",
          methods=["GET", "POST"])
@login_required
def invite(opportunity_id, organisation_id):
    inviter = _supplier()
    opportunity = services.get_entry(opportunity_id)
    supplier = matching.get_supplier(organisation_id)
    role_id = id_arg("role")
    role = services.get_own_role(role_id, current_user) if role_id else None
    lot = _entry_lot(opportunity) if role is None else None
    if role is not None and role.post.opportunity_id != opportunity.id:
        raise NotFound("Role not found")
    team = services.lead_team(opportunity, inviter, lot) if role is None else None
    back = _invite_target(opportunity, role, lot, team)
    form = InviteForm()
    if form.validate_on_submit():
        _done, error = _attempt(services.invite_partner, opportunity, supplier, current_user,
                                role=role, message=form.message.data, lot=lot)
        if error is None:
            flash(f"Invitation sent to {supplier.name}. We have emailed them, and we will "
                  "email you when they answer.", "success")
            return redirect(back)
        attach_error(form, error)
    state = dict(own=supplier.id == inviter.id, reachable=services.can_be_invited(supplier),
                 waiting=services.waiting_invitation(opportunity, supplier, inviter, role))
    if form.errors and not _invite_form_shown(opportunity, **state):
        # The page explains why in place of the form, so the reason cannot sit next to it.
        flash(first_error(form), "error")
        return redirect(request.full_path)
    return render_template(
        "consortia/board/invite.html", title=f"Invite {supplier.name} to join your bid"[:200],
        form=form, opportunity=opportunity, supplier=supplier, role=role, lot=lot,
        back=back, **state)


def _invite_form_shown(opportunity, own, reachable, waiting):
    """Whether the invitation page shows its form (it explains instead when it cannot)."""
    return not own and not waiting and opportunity.interest_open and reachable


@bp.get("/consortia/invite/<int:organisation_id>")
@login_required
def choose_bid(organisation_id):
    """From an organisation's profile: which of the viewer's bids to invite it to."""
    inviter = _supplier()
    supplier = matching.get_supplier(organisation_id)
    if supplier.id == inviter.id:
        raise NotFound("Page not found")
    return render_template("consortia/board/choose_bid.html",
                           title=f"Invite {supplier.name} to join a bid"[:200],
                           supplier=supplier, bids=services.bids_led_by(inviter),
                           reachable=services.can_be_invited(supplier))


@bp.get("/consortia/invitations")
@login_required
def invitations():
    organisation = _supplier()
    return render_template("consortia/board/invitations.html", title="Invitations to join a bid",
                           organisation=organisation,
                           received=services.invitations_received(organisation),
                           sent=services.invitations_sent(organisation))


def _render_invitation(invitation, **forms):
    organisation = services.supplier_of(current_user)
    forms.setdefault("decline_form", DeclineForm(formdata=None))
    forms.setdefault("reply_form", ReplyForm(formdata=None))
    failed = next((f for f in forms.values() if f.errors), None)
    team = services.lead_team(invitation.opportunity, invitation.invited_by, invitation.lot) \
        if invitation.status == "accepted" else None
    return render_template(
        "consortia/board/invitation.html", title=invitation.opportunity.title,
        invitation=invitation, form=failed, team=team,
        invited=organisation.id == invitation.organisation_id, **forms)


@bp.get("/consortia/invitations/<int:invitation_id>")
@login_required
def invitation(invitation_id):
    return _render_invitation(services.get_invitation(invitation_id, current_user))


def _back_to_invitation(invitation):
    return redirect(url_for(".invitation", invitation_id=invitation.id))


@bp.post("/consortia/invitations/<int:invitation_id>/accept")
@login_required
def accept_invitation(invitation_id):
    invitation = services.get_invitation(invitation_id, current_user)
    if not ConfirmForm().validate_on_submit():
        return _back_to_invitation(invitation)
    team, error = _attempt(services.accept_invitation, invitation, current_user)
    if error is not None:
        flash(error.message, "error")
        return _back_to_invitation(invitation)
    flash(f"You have joined {team.name}", "success")
    return redirect(url_for(".workspace", consortium_id=team.id))


@bp.post("/consortia/invitations/<int:invitation_id>/decline")
@login_required
def decline_invitation(invitation_id):
    invitation = services.get_invitation(invitation_id, current_user)
    form = DeclineForm()
    if form.validate_on_submit():
        _done, error = _attempt(services.decline_invitation, invitation, current_user,
                                form.reason.data)
        if error is None:
            flash(f"You declined the invitation from {invitation.invited_by.name}", "success")
            return _back_to_invitation(invitation)
        attach_error(form, error)
    return _render_invitation(invitation, decline_form=form)


@bp.post("/consortia/invitations/<int:invitation_id>/reply")
@login_required
def reply_invitation(invitation_id):
    invitation = services.get_invitation(invitation_id, current_user)
    form = ReplyForm()
    if form.validate_on_submit():
        _done, error = _attempt(services.reply_to_invitation, invitation, current_user,
                                form.body.data)
        if error is None:
            flash("Your message has been sent", "success")
            return _back_to_invitation(invitation)
        attach_error(form, error)
    return _render_invitation(invitation, reply_form=form)


@bp.post("/consortia/invitations/<int:invitation_id>/withdraw")
@login_required
def withdraw_invitation(invitation_id):
    invitation = services.get_invitation(invitation_id, current_user)
    if ConfirmForm().validate_on_submit():
        _done, error = _attempt(services.withdraw_invitation, invitation, current_user)
        flash(error.message if error else "Your invitation has been withdrawn",
              "error" if error else "success")
    return _back_to_invitation(invitation)
