"""Use cases for the forward plan: entries and their lifecycle, lots, documents, questions,
expressions of interest and awards. Listing, the timeline and the feed are in queries.py."""
import re
import secrets

from flask import current_app
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.core import audit
from portal.core.exceptions import DomainError, NotFound
from portal.core.mail import send_email
from portal.core.mixins import utcnow
from portal.extensions import db
from portal.organisations import identity
from portal.organisations import services as organisations
from portal.organisations.models import Organisation
from portal.organisations.verification import require_verified
from portal.pipeline import uploads
from portal.pipeline.models import (
    ACCREDITATION_REQUIREMENTS, INTEREST_KINDS, RESERVATIONS, ROUTES, SOCIAL_VALUE_THEMES,
    TRANSITIONS, Award, AwardWinner, Interest, Lot, Opportunity, OpportunityDocument, Question,
    SocialValuePriority, check_value, uk_now,
)
from portal.reference import services as reference
from portal.reference.models import Area, CpvCode, VocabularyTerm

CPV_RE = re.compile(r"^\s*(\d{8})(?:-\d)?\b")
SPLIT_RE = re.compile(r"[,;\n\r]+")
EDITABLE_STATUSES = ("draft", "planned", "market_engagement", "open", "evaluation")
MAX_TEXT = 20_000
MAX_WINNERS = 10


# --- Access -------------------------------------------------------------------------------------

def is_commissioner(user):
    """Members of an active commissioner organisation manage a forward plan."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.organisation_id:
        return False
    org = user.organisation
    return org is not None and org.org_type == "commissioner" and org.is_active


def can_manage(user, opportunity):
    return is_commissioner(user) and user.organisation_id == opportunity.organisation_id


def can_take_part(user):
    """Suppliers (anyone signed in for a non-commissioner organisation) ask and express interest."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.organisation_id:
        return False
    return user.organisation.org_type in ("vcse", "prime") and user.organisation.is_active


def get_own_opportunity(opportunity_id, user):
    """An entry of the user's own organisation; anything else is reported as missing."""
    opportunity = db.session.get(Opportunity, opportunity_id)
    if opportunity is None or not can_manage(user, opportunity):
        raise NotFound("Forward plan entry not found")
    return opportunity


def get_public_opportunity(opportunity_id, viewer=None):
    """A published entry (or a draft, for its own buyer)."""
    opportunity = db.session.get(Opportunity, opportunity_id)
    if opportunity is None or not (opportunity.is_public or can_manage(viewer, opportunity)):
        raise NotFound("Forward plan entry not found")
    return opportunity


def _actor_id(actor):
    return getattr(actor, "id", None)


# --- Parsing the pickers' text ------------------------------------------------------------------

def _tokens(value):
    if isinstance(value, (list, tuple, set)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [t.strip() for t in SPLIT_RE.split(value or "") if t.strip()]


def resolve_cpv_codes(value, field="additional_cpv"):
    """CPV codes from text such as '85312000, 85320000-8'; unknown codes are an error."""
    codes, unknown = [], []
    for token in _tokens(value):
        match = CPV_RE.match(token)
        cpv = db.session.get(CpvCode, match.group(1)) if match else None
        if cpv is None:
            unknown.append(token)
        elif cpv not in codes:
            codes.append(cpv)
    if unknown:
        raise DomainError("These are not CPV codes we know: " + ", ".join(unknown[:5])
                          + ". Enter 8-digit codes, like 85312000", field=field)
    return codes


def resolve_cpv_code(value, field="main_cpv_code"):
    codes = resolve_cpv_codes(value, field=field)
    if len(codes) > 1:
        raise DomainError("Enter one main CPV code", field=field)
    return codes[0] if codes else None


def _area_for_token(token):
    area = db.session.get(Area, token.upper())
    if area is not None:
        return area
    matches = db.session.scalars(select(Area).where(func.lower(Area.name) == token.lower())).all()
    # A county and a unitary council can share a name; the broader area covers both.
    order = {"country": 0, "region": 1, "county": 2, "authority": 3}
    return min(matches, key=lambda a: order.get(a.kind, 9)) if matches else None


def resolve_areas(value, field="areas"):
    """Local authorities from names or GSS codes; a nation, region or county brings in every
    authority inside it. Returns Area rows of kind 'authority'."""
    codes, unknown = set(), []
    for token in _tokens(value):
        area = _area_for_token(token)
        if area is None:
            unknown.append(token)
        else:
            codes |= reference.expand_area_codes([area.code]) or {area.code}
    if unknown:
        raise DomainError("We could not find these areas: " + ", ".join(unknown[:5])
                          + ". Use council, county or region names, like Leeds or North East",
                          field=field)
    if not codes:
        return []
    return db.session.scalars(select(Area).where(Area.code.in_(sorted(codes)))
                              .order_by(Area.name)).all()


def resolve_client_groups(value, field="client_groups"):
    """Client group terms from ids (the form) or names (a spreadsheet)."""
    tokens = _tokens(value)
    terms = db.session.scalars(select(VocabularyTerm)
                               .where(VocabularyTerm.vocabulary == "client_group")).all()
    by_key = {str(t.id): t for t in terms} | {t.value.lower(): t for t in terms}
    chosen, unknown = [], []
    for token in tokens:
        term = by_key.get(token.lower())
        if term is None:
            unknown.append(token)
        elif term not in chosen:
            chosen.append(term)
    if unknown:
        raise DomainError("Choose client groups from the list (not: " + ", ".join(unknown[:5])
                          + ")", field=field)
    return sorted(chosen, key=lambda t: t.position)


# --- Creating and changing entries --------------------------------------------------------------

TEXT_FIELDS = {"title": 300, "description": MAX_TEXT, "outcomes": MAX_TEXT,
               "engagement_details": MAX_TEXT, "contact_role": 120}
DATE_FIELDS = ("market_engagement_on", "tender_publish_on", "question_deadline", "closing_at",
               "contract_start_on")
FLAG_FIELDS = ("suitable_vcse", "suitable_sme", "consortium_welcome", "subcontracting_expected")
LABELS = {
    "title": "Title", "description": "Description", "outcomes": "Outcomes wanted",
    "engagement_details": "Market engagement details", "contact_role": "Contact role",
    "reference": "Reference",
}


def _clean_text(data, name):
    value = (data.get(name) or "").strip() or None
    limit = TEXT_FIELDS.get(name, 60)
    if value and len(value) > limit:
        raise DomainError(f"{LABELS.get(name, name)} must be {limit:,} characters or fewer",
                          field=name)
    return value


def _apply_text(opportunity, data):
    for name in TEXT_FIELDS:
        if name in data:
            setattr(opportunity, name, _clean_text(data, name))
    if not opportunity.title:
        raise DomainError("Enter a title", field="title")


def _apply_classification(opportunity, data):
    if "main_cpv_code" in data:
        main = resolve_cpv_code(data["main_cpv_code"])
        opportunity.main_cpv_code = main.code if main else None
        opportunity.main_cpv = main
    if "additional_cpv" in data:
        extra = resolve_cpv_codes(data["additional_cpv"])
        opportunity.additional_cpv = [c for c in extra if c.code != opportunity.main_cpv_code]
    if "areas" in data:
        opportunity.areas = resolve_areas(data["areas"])
    if "client_groups" in data:
        opportunity.client_groups = resolve_client_groups(data["client_groups"])


def _apply_value(opportunity, data):
    keys = ("value_min", "value_max", "value_basis", "contract_months", "extension_months")
    if any(key in data for key in keys):
        current = {key: getattr(opportunity, key) for key in keys}
        current.update({key: data[key] for key in keys if key in data})
        opportunity.set_value(current["value_min"], current["value_max"],
                              current["value_basis"] or "whole_life", current["contract_months"],
                              current["extension_months"])


def _apply_route(opportunity, data):
    if "procurement_route" in data:
        route = data["procurement_route"] or None
        if route is not None and route not in ROUTES:
            raise DomainError("Choose a procurement route from the list",
                              field="procurement_route")
        opportunity.procurement_route = route
    for name in FLAG_FIELDS:
        if name in data:
            setattr(opportunity, name, bool(data[name]))
    if "reservation" in data:
        reservation = data["reservation"] or None
        if reservation is not None and reservation not in RESERVATIONS:
            raise DomainError("Choose who the contract is reserved for", field="reservation")
        opportunity.reservation = reservation
        area = None
        if reservation == "location" and data.get("reservation_area"):
            area = _area_for_token(data["reservation_area"])
            if area is None:
                raise DomainError("Choose an area from the list", field="reservation_area")
        opportunity.reservation_area_code = area.code if area else None
    if "accreditation_tier" in data:
        opportunity.accreditation_tier = data["accreditation_tier"] or None
    if "accreditation_requirement" in data:
        requirement = data["accreditation_requirement"] or "advisory"
        if requirement not in ACCREDITATION_REQUIREMENTS:
            raise DomainError("Choose whether the tier is advisory or required",
                              field="accreditation_requirement")
        opportunity.accreditation_requirement = requirement


def _apply_social_value(opportunity, data):
    if "social_value" not in data:
        return
    wanted = {theme: weight for theme, weight in (data["social_value"] or {}).items()
              if weight is not None}
    for theme, weight in wanted.items():
        if theme not in SOCIAL_VALUE_THEMES:
            raise DomainError("Choose social value themes from the list", field="social_value")
        if not isinstance(weight, int) or not 0 < weight <= 100:
            raise DomainError("Enter each weighting as a whole percentage from 1 to 100",
                              field=f"sv_{theme}")
    existing = {p.theme: p for p in opportunity.social_value}
    for theme, priority in existing.items():
        if theme not in wanted:
            opportunity.social_value.remove(priority)
    for theme, weight in wanted.items():
        if theme in existing:
            existing[theme].weighting = weight
        else:
            opportunity.social_value.append(SocialValuePriority(theme=theme, weighting=weight))


def apply_changes(opportunity, data):
    """Copy `data` onto the entry and check every rule. Raises DomainError naming a field."""
    # Lookups below must not flush a half-changed entry.
    with db.session.no_autoflush:
        _apply_all(opportunity, data)


def _apply_all(opportunity, data):
    _apply_text(opportunity, data)
    for name in DATE_FIELDS:
        if name in data:
            setattr(opportunity, name, data[name])
    _apply_classification(opportunity, data)
    _apply_value(opportunity, data)
    _apply_route(opportunity, data)
    _apply_social_value(opportunity, data)
    opportunity.check_consistency()
    if opportunity.status != "draft":
        # A published entry must keep what publishing required.
        for field, need in opportunity.missing_for_publication:
            raise DomainError(f"A published entry needs {need}", field=field)


def _snapshot(opportunity):
    """Comparable values of every field a change can touch, for the audit trail."""
    columns = {c.key: getattr(opportunity, c.key) for c in Opportunity.__mapper__.column_attrs}
    columns["additional_cpv"] = [c.code for c in opportunity.additional_cpv]
    columns["areas"] = sorted(a.code for a in opportunity.areas)
    columns["client_groups"] = sorted(t.id for t in opportunity.client_groups)
    columns["social_value"] = sorted((p.theme, p.weighting) for p in opportunity.social_value)
    for name in ("created_at", "updated_at", "whole_life_value", "main_cpv_code"):
        columns.pop(name, None)
    columns["main_cpv_code"] = opportunity.main_cpv_code
    return columns


def changed_fields(before, after):
    return sorted(name for name in after if before.get(name) != after[name])


def _next_reference(org):
    count = db.session.scalar(select(func.count(Opportunity.id))
                              .where(Opportunity.organisation_id == org.id)) or 0
    while True:
        count += 1
        reference_ = f"FP-{count:04d}"
        if not _reference_taken(org, reference_):
            return reference_


def _reference_taken(org, reference_, exclude_id=None):
    stmt = select(Opportunity.id).where(Opportunity.organisation_id == org.id,
                                        Opportunity.reference == reference_)
    if exclude_id:
        stmt = stmt.where(Opportunity.id != exclude_id)
    return db.session.scalar(stmt) is not None


def _clean_reference(org, data, exclude_id=None):
    value = _clean_text(data, "reference")
    if value is None:
        return None
    if _reference_taken(org, value, exclude_id):
        raise DomainError("Another entry in your plan already uses this reference",
                          field="reference")
    return value


def create_opportunity(org, data, actor):
    """Add a draft entry to the organisation's forward plan."""
    opportunity = Opportunity(organisation=org, source="form", title="")
    try:
        opportunity.reference = _clean_reference(org, data) or _next_reference(org)
        apply_changes(opportunity, data)
    except DomainError:
        db.session.rollback()
        raise
    db.session.add(opportunity)
    db.session.flush()
    audit.record("opportunity.created", opportunity, actor_id=_actor_id(actor),
                 reference=opportunity.reference)
    db.session.commit()
    return opportunity


def update_opportunity(opportunity, data, actor):
    """Change an entry's details and return the names of the fields that changed."""
    if opportunity.status not in EDITABLE_STATUSES:
        raise DomainError("This entry is finished and can no longer be changed")
    before = _snapshot(opportunity)
    try:
        if "reference" in data:
            opportunity.reference = (_clean_reference(opportunity.organisation, data,
                                                      opportunity.id) or opportunity.reference)
        apply_changes(opportunity, data)
    except DomainError:
        db.session.rollback()
        raise
    changed = changed_fields(before, _snapshot(opportunity))
    if changed:
        opportunity.updated_at = utcnow()
        audit.record("opportunity.updated", opportunity, actor_id=_actor_id(actor), fields=changed)
        db.session.commit()
    return changed


STAGE_FIELDS = {
    "market_engagement": ("market_engagement_on", "engagement_details"),
    "open": ("tender_publish_on", "question_deadline", "closing_at", "contract_start_on"),
}


def change_status(opportunity, new_status, actor, data=None):
    """Move an entry to another stage; `data` carries what that stage needs (dates, a reason)."""
    data = data or {}
    old = opportunity.status
    if not opportunity.is_public:  # every move from a draft shows it in the public plan
        require_verified(opportunity.organisation, "publish entries in the forward plan")
    try:
        fields = {k: data[k] for k in STAGE_FIELDS.get(new_status, ()) if k in data}
        if fields:
            apply_changes(opportunity, fields)
        opportunity.move_to(new_status, reason=data.get("reason"))
    except DomainError:
        db.session.rollback()
        raise
    opportunity.updated_at = utcnow()
    audit.record("opportunity.status_changed", opportunity, actor_id=_actor_id(actor),
                 old=old, new=new_status, reason=opportunity.status_reason
                 if new_status in ("cancelled", "withdrawn") else None)
    db.session.commit()
    return opportunity


def allowed_moves(opportunity):
    """Stages the entry may move to from the buyer's page ('awarded' goes through the award)."""
    return [s for s in TRANSITIONS[opportunity.status] if s != "awarded"]


# --- Lots ---------------------------------------------------------------------------------------

def _apply_lot(lot, data):
    title = (data.get("title") or "").strip()
    if not title:
        raise DomainError("Enter a title for the lot", field="title")
    if len(title) > 300:
        raise DomainError("The title must be 300 characters or fewer", field="title")
    check_value(data.get("value_min"), data.get("value_max"))
    lot.title, lot.description = title, (data.get("description") or "").strip() or None
    lot.value_min, lot.value_max = data.get("value_min"), data.get("value_max")
    if lot.value_min is None and lot.value_max is not None:
        lot.value_min, lot.value_max = lot.value_max, None
    lot.cpv_codes = resolve_cpv_codes(data.get("cpv_codes"), field="cpv_codes")
    lot.areas = resolve_areas(data.get("areas"))


def add_lot(opportunity, data, actor):
    """Add a lot, numbered after the others."""
    if opportunity.status not in EDITABLE_STATUSES:
        raise DomainError("This entry is finished and can no longer be changed")
    lot = Lot(number=max((lot.number for lot in opportunity.lots), default=0) + 1)
    try:
        _apply_lot(lot, data)
    except DomainError:
        db.session.rollback()
        raise
    opportunity.lots.append(lot)
    opportunity.updated_at = utcnow()
    audit.record("opportunity.lot_added", opportunity, actor_id=_actor_id(actor),
                 lot=lot.number, title=lot.title)
    db.session.commit()
    return lot


def get_lot(opportunity, lot_id):
    lot = db.session.get(Lot, lot_id)
    if lot is None or lot.opportunity_id != opportunity.id:
        raise NotFound("Lot not found")
    return lot


def update_lot(opportunity, lot_id, data, actor):
    """Change a lot's title, value, categories or areas."""
    lot = get_lot(opportunity, lot_id)
    try:
        _apply_lot(lot, data)
    except DomainError:
        db.session.rollback()
        raise
    opportunity.updated_at = utcnow()
    audit.record("opportunity.lot_updated", opportunity, actor_id=_actor_id(actor),
                 lot=lot.number, title=lot.title)
    db.session.commit()
    return lot


def remove_lot(opportunity, lot_id, actor):
    """Delete a lot; the others keep their numbers, as suppliers may already quote them."""
    lot = get_lot(opportunity, lot_id)
    if opportunity.status not in EDITABLE_STATUSES:
        raise DomainError("This entry is finished and can no longer be changed")
    opportunity.lots.remove(lot)
    opportunity.updated_at = utcnow()
    audit.record("opportunity.lot_removed", opportunity, actor_id=_actor_id(actor),
                 lot=lot.number, title=lot.title)
    db.session.commit()
    return lot


# --- Documents ----------------------------------------------------------------------------------

def add_document(opportunity, upload, title, actor):
    """Check and store an uploaded file, then list it on the entry."""
    if opportunity.status not in EDITABLE_STATUSES:
        raise DomainError("This entry is finished and can no longer be changed")
    checked = uploads.check_upload(upload)
    title = (title or "").strip() or checked.original_name
    if len(title) > 200:
        raise DomainError("The title must be 200 characters or fewer", field="title")
    stored_name = uploads.save(checked)
    document = OpportunityDocument(
        title=title, original_name=checked.original_name, stored_name=stored_name,
        content_type=checked.content_type, size=checked.size, uploaded_by_id=_actor_id(actor))
    opportunity.documents.append(document)
    opportunity.updated_at = utcnow()
    try:
        db.session.flush()
        audit.record("opportunity.document_added", opportunity, actor_id=_actor_id(actor),
                     document=document.id, title=title)
        db.session.commit()
    except Exception:
        db.session.rollback()
        uploads.delete(stored_name)
        raise
    return document


def _document(opportunity, document_id):
    document = db.session.get(OpportunityDocument, document_id)
    if document is None or document.opportunity_id != opportunity.id:
        raise NotFound("Document not found")
    return document


def remove_document(opportunity, document_id, actor):
    """Delete a document and its stored file."""
    document = _document(opportunity, document_id)
    opportunity.documents.remove(document)
    opportunity.updated_at = utcnow()
    audit.record("opportunity.document_removed", opportunity, actor_id=_actor_id(actor),
                 document=document.id, title=document.title)
    db.session.commit()
    uploads.delete(document.stored_name)
    return document


def document_for_download(opportunity_id, document_id, viewer):
    """A document of an entry the viewer may see, with its stored file open for reading."""
    opportunity = get_public_opportunity(opportunity_id, viewer)
    document = _document(opportunity, document_id)
    try:
        return document, uploads.open_stored(document.stored_name)
    except FileNotFoundError:
        raise NotFound("Document not found")


# --- Questions ----------------------------------------------------------------------------------

def _members_emails(organisation_id):
    return db.session.scalars(select(User.email).where(
        User.organisation_id == organisation_id, User.status == "active",
        User.email_verified_at.is_not(None))).all()


def ask_question(opportunity, text, user):
    """A supplier asks a private question before the deadline; the buyer's team is told."""
    if not can_take_part(user):
        raise DomainError("Only suppliers registered with Pathfinder can ask questions")
    if not opportunity.questions_open:
        raise DomainError("The deadline for questions has passed", field="question")
    text = (text or "").strip()
    if not text:
        raise DomainError("Enter your question", field="question")
    if len(text) > 5000:
        raise DomainError("Your question must be 5,000 characters or fewer", field="question")
    question = Question(opportunity=opportunity, organisation_id=user.organisation_id,
                        asked_by_id=user.id, question=text)
    db.session.add(question)
    db.session.flush()
    audit.record("opportunity.question_asked", question, actor_id=user.id,
                 opportunity=opportunity.id)
    for email in _members_emails(opportunity.organisation_id):
        send_email(email, f"New question about {opportunity.title}"[:200],
                   "email/pipeline_question.txt", opportunity=opportunity, question=question)
    db.session.commit()
    return question


def get_question(opportunity, question_id):
    question = db.session.get(Question, question_id)
    if question is None or question.opportunity_id != opportunity.id:
        raise NotFound("Question not found")
    return question


def answer_question(opportunity, question_id, published_question, answer, actor):
    """Publish an answer to everyone, with the question worded so the asker is not named."""
    question = get_question(opportunity, question_id)
    try:
        question.publish(published_question, answer)
    except DomainError:
        db.session.rollback()
        raise
    opportunity.updated_at = utcnow()
    audit.record("opportunity.answer_published", opportunity, actor_id=_actor_id(actor),
                 question=question.id)
    asker = db.session.get(User, question.asked_by_id) if question.asked_by_id else None
    if asker is not None and asker.status == "active":
        send_email(asker.email, f"Your question about {opportunity.title} has been answered"[:200],
                   "email/pipeline_answer.txt", opportunity=opportunity, question=question)
    db.session.commit()
    return question


def my_questions(opportunity, user):
    """Questions the user's organisation asked about this entry, answered or not."""
    if not getattr(user, "is_authenticated", False) or not user.organisation_id:
        return []
    return [q for q in opportunity.questions if q.organisation_id == user.organisation_id]


# --- Expressions of interest -------------------------------------------------------------------

def current_interest(opportunity, user):
    if not getattr(user, "is_authenticated", False) or not user.organisation_id:
        return None
    return db.session.scalar(select(Interest).where(
        Interest.opportunity_id == opportunity.id,
        Interest.organisation_id == user.organisation_id))


def express_interest(opportunity, user, kind, note=None):
    """Record (or change) how the user's organisation may take part."""
    interest = record_interest(opportunity, user, kind, note)
    db.session.commit()
    return interest


def record_interest(opportunity, user, kind, note=None):
    """Express interest as `express_interest` does, leaving the commit to the caller (a
    consortium's lead links its team to the interest in the same transaction)."""
    if not can_take_part(user):
        raise DomainError("Only suppliers registered with Pathfinder can express interest")
    if not opportunity.interest_open:
        raise DomainError("This entry is no longer taking expressions of interest", field="kind")
    if kind not in INTEREST_KINDS:
        raise DomainError("Choose how you might take part", field="kind")
    note = (note or "").strip() or None
    if note and len(note) > 2000:
        raise DomainError("Your note must be 2,000 characters or fewer", field="note")
    interest = current_interest(opportunity, user) or Interest(
        opportunity=opportunity, organisation_id=user.organisation_id)
    interest.kind, interest.note, interest.user_id = kind, note, user.id
    interest.withdrawn_at = None
    db.session.add(interest)
    db.session.flush()
    audit.record("opportunity.interest_expressed", interest, actor_id=user.id,
                 opportunity=opportunity.id, kind=kind)
    return interest


def withdraw_interest(opportunity, user):
    """Take back the organisation's expression of interest."""
    interest = current_interest(opportunity, user)
    if interest is None or not interest.is_active:
        raise DomainError("Your organisation has not expressed interest in this entry")
    interest.withdrawn_at = utcnow()
    audit.record("opportunity.interest_withdrawn", interest, actor_id=user.id,
                 opportunity=opportunity.id)
    db.session.commit()
    return interest


def my_interests(user):
    """The organisation's active interests, soonest deadline first."""
    if not getattr(user, "is_authenticated", False) or not user.organisation_id:
        return []
    rows = db.session.scalars(select(Interest).join(Interest.opportunity).where(
        Interest.organisation_id == user.organisation_id, Interest.withdrawn_at.is_(None))).all()
    far = uk_now().replace(year=9999)

    def deadline(interest):
        opportunity = interest.opportunity
        return (not opportunity.is_live, opportunity.question_deadline or opportunity.closing_at
                or far)
    return sorted(rows, key=deadline)


def interest_summary(opportunity):
    """Active interests, with counts by kind of organisation and by way of taking part."""
    interests = opportunity.active_interests()
    by_type, by_kind = {}, {key: 0 for key in INTEREST_KINDS}
    for interest in interests:
        label = interest.organisation.type_label
        by_type[label] = by_type.get(label, 0) + 1
        by_kind[interest.kind] += 1
    return {"interests": interests, "by_type": by_type, "by_kind": by_kind}


# --- Awards -------------------------------------------------------------------------------------

def find_directory_organisation(name, prefer=()):
    """The directory organisation with exactly this name (ignoring case), if there is one."""
    key = (name or "").strip().lower()
    if not key:
        return None
    for org in prefer:
        if org.name.lower() == key:
            return org
    return db.session.scalars(select(Organisation).where(
        func.lower(Organisation.name) == key, Organisation.org_type != "commissioner")
        .order_by(Organisation.id)).first()


def _winner_names(winners):
    """The names given, blank ones left out; refused when none is given or one is too long."""
    names = [(w, (w.get("name") or "").strip()) for w in winners[:MAX_WINNERS]]
    names = [(w, name) for w, name in names if name]
    if any(len(name) > 300 for _w, name in names):
        raise DomainError("A winner's name must be 300 characters or fewer", field="winners")
    if not names:
        raise DomainError("Enter the name of at least one winning organisation", field="winners")
    return names


def _winners(opportunity, winners):
    """AwardWinner rows, and the directory organisations known for certain to have won.

    A winner is linked to the organisation of the same name, if there is one; it is only
    known for certain (and gains a track record) when identity finds it, here by the name
    of an organisation that registered interest in this entry.
    """
    interested = [i.organisation for i in opportunity.active_interests()]
    names = _winner_names(winners)
    known = identity.find_organisations(
        [identity.NamedSupplier(name) for _w, name in names], took_part=interested)
    rows = []
    for (winner, name), org in zip(names, known):
        org = org or find_directory_organisation(name, prefer=interested)
        is_vcse = bool(winner.get("is_vcse")) or (org is not None and org.org_type == "vcse")
        rows.append(AwardWinner(organisation=org, name=org.name if org else name,
                                is_vcse=is_vcse, is_sme=bool(winner.get("is_sme"))))
    return rows, [org for org in known if org is not None]


def _award_work(opportunity, award, winners):
    """The contract as the track record of each winner known for certain."""
    share = award.value if len(award.winners) == 1 else None  # a joint award's split is unknown
    return [organisations.EarnedWork(
        organisation=org, source=organisations.past_work_source("award", award.id),
        title=opportunity.title, description=opportunity.description,
        funder_name=opportunity.organisation.name, amount=share, awarded_on=award.awarded_on,
        kind="contract") for org in winners]


def record_award(opportunity, data, actor):
    """Record who won, for how much and when, and mark the entry awarded; winners in the
    directory gain the contract in their track record."""
    awarded_on = data.get("awarded_on")
    if awarded_on is None:
        raise DomainError("Enter the date the contract was awarded", field="awarded_on")
    if opportunity.closing_at and awarded_on < opportunity.closing_at.date():
        raise DomainError("The award date must be on or after the closing date",
                          field="awarded_on")
    if awarded_on > uk_now().date():
        raise DomainError("The award date cannot be in the future", field="awarded_on")
    try:
        check_value(data.get("value"), None, field="value")
        rows, known = _winners(opportunity, data.get("winners") or [])
        award = Award(awarded_on=awarded_on, value=data.get("value"),
                      notes=(data.get("notes") or "").strip() or None, winners=rows)
        opportunity.award = award
        opportunity.move_to("awarded")
    except DomainError:
        db.session.rollback()
        raise
    opportunity.updated_at = utcnow()
    db.session.flush()
    organisations.record_past_work_from(organisations.past_work_source("award", award.id),
                                        _award_work(opportunity, award, known), actor)
    audit.record("opportunity.awarded", opportunity, actor_id=_actor_id(actor),
                 winners=[w.name for w in award.winners], value=award.value,
                 awarded_on=awarded_on.isoformat())
    db.session.commit()
    return award


def new_token():
    return secrets.token_urlsafe(18)


def upload_limit():
    return current_app.config.get("PIPELINE_MAX_UPLOAD_BYTES", uploads.MAX_DOCUMENT_BYTES)
