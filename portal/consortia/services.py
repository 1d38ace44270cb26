"""Use cases of teaming and consortia: the teaming board's posts and roles, invitations that can
be answered, and the consortium workspace (members, shares, lead, charter, messages).

Who may do what: suppliers (VCSEs and prime contractors) post, invite and form teams; only an
organisation's own post, a consortium's lead or an invitation's two sides act on them, and
anyone else is told the thing is missing."""
from sqlalchemy import and_, func, or_, select, update

from portal.core import audit
from portal.core.exceptions import DomainError, NotFound
from portal.core.mail import send_email
from portal.core.mixins import utcnow
from portal.consortia import suggestions
from portal.consortia.suggestions import role_query
from portal.consortia.models import (
    Consortium, ConsortiumFile, ConsortiumMember, ConsortiumMessage, InvitationReply, PartnerInvitation,
    PartnerRole, TeamingPost,
)
from portal.extensions import db
from portal.matching import services as matching
from portal.organisations.models import Organisation
from portal.pipeline import services as pipeline
from portal.pipeline.models import Opportunity
from portal.search.services import search_opportunity_ids

BOARD_PER_PAGE = 20


# --- Who is acting ------------------------------------------------------------------------------

def supplier_of(user):
    """The user's organisation when it is an active VCSE or prime contractor, else None."""
    organisation = matching.user_organisation(user)
    return organisation if matching.is_supplier(organisation) else None


def _require_supplier(user):
    organisation = supplier_of(user)
    if organisation is None:
        raise DomainError("Only VCSEs and prime contractors registered with Pathfinder can "
                          "take part in teaming")
    return organisation


def _require_taking_interest(opportunity):
    if not opportunity.interest_open:
        raise DomainError("This entry is no longer taking expressions of interest, so its "
                          "teaming board is closed")


# --- The teaming board --------------------------------------------------------------------------

def get_entry(opportunity_id):
    """A published entry, whose board anyone signed in may read."""
    opportunity = db.session.get(Opportunity, opportunity_id)
    if opportunity is None or not opportunity.is_public:
        raise NotFound("Forward plan entry not found")
    return opportunity


def board_posts(opportunity, lot=None):
    """The entry's open posts, leads first, newest first within each kind."""
    query = select(TeamingPost).where(TeamingPost.opportunity_id == opportunity.id,
                                      TeamingPost.withdrawn_at.is_(None))
    if lot is not None:
        query = query.where(TeamingPost.lot_id == lot.id)
    posts = db.session.scalars(query.order_by(TeamingPost.created_at.desc())).all()
    return sorted(posts, key=lambda p: p.kind != "lead") if opportunity.interest_open else []


def board_counts(posts):
    """{'lead': n, 'available': n, 'roles': open roles} of an entry's open posts (as
    `board_posts` gives them), for everyone to see."""
    return {"lead": sum(p.kind == "lead" and not p.team_complete for p in posts),
            "available": sum(p.kind == "available" for p in posts),
            "roles": sum(len(p.open_roles()) for p in posts)}


def own_post(opportunity, organisation, lot=None):
    if organisation is None:
        return None
    return db.session.scalar(select(TeamingPost).where(
        TeamingPost.opportunity_id == opportunity.id,
        TeamingPost.lot_id == getattr(lot, "id", None),
        TeamingPost.organisation_id == organisation.id, TeamingPost.withdrawn_at.is_(None)))


def create_post(opportunity, user, kind, summary, lot=None):
    """Put the user's organisation on the entry's teaming board, as a lead looking for partners
    or as available to partner. One open post per organisation and entry (or lot)."""
    organisation = _require_supplier(user)
    _require_taking_interest(opportunity)
    if own_post(opportunity, organisation, lot) is not None:
        raise DomainError("Your organisation already has a post on this board: change or "
                          "withdraw it instead", field="kind")
    post = TeamingPost(opportunity_id=opportunity.id, lot_id=getattr(lot, "id", None),
                       organisation_id=organisation.id, kind=kind, summary=summary,
                       created_by_id=user.id)
    post.opportunity, post.lot = opportunity, lot
    db.session.add(post)
    db.session.flush()
    audit.record("consortia.post_created", post, actor_id=user.id, opportunity=opportunity.id,
                 kind=kind)
    db.session.commit()
    return post


def get_post(post_id):
    """A post on a published entry's board (withdrawn or closed posts included, for their
    own organisation's pages)."""
    post = db.session.get(TeamingPost, post_id)
    if post is None or not post.opportunity.is_public:
        raise NotFound("Teaming post not found")
    return post


def get_own_post(post_id, user):
    post = get_post(post_id)
    if supplier_of(user) is None or post.organisation_id != user.organisation_id:
        raise NotFound("Teaming post not found")
    return post


def _require_open(post):
    if not post.is_open:
        raise DomainError("This post is closed: the entry no longer takes expressions of "
                          "interest, or the post was withdrawn")


def edit_post(post, user, summary):
    _require_open(post)
    post.describe(summary)
    audit.record("consortia.post_edited", post, actor_id=user.id)
    db.session.commit()
    return post


def withdraw_post(post, user):
    post.withdraw()
    audit.record("consortia.post_withdrawn", post, actor_id=user.id)
    db.session.commit()
    return post


# --- Roles --------------------------------------------------------------------------------------

def _role_fields(fields):
    """Check the categories, areas and client groups a role names exist."""
    from portal.reference.models import Area, CpvCode, VocabularyTerm

    codes = list(dict.fromkeys(fields.get("cpv_codes") or []))
    known = set(db.session.scalars(select(CpvCode.code).where(CpvCode.code.in_(codes))))
    if set(codes) - known:
        raise DomainError("Choose categories from the list", field="cpv_codes")
    areas = list(dict.fromkeys(fields.get("area_codes") or []))
    if set(areas) - set(db.session.scalars(select(Area.code).where(Area.code.in_(areas)))):
        raise DomainError("Choose areas from the list", field="area_codes")
    groups = list(dict.fromkeys(fields.get("client_group_ids") or []))
    if set(groups) - set(db.session.scalars(select(VocabularyTerm.id).where(
            VocabularyTerm.id.in_(groups), VocabularyTerm.vocabulary == "client_group"))):
        raise DomainError("Choose client groups from the list", field="client_group_ids")
    return {**fields, "cpv_codes": codes, "area_codes": areas, "client_group_ids": groups}


def add_role(post, user, **fields):
    """Add an open role to a lead's post: what it delivers, where, for whom, the level
    recommended and an indicative share."""
    _require_open(post)
    if post.kind != "lead":
        raise DomainError("Only a post looking for partners has roles")
    # By id, so that a refused role never joins the post's roles in memory.
    role = PartnerRole(post_id=post.id, **_role_fields(fields))
    db.session.add(role)
    db.session.flush()
    suggestions.store_fits(role_query(role), suggestions.team_of(role), role_id=role.id)
    audit.record("consortia.role_added", role, actor_id=user.id,
                 organisation_id=post.organisation_id, post=post.id)
    db.session.commit()
    return role


def get_own_role(role_id, user):
    role = db.session.get(PartnerRole, role_id)
    if role is None or role.removed_at is not None:
        raise NotFound("Role not found")
    get_own_post(role.post_id, user)
    return role


def get_role(role_id):
    """A role on a published entry's board, open or not."""
    role = db.session.get(PartnerRole, role_id)
    if role is None or role.removed_at is not None:
        raise NotFound("Role not found")
    get_post(role.post_id)
    return role


def edit_role(role, user, **fields):
    _require_open(role.post)
    role.describe(**_role_fields(fields))
    suggestions.store_fits(role_query(role), suggestions.team_of(role), role_id=role.id)
    audit.record("consortia.role_edited", role, actor_id=user.id,
                 organisation_id=role.post.organisation_id)
    db.session.commit()
    return role


def remove_role(role, user):
    if not role.is_open:
        raise DomainError("A filled role stays on the post: it is part of the team")
    role.removed_at = utcnow()
    audit.record("consortia.role_removed", role, actor_id=user.id,
                 organisation_id=role.post.organisation_id)
    db.session.commit()
    return role


def open_board(q=None, kind=None, area=None, page=1, per_page=BOARD_PER_PAGE):
    """The teaming board across the forward plan: open posts on entries still taking
    interest, newest first; `q` looks in the entry's title and the posts' and roles' words."""
    query = select(TeamingPost).join(TeamingPost.opportunity).where(
        TeamingPost.withdrawn_at.is_(None), Opportunity.status.in_(
            ("planned", "market_engagement", "open")))
    if kind:
        query = query.where(TeamingPost.kind == kind)
    if area:
        from portal.pipeline.models import opportunity_area
        from portal.reference.places import gazetteer

        # A region or county finds the entries listed under its councils, and the reverse.
        gaz = gazetteer()
        codes = gaz.expand([area]) | {area} | set(gaz.parents(area))
        query = query.where(Opportunity.id.in_(select(opportunity_area.c.opportunity_id).where(
            opportunity_area.c.area_code.in_(codes))))
    if (q or "").strip():
        query = query.where(or_(TeamingPost.opportunity_id.in_(search_opportunity_ids(q)),
                                _post_words(q)))
    query = query.order_by(TeamingPost.created_at.desc(), TeamingPost.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def _post_words(q):
    """Posts whose own words (summary, roles) hold every word of `q`. The entry's words are
    found through the forward plan's search index, which knows their stems and categories."""
    conditions = []
    for word in q.split()[:8]:
        like = f"%{word.lower()}%"
        conditions.append(or_(
            func.lower(TeamingPost.summary).like(like),
            TeamingPost.id.in_(select(PartnerRole.post_id).where(or_(
                func.lower(PartnerRole.title).like(like),
                func.lower(PartnerRole.delivers).like(like))))))
    return and_(*conditions)


# --- Invitations --------------------------------------------------------------------------------

def can_be_invited(organisation):
    """Someone at the organisation can answer: an active member with a confirmed email."""
    return matching.can_receive_invitations(organisation)


def waiting_invitation(opportunity, supplier, inviter, role=None):
    return db.session.scalar(select(PartnerInvitation).where(
        PartnerInvitation.opportunity_id == opportunity.id,
        PartnerInvitation.organisation_id == supplier.id,
        PartnerInvitation.invited_by_organisation_id == inviter.id,
        PartnerInvitation.role_id == getattr(role, "id", None),
        PartnerInvitation.status == "sent"))


def invite_partner(opportunity, supplier, user, role=None, message=None, lot=None):
    """Invite a supplier to join the user's organisation's bid for the entry, for a named role
    or in general. The invited organisation's members are emailed, and it answers from its
    dashboard. An organisation nobody can answer for cannot be invited."""
    inviter = _require_supplier(user)
    _require_taking_interest(opportunity)
    lot = lot or getattr(getattr(role, "post", None), "lot", None)
    if role is not None and (role.post.organisation_id != inviter.id or not role.is_open):
        raise DomainError("You can invite partners only to your own open roles")
    if not matching.is_supplier(supplier) or supplier.id == inviter.id:
        raise DomainError("Choose another VCSE or prime contractor to invite")
    if not can_be_invited(supplier):
        raise DomainError(f"Nobody at {supplier.name} has an account yet, so they cannot "
                          "answer an invitation")
    if waiting_invitation(opportunity, supplier, inviter, role) is not None:
        raise DomainError(f"{supplier.name} already has an invitation from you waiting")
    team = lead_team(opportunity, inviter, lot)
    if team is not None and team.member_for(supplier.id) is not None:
        raise DomainError(f"{supplier.name} is already in your team")
    query = role_query(role) if role is not None else (lot or opportunity)
    invitation = PartnerInvitation(
        opportunity_id=opportunity.id, lot_id=getattr(lot, "id", None),
        role_id=getattr(role, "id", None), organisation_id=supplier.id,
        invited_by_organisation_id=inviter.id, invited_by_user_id=user.id, message=message,
        reasons=_reasons(query, supplier))
    db.session.add(invitation)
    db.session.flush()
    audit.record("consortia.partner_invited", invitation, actor_id=user.id,
                 organisation_id=inviter.id, opportunity=opportunity.id, supplier=supplier.id,
                 role=getattr(role, "id", None))
    for email in matching.member_emails(supplier.id):
        send_email(email, f"Invitation to join a bid: {opportunity.title}"[:200],
                   "email/partner_invitation.txt", invitation=invitation,
                   opportunity=opportunity, supplier=supplier, inviter=inviter, role=role)
    db.session.commit()
    return invitation


def _reasons(query, supplier):
    from portal.matching.ranking import rank_suppliers

    found = rank_suppliers(query, limit=1, candidate_keys=[supplier.id])
    return list(found[0].reasons) if found else []


def get_invitation(invitation_id, user):
    """An invitation the user's organisation sent or received; any other is missing."""
    invitation = db.session.get(PartnerInvitation, invitation_id)
    organisation_id = getattr(supplier_of(user), "id", None)
    if invitation is None or organisation_id not in (invitation.organisation_id,
                                                     invitation.invited_by_organisation_id):
        raise NotFound("Invitation not found")
    return invitation


def _require_invited(invitation, user):
    if user.organisation_id != invitation.organisation_id:
        raise NotFound("Invitation not found")


def accept_invitation(invitation, user):
    """Join the inviter's team for the entry (forming it if this is its first partner). A role
    goes to the first organisation to accept it: a second is told it has been filled."""
    _require_invited(invitation, user)
    _require_taking_interest(invitation.opportunity)
    invitation.accept(user.id)
    if invitation.role_id is not None:
        _fill_role(invitation.role_id, invitation.organisation_id)
    team = lead_team(invitation.opportunity, invitation.invited_by, invitation.lot) or \
        _new_team(invitation.opportunity, invitation.invited_by, invitation.lot,
                  getattr(invitation.role, "post", None))
    team.add_member(invitation.organisation_id, "partner",
                    delivers=getattr(invitation.role, "title", None))
    db.session.flush()
    audit.record("consortia.invitation_accepted", invitation, actor_id=user.id,
                 consortium=team.id, role=invitation.role_id)
    _tell_inviter(invitation, "accepted")
    db.session.commit()
    return team


def _fill_role(role_id, organisation_id):
    """Give the role to the organisation in one conditional UPDATE, so that of two acceptances
    at once only one can win it."""
    filled = db.session.execute(
        update(PartnerRole).where(PartnerRole.id == role_id,
                                  PartnerRole.filled_by_organisation_id.is_(None),
                                  PartnerRole.removed_at.is_(None))
        .values(filled_by_organisation_id=organisation_id, filled_at=utcnow())
        .execution_options(synchronize_session=False))
    if filled.rowcount != 1:
        db.session.rollback()
        raise DomainError("This role has already been filled or removed")
    role = db.session.get(PartnerRole, role_id)
    if role is not None:
        db.session.refresh(role)


def decline_invitation(invitation, user, reason):
    _require_invited(invitation, user)
    invitation.decline(user.id, reason)
    audit.record("consortia.invitation_declined", invitation, actor_id=user.id)
    _tell_inviter(invitation, "declined")
    db.session.commit()
    return invitation


def withdraw_invitation(invitation, user):
    if user.organisation_id != invitation.invited_by_organisation_id:
        raise NotFound("Invitation not found")
    invitation.withdraw(user.id)
    audit.record("consortia.invitation_withdrawn", invitation, actor_id=user.id,
                 organisation_id=invitation.invited_by_organisation_id)
    db.session.commit()
    return invitation


def reply_to_invitation(invitation, user, body):
    """A message on the invitation's conversation while it waits for an answer; the other side
    is emailed. Once answered, the conversation moves to the team's workspace."""
    if not invitation.is_waiting:
        raise DomainError("This invitation has been answered: write to the team in its "
                          "workspace instead", field="body")
    reply = InvitationReply(invitation_id=invitation.id, organisation_id=user.organisation_id,
                            user_id=user.id, body=body)
    db.session.add(reply)
    db.session.flush()
    audit.record("consortia.invitation_reply", reply, actor_id=user.id,
                 invitation=invitation.id)
    other = invitation.invited_by_organisation_id \
        if user.organisation_id == invitation.organisation_id else invitation.organisation_id
    for email in matching.member_emails(other):
        send_email(email, f"New message about: {invitation.opportunity.title}"[:200],
                   "email/partner_invitation_reply.txt", invitation=invitation, reply=reply)
    db.session.commit()
    return reply


def _tell_inviter(invitation, outcome):
    for email in matching.member_emails(invitation.invited_by_organisation_id):
        send_email(email, f"{invitation.organisation.name} {outcome} your invitation"[:200],
                   "email/partner_invitation_answered.txt", invitation=invitation,
                   outcome=outcome)


def waiting_for_roles(post):
    """{role id: [invitations waiting for an answer]} for the post's roles."""
    ids = [role.id for role in post.roles]
    found = {}
    for invitation in db.session.scalars(select(PartnerInvitation).where(
            PartnerInvitation.role_id.in_(ids or [-1]), PartnerInvitation.status == "sent")
            .order_by(PartnerInvitation.id)):
        found.setdefault(invitation.role_id, []).append(invitation)
    return found


def invitations_received(organisation, waiting_only=False):
    query = select(PartnerInvitation).where(
        PartnerInvitation.organisation_id == organisation.id)
    if waiting_only:
        query = query.join(PartnerInvitation.opportunity).where(
            PartnerInvitation.status == "sent",
            Opportunity.status.in_(("planned", "market_engagement", "open")))
    return db.session.scalars(query.order_by(PartnerInvitation.created_at.desc(),
                                             PartnerInvitation.id.desc())).all()


def invitations_sent(organisation):
    return db.session.scalars(select(PartnerInvitation).where(
        PartnerInvitation.invited_by_organisation_id == organisation.id).order_by(
        PartnerInvitation.created_at.desc(), PartnerInvitation.id.desc())).all()


# --- Consortia ----------------------------------------------------------------------------------

def lead_team(opportunity, lead, lot=None):
    """The team the organisation leads for the entry (or lot), if it has formed one."""
    if lead is None:
        return None
    return db.session.scalar(select(Consortium).where(
        Consortium.opportunity_id == opportunity.id,
        Consortium.lot_id == getattr(lot, "id", None),
        Consortium.lead_organisation_id == lead.id))


def member_team(opportunity, organisation):
    """A team for the entry (or one of its lots) the organisation is a member of, if any."""
    if organisation is None:
        return None
    return db.session.scalar(select(Consortium).join(Consortium.all_members).where(
        Consortium.opportunity_id == opportunity.id,
        ConsortiumMember.organisation_id == organisation.id,
        ConsortiumMember.left_at.is_(None)).order_by(Consortium.id).limit(1))


def _new_team(opportunity, lead, lot=None, post=None, name=None):
    team = Consortium(opportunity_id=opportunity.id, lot_id=getattr(lot, "id", None),
                      post_id=getattr(post, "id", None), lead_organisation_id=lead.id,
                      name=name or f"{lead.name}: {opportunity.title}"[:200])
    team.add_member(lead.id, "lead")
    db.session.add(team)
    return team


def create_consortium(opportunity, user, name, lot=None):
    """A lead forming a team for the entry (or lot) directly, before anyone has joined."""
    lead = _require_supplier(user)
    _require_taking_interest(opportunity)
    if lead_team(opportunity, lead, lot) is not None:
        raise DomainError("Your organisation already leads a team for this entry", field="name")
    team = _new_team(opportunity, lead, lot, own_post(opportunity, lead, lot), name or " ")
    db.session.flush()
    audit.record("consortia.created", team, actor_id=user.id, organisation_id=lead.id,
                 opportunity=opportunity.id)
    db.session.commit()
    return team


def get_consortium(consortium_id, user):
    """A consortium the user's organisation is a member of; any other is missing."""
    return member_consortium(consortium_id, getattr(supplier_of(user), "id", None))


def member_consortium(consortium_id, organisation_id):
    """A consortium the organisation (by id) is a member of; any other is missing."""
    team = db.session.get(Consortium, consortium_id)
    if team is None or organisation_id is None or team.member_for(organisation_id) is None:
        raise NotFound("Consortium not found")
    return team


def organisation_consortia(organisation_id):
    """The consortia an organisation (by id) is a member of, newest first."""
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    return my_consortia(organisation) if matching.is_supplier(organisation) else []


def _require_lead(team, user):
    if user.organisation_id != team.lead_organisation_id:
        raise DomainError("Only the lead can do this")


def my_consortia(organisation):
    return db.session.scalars(select(Consortium).join(Consortium.all_members).where(
        ConsortiumMember.organisation_id == organisation.id,
        ConsortiumMember.left_at.is_(None)).order_by(Consortium.created_at.desc())).all()


def set_shares(team, user, shares, delivers=None, roles=None):
    """The lead records who does what: every member's share of the work and of the value,
    and (when given) what each member delivers and whether it is a partner or a
    sub-contractor."""
    _require_lead(team, user)
    team.set_shares(shares)
    team.describe_members(delivers or {})
    team.set_member_roles(roles or {})
    audit.record("consortia.shares_set", team, actor_id=user.id,
                 organisation_id=team.lead_organisation_id,
                 shares={str(k): [_num(w), _num(v)] for k, (w, v) in shares.items()})
    db.session.commit()
    return team


def _num(value):
    return None if value is None else float(value)


def hand_over_lead(team, user, organisation_id):
    _require_lead(team, user)
    team.hand_lead_to(organisation_id)
    audit.record("consortia.lead_handed_over", team, actor_id=user.id,
                 organisation_id=user.organisation_id, new_lead=organisation_id)
    db.session.commit()
    return team


def leave_consortium(team, user):
    team.leave(user.organisation_id)
    audit.record("consortia.member_left", team, actor_id=user.id,
                 organisation_id=user.organisation_id)
    db.session.commit()
    return team


def write_charter(team, user, **terms):
    """The lead writes (or changes) the fair-terms charter; writing it is the lead's own
    confirmation, and every other member must confirm the new version."""
    _require_lead(team, user)
    team.write_charter(**terms)
    team.member_for(user.organisation_id).confirm_charter(user.id)
    audit.record("consortia.charter_written", team, actor_id=user.id,
                 organisation_id=team.lead_organisation_id, version=team.charter_version,
                 payment_days=team.payment_days, management_fee=_num(team.management_fee))
    _tell_members(team, user, f"Confirm the new terms for {team.name}"[:200],
                  "email/consortium_charter.txt")
    db.session.commit()
    return team


def confirm_charter(team, user):
    team.member_for(user.organisation_id).confirm_charter(user.id)
    audit.record("consortia.charter_confirmed", team, actor_id=user.id,
                 organisation_id=user.organisation_id, version=team.charter_version)
    db.session.commit()
    return team


def post_message(team, user, body):
    # By id, so that a refused message never joins the team's thread in memory.
    message = ConsortiumMessage(consortium_id=team.id, organisation_id=user.organisation_id,
                                user_id=user.id, body=body)
    db.session.add(message)
    db.session.flush()
    audit.record("consortia.message_posted", message, actor_id=user.id, consortium=team.id)
    _tell_members(team, user, f"New message in {team.name}"[:200],
                  "email/consortium_message.txt", message=message)
    db.session.commit()
    return message


def share_file(team, user, filename, data):
    """A member shares a file with the team. It is checked as accreditation evidence is (its
    content must be the type its name says, within the size limit) before anything is
    written; the other members are emailed."""
    from portal.accreditation import evidence as files

    kind, name = files.check_upload(filename, data)
    stored_name, sha256 = files.store(data)
    shared = ConsortiumFile(consortium_id=team.id, organisation_id=user.organisation_id,
                            user_id=user.id, filename=name, stored_name=stored_name, kind=kind,
                            size=len(data), sha256=sha256)
    db.session.add(shared)
    db.session.flush()
    audit.record("consortia.file_shared", shared, actor_id=user.id, consortium=team.id,
                 filename=name)
    _tell_members(team, user, f"New file in {team.name}"[:200], "email/consortium_file.txt",
                  shared=shared)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        files.discard(stored_name)
        raise
    return shared


def team_file(team, file_id):
    """A file of the team, open to read, with its type; a file of another team is missing."""
    from portal.accreditation import evidence as files

    shared = next((f for f in team.files if f.id == file_id), None)
    if shared is None:
        raise NotFound("File not found")
    if not files.exists(shared.stored_name):
        raise NotFound("File not found")
    return shared, files.open_stored(shared.stored_name), files.KINDS[shared.kind][1]


def remove_file(team, user, file_id):
    """The member that shared a file, or the lead, takes it off the team's files."""
    from portal.accreditation import evidence as files

    shared, _path, _type = team_file(team, file_id)
    if user.organisation_id not in (shared.organisation_id, team.lead_organisation_id):
        raise DomainError("Only the member that shared a file, or the lead, can remove it")
    stored_name = shared.stored_name
    team.files.remove(shared)
    audit.record("consortia.file_removed", team, actor_id=user.id,
                 organisation_id=user.organisation_id, filename=shared.filename)
    db.session.commit()
    files.discard(stored_name)
    return team


def _tell_members(team, user, subject, template, **context):
    for member in team.members:
        if member.organisation_id == user.organisation_id:
            continue
        for email in matching.member_emails(member.organisation_id):
            send_email(email, subject, template, consortium=team, **context)


def express_interest_as_consortium(team, user, note=None):
    """The lead tells the buyer it will bid leading this team; the buyer sees the members."""
    _require_lead(team, user)
    interest = pipeline.record_interest(team.opportunity, user, "lead", note)
    team.interest_id = interest.id
    audit.record("consortia.interest_expressed", team, actor_id=user.id,
                 organisation_id=team.lead_organisation_id, interest=interest.id)
    db.session.commit()
    return interest


def consortia_for_interests(opportunity):
    """{interest id: consortium} for the entry's interests expressed as a consortium."""
    teams = db.session.scalars(select(Consortium).where(
        Consortium.opportunity_id == opportunity.id, Consortium.interest_id.is_not(None)))
    return {team.interest_id: team for team in teams}


def organisations_by_id(ids):
    ids = list(ids)
    return {o.id: o for o in db.session.scalars(select(Organisation).where(
        Organisation.id.in_(ids)))} if ids else {}



def suggestions_for_role(role, limit=20):
    """Partners the matching engine suggests for an open role (see suggestions.py)."""
    return suggestions.for_role(role, limit)


def bids_led_by(organisation):
    """Entries still taking interest on which the organisation leads a bid: [(entry, its
    post looking for partners or None, its team or None)], soonest closing first."""
    posts = db.session.scalars(select(TeamingPost).where(
        TeamingPost.organisation_id == organisation.id, TeamingPost.kind == "lead",
        TeamingPost.withdrawn_at.is_(None))).all()
    teams = db.session.scalars(select(Consortium).where(
        Consortium.lead_organisation_id == organisation.id)).all()
    bids = {}
    for post in posts:
        bids.setdefault(post.opportunity_id, [post.opportunity, None, None])[1] = post
    for team in teams:
        bids.setdefault(team.opportunity_id, [team.opportunity, None, None])[2] = team
    live = [tuple(bid) for bid in bids.values() if bid[0].interest_open]
    return sorted(live, key=lambda bid: (bid[0].closing_at is None, bid[0].closing_at or 0,
                                         bid[0].title))


def fits_for(organisation, limit=10):
    """Open roles and sub-contract packages the organisation fits, best first (from the fits
    stored when each was posted), leaving out its own and those it has answered."""
    from portal.consortia.models import PartnerFit

    rows = db.session.scalars(select(PartnerFit).where(
        PartnerFit.organisation_id == organisation.id).order_by(
        PartnerFit.score.desc())).all()
    # A role it has been invited to is on the dashboard already, as an invitation.
    invited = set(db.session.scalars(select(PartnerInvitation.role_id).where(
        PartnerInvitation.organisation_id == organisation.id,
        PartnerInvitation.role_id.is_not(None))))
    return [row for row in rows if row.role_id not in invited
            and _still_open(row, organisation)][:limit]


def _still_open(fit, organisation):
    if fit.role is not None:
        post = fit.role.post
        return fit.role.is_open and post.is_open and post.organisation_id != organisation.id
    package = fit.package
    return package is not None and package.is_open and \
        package.organisation_id != organisation.id and \
        package.response_from(organisation.id) is None
