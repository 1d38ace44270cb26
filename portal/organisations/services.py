"""Use cases for organisation profiles: main details, categories, areas, terms, policies and
the public profile page. Searching and filtering the directory lives in `directory.py`."""
import hashlib
from dataclasses import dataclass, field, fields
from datetime import date

from flask import g
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select

from portal.core import audit, files
from portal.core.exceptions import AdminOnly, DomainError, NotFound
from portal.core.mixins import utcnow
from portal.extensions import db
from portal.organisations.models import (
    PAST_WORK_KINDS, Credential, Organisation, PastWork,
    normalise_charity_number, normalise_company_number, normalise_postcode, normalise_website,
)
from portal.reference import services as reference
from portal.reference.models import Area, CpvCode, VocabularyTerm

VOCABULARIES = ("client_group", "way_of_working")
PAST_WORK_PER_PAGE = 10
MAX_PAST_WORK_DESCRIPTION = 1000
MAX_PEOPLE = 10_000_000
MAX_POUNDS = 10**12
AREA_KIND_ORDER = {"country": 0, "region": 1, "county": 2, "authority": 3}


# --- Access -------------------------------------------------------------------------------------

PROFILE_ACTION = "change the organisation's profile"


def admin_names(org):
    """Names of the organisation's active administrators, for a member who needs one."""
    return sorted(m.name for m in org.members if m.org_role == "admin" and m.status == "active")


def require_org_admin(user, action):
    """Let an organisation's admin through. A member is told whom to ask (AdminOnly); someone
    with no organisation is told there is nothing here."""
    if user.organisation_id is None:
        raise NotFound("Not found")
    if not user.is_org_admin:
        raise AdminOnly(action, admin_names(user.organisation))


def _signed_in(user):
    return user is not None and getattr(user, "is_authenticated", False)


def can_edit(user, org):
    """The organisation's administrators and site admins may change its profile."""
    if not _signed_in(user):
        return False
    return bool(user.is_site_admin or (user.organisation_id == org.id and user.is_org_admin))


def admins_to_ask(user, org):
    """For a member of `org` who may not change its profile, the administrators to ask;
    None for everyone else (those who may change it, and outsiders, who have nobody to ask)."""
    if not _signed_in(user) or user.organisation_id != org.id or can_edit(user, org):
        return None
    return admin_names(org)


def get_public_organisation(org_id, viewer=None):
    """Return an organisation anyone may see; suspended ones only to site admins."""
    org = db.session.get(Organisation, org_id)
    if org is None:
        raise NotFound("Organisation not found")
    if not org.is_active and not getattr(viewer, "is_site_admin", False):
        raise NotFound("Organisation not found")
    return org


def get_editable_organisation(org_id, user):
    """Return the organisation if `user` may change its profile. A member of it is told to ask
    an administrator (AdminOnly); anyone else is told it does not exist."""
    org = db.session.get(Organisation, org_id)
    if org is None or not _signed_in(user):
        raise NotFound("Organisation not found")
    if user.is_site_admin:
        return org
    if user.organisation_id != org.id:
        raise NotFound("Organisation not found")
    require_org_admin(user, PROFILE_ACTION)
    return org


def _actor_id(actor):
    return getattr(actor, "id", None)


def _touch(org):
    """Collections do not bump updated_at on their own; the search index watches it."""
    org.updated_at = utcnow()


# --- Main details -------------------------------------------------------------------------------

PROFILE_FIELDS = (
    "name", "other_names", "legal_form", "charity_number", "company_number", "address",
    "postcode", "website", "income_band", "latest_income", "staff_count", "volunteer_count",
    "description", "contact_role", "contact_email",
)
_TEXT_FIELDS = ("other_names", "address", "description", "contact_role")
_COUNT_LABELS = {"staff_count": "number of staff", "volunteer_count": "number of volunteers"}


def _clean_text(value):
    value = (value or "").strip()
    return value or None


def _clean_count(name, value):
    if value is None or value == "":
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_PEOPLE:
        raise DomainError(f"Enter the {_COUNT_LABELS[name]} as a whole number, 0 or more",
                          field=name)
    return value


def _clean_email(value):
    value = _clean_text(value)
    return value.lower() if value else None


def _apply_profile(org, data):
    registration = (org.legal_form, org.charity_number)  # checked again only if changed
    if "name" in data:
        name = _clean_text(data["name"])
        if not name:
            raise DomainError("Enter the name of the organisation", field="name")
        org.name = name
    for name in _TEXT_FIELDS:
        if name in data:
            setattr(org, name, _clean_text(data[name]))
    if "legal_form" in data:
        org.set_type(org.org_type, data["legal_form"])
    if "charity_number" in data:
        org.charity_number = normalise_charity_number(data["charity_number"])
    if "company_number" in data:
        org.company_number = normalise_company_number(data["company_number"])
    if "postcode" in data:
        org.postcode = normalise_postcode(data["postcode"])
    if "website" in data:
        org.website = normalise_website(data["website"])
    for name in _COUNT_LABELS:
        if name in data:
            setattr(org, name, _clean_count(name, data[name]))
    if "contact_email" in data:
        org.contact_email = _clean_email(data["contact_email"])
    if (org.legal_form, org.charity_number) != registration:
        org.check_charity_number()
    if "latest_income" in data or "income_band" in data:
        if (data.get("latest_income") or 0) >= MAX_POUNDS:
            raise DomainError("Enter a smaller amount for latest annual income",
                              field="latest_income")
        org.set_income(data.get("latest_income", org.latest_income),
                       data.get("income_band", org.income_band) or None)


def update_profile(org, data, actor):
    """Change an organisation's main details and return the names of the fields that changed.

    `data` holds any of PROFILE_FIELDS; formats are checked by the model's rules and a broken
    rule raises DomainError naming the field, leaving the organisation unchanged.
    """
    before = {name: getattr(org, name) for name in PROFILE_FIELDS}
    try:
        _apply_profile(org, data)
    except DomainError:
        db.session.rollback()
        raise
    changed = [name for name in PROFILE_FIELDS if getattr(org, name) != before[name]]
    if changed:
        audit.record("organisation.updated", org, actor_id=_actor_id(actor), fields=changed)
        db.session.commit()
    return changed


# --- Service categories (CPV) -------------------------------------------------------------------

def _cpv_or_error(code):
    cpv = db.session.get(CpvCode, (code or "").strip())
    if cpv is None:
        raise DomainError("Choose a category from the list", field="code")
    return cpv


def add_category(org, code, actor):
    """Add a CPV code to what the organisation delivers. Returns (code, added?)."""
    cpv = _cpv_or_error(code)
    if cpv in org.cpv_codes:
        return cpv, False
    org.cpv_codes.append(cpv)
    _touch(org)
    audit.record("organisation.category_added", org, actor_id=_actor_id(actor), code=cpv.code)
    db.session.commit()
    return cpv, True


def remove_category(org, code, actor):
    """Remove a CPV code from the organisation's list. Returns (code, removed?)."""
    cpv = _cpv_or_error(code)
    if cpv not in org.cpv_codes:
        return cpv, False
    org.cpv_codes.remove(cpv)
    _touch(org)
    audit.record("organisation.category_removed", org, actor_id=_actor_id(actor), code=cpv.code)
    db.session.commit()
    return cpv, True


def cpv_ancestors(cpv):
    """The chain of parents from the division down to (not including) `cpv`."""
    chain, parent = [], cpv.parent
    while parent is not None:
        chain.append(parent)
        parent = parent.parent
    return list(reversed(chain))


def _child_counts(codes):
    if not codes:
        return {}
    rows = db.session.execute(
        select(CpvCode.parent_code, func.count(CpvCode.code))
        .where(CpvCode.parent_code.in_(codes)).group_by(CpvCode.parent_code)
    ).all()
    return dict(rows)


def social_service_codes():
    """The CPV codes eForms lists as social and other specific services."""
    return db.session.scalars(
        select(CpvCode).where(CpvCode.is_social_service.is_(True)).order_by(CpvCode.code)
    ).all()


@dataclass
class CategoryPicker:
    chosen: list
    results: list
    mode: str  # "search", "browse" or "social"
    parent: CpvCode | None = None
    breadcrumbs: list = field(default_factory=list)
    child_counts: dict = field(default_factory=dict)


def category_picker(org, q=None, parent=None, social=False):
    """What the category picker shows: search results, one level of the tree, or social codes."""
    q = (q or "").strip()
    if q:
        picker = CategoryPicker(org.cpv_codes, list(reference.search_cpv(q, limit=50)), "search")
    elif social:
        picker = CategoryPicker(org.cpv_codes, social_service_codes(), "social")
    else:
        node = db.session.get(CpvCode, parent) if parent else None
        children = reference.cpv_children(node.code if node else None)
        picker = CategoryPicker(org.cpv_codes, list(children), "browse", parent=node,
                                breadcrumbs=cpv_ancestors(node) if node else [])
    picker.child_counts = _child_counts([c.code for c in picker.results])
    return picker


# --- Areas served -------------------------------------------------------------------------------

def _area_or_error(code):
    area = db.session.get(Area, (code or "").strip())
    if area is None:
        raise DomainError("Choose an area from the list", field="code")
    return area


def _authorities(codes):
    if not codes:
        return []
    return db.session.scalars(select(Area).where(Area.code.in_(codes))).all()


def add_area(org, code, actor):
    """Add an area; a nation, region or county adds each of its authorities.

    Returns the area and how many authorities were new to the list.
    """
    area = _area_or_error(code)
    present = {a.code for a in org.areas}
    new = [a for a in _authorities(reference.expand_area_codes([area.code])) if a.code not in present]
    if new:
        org.areas.extend(new)
        _touch(org)
        audit.record("organisation.areas_added", org, actor_id=_actor_id(actor), via=area.code,
                     codes=sorted(a.code for a in new))
        db.session.commit()
    return area, len(new)


def remove_area(org, code, actor):
    """Remove an authority, or every chosen authority inside a nation, region or county."""
    area = _area_or_error(code)
    inside = set(reference.expand_area_codes([area.code])) | {area.code}
    return area, _remove_areas(org, [a for a in org.areas if a.code in inside], actor, via=area.code)


def remove_all_areas(org, actor):
    """Clear the list of areas served. Returns how many were removed."""
    return _remove_areas(org, list(org.areas), actor, via="all")


def _remove_areas(org, areas, actor, via):
    if not areas:
        return 0
    for area in areas:
        org.areas.remove(area)
    _touch(org)
    audit.record("organisation.areas_removed", org, actor_id=_actor_id(actor), via=via,
                 codes=sorted(a.code for a in areas))
    db.session.commit()
    return len(areas)


def _group_totals():
    """Authorities in each nation and region, worked out once per request."""
    if "area_group_totals" not in g:
        groups = db.session.scalars(select(Area).where(Area.kind.in_(("country", "region")))).all()
        g.area_group_totals = {
            a.code: (a, set(reference.expand_area_codes([a.code]))) for a in groups
        }
    return g.area_group_totals


@dataclass
class AreaGroup:
    area: Area | None  # the region, or the nation outside England; None when unknown
    authorities: list
    complete: bool

    @property
    def name(self):
        return self.area.name if self.area else "Other areas"

    @property
    def code(self):
        return self.area.code if self.area else None


def group_areas(areas):
    """Group chosen authorities by English region or by nation, noting groups covered in full."""
    totals = _group_totals()
    buckets = {}
    for area in areas:
        key = area.region_code if area.region_code in totals else area.country_code
        buckets.setdefault(key if key in totals else None, []).append(area)
    groups = []
    for key, members in buckets.items():
        group_area, everything = totals.get(key, (None, set()))
        complete = bool(everything) and everything <= {a.code for a in members}
        groups.append(AreaGroup(group_area, sorted(members, key=lambda a: a.name), complete))
    return sorted(groups, key=lambda grp: (grp.area is None, grp.name))


def area_labels(areas):
    """Short labels: a nation or region covered in full by its name, otherwise each authority."""
    chosen = {a.code for a in areas}
    nations = [area for area, inside in _group_totals().values()
               if area.kind == "country" and inside and inside <= chosen]
    covered = {nation.code for nation in nations}
    labels = sorted(nation.name for nation in nations)
    for group in group_areas(areas):
        if group.code in covered or (group.area and group.area.country_code in covered):
            continue
        labels.extend([group.name] if group.complete else [a.name for a in group.authorities])
    return labels


@dataclass
class AreaPicker:
    chosen_groups: list
    results: list
    authority_counts: dict  # for each nation, region or county shown
    already_chosen: set  # results whose every authority is already on the list
    searched: bool


def area_picker(org, q=None):
    """What the areas picker shows: search results, or the nations and regions as shortcuts."""
    q = (q or "").strip()
    if q:
        results = list(reference.search_areas(q))
    else:
        results = db.session.scalars(
            select(Area).where(Area.kind.in_(("country", "region"))).order_by(Area.name)
        ).all()
        results.sort(key=lambda a: (AREA_KIND_ORDER[a.kind], a.name))
    chosen = {a.code for a in org.areas}
    inside = {a.code: reference.expand_area_codes([a.code]) for a in results}
    return AreaPicker(
        group_areas(org.areas), results,
        authority_counts={a.code: len(inside[a.code]) for a in results if a.kind != "authority"},
        already_chosen={code for code, codes in inside.items() if codes and codes <= chosen},
        searched=bool(q))


# --- Client groups and ways of working ----------------------------------------------------------

def vocabulary_terms():
    """Every term of each vocabulary, in display order: {vocabulary: [VocabularyTerm]}."""
    terms = db.session.scalars(
        select(VocabularyTerm).where(VocabularyTerm.vocabulary.in_(VOCABULARIES))
        .order_by(VocabularyTerm.position, VocabularyTerm.value)
    ).all()
    return {name: [t for t in terms if t.vocabulary == name] for name in VOCABULARIES}


def set_terms(org, term_ids, actor):
    """Replace the organisation's client groups and ways of working with `term_ids`."""
    wanted = set(term_ids)
    terms = db.session.scalars(
        select(VocabularyTerm).where(VocabularyTerm.id.in_(wanted),
                                     VocabularyTerm.vocabulary.in_(VOCABULARIES))
    ).all() if wanted else []
    if len(terms) != len(wanted):
        raise DomainError("Choose from the lists shown", field="client_groups")
    before, after = {t.id for t in org.terms}, {t.id for t in terms}
    if before == after:
        return False
    org.terms = sorted(terms, key=lambda t: (t.position, t.value))
    _touch(org)
    audit.record("organisation.terms_updated", org, actor_id=_actor_id(actor),
                 added=sorted(after - before), removed=sorted(before - after))
    db.session.commit()
    return True


# --- Policies and certificates ------------------------------------------------------------------

def add_credential(org, data, actor, upload=None):
    """Record a policy or certificate; insurance must state its cover. `upload`, the document
    itself as (filename, bytes), is optional and is checked before anything is written."""
    credential = Credential(
        organisation_id=org.id, kind=data.get("kind"), title=_clean_text(data.get("title")),
        reference=_clean_text(data.get("reference")), cover_amount=data.get("cover_amount"),
        expires_on=data.get("expires_on"),
    )
    if not credential.title:
        raise DomainError("Enter the name of the policy or certificate", field="title")
    credential.validate()
    document = _checked(upload) if upload is not None else None
    db.session.add(credential)
    db.session.flush()
    audit.record("credential.added", credential, actor_id=_actor_id(actor), kind=credential.kind,
                 filename=document[0] if document else None)
    _commit_with_file(credential, document)
    return credential


def _checked(upload):
    """(clean name, kind, bytes) for an acceptable (filename, bytes), or DomainError."""
    filename, data = upload
    kind, name = files.check_upload(filename, data)
    return name, kind, data


def _commit_with_file(credential, document):
    """Store the checked document, keep it on the credential and commit; a failed commit leaves
    no file behind. Returns the stored name the document replaced, if any."""
    if document is None:
        db.session.commit()
        return None
    name, kind, data = document
    stored_name, sha256 = files.store(data)
    replaced = credential.attach_file(name, stored_name, kind, len(data), sha256)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        files.discard(stored_name)
        raise
    return replaced


def get_credential(org, credential_id):
    """A credential of this organisation; another organisation's is reported as missing."""
    credential = db.session.get(Credential, credential_id)
    if credential is None or credential.organisation_id != org.id:
        raise NotFound("Policy or certificate not found")
    return credential


def remove_credential(org, credential_id, actor):
    """Delete one of the organisation's policies or certificates, and its document unless an
    accreditation application was given it as evidence."""
    credential = get_credential(org, credential_id)
    audit.record("credential.removed", credential, actor_id=_actor_id(actor),
                 kind=credential.kind, title=credential.title)
    stored_name = credential.stored_name
    db.session.delete(credential)
    db.session.commit()
    if stored_name:
        files.discard(stored_name)
    return credential


def attach_credential_file(org, credential_id, upload, actor):
    """Upload the document of a policy or certificate (`upload` is (filename, bytes)), replacing
    any it had. The old file is deleted unless an application was given it as evidence."""
    credential = get_credential(org, credential_id)
    if upload is None:
        raise DomainError("Choose a file to upload", field="file")
    document = _checked(upload)
    audit.record("credential.file_attached", credential, actor_id=_actor_id(actor),
                 filename=document[0], replaced=credential.filename)
    replaced = _commit_with_file(credential, document)
    if replaced:
        files.discard(replaced)
    return credential


def remove_credential_file(org, credential_id, actor):
    """Take the document off a policy or certificate; the details stay on the profile.
    Returns the credential and the removed document's name (None when it had none)."""
    credential = get_credential(org, credential_id)
    filename = credential.filename
    if not credential.has_file:
        return credential, None
    audit.record("credential.file_removed", credential, actor_id=_actor_id(actor),
                 filename=filename)
    stored_name = credential.detach_file()
    db.session.commit()
    files.discard(stored_name)
    return credential, filename


def may_download_credential(org, user):
    """The organisation's own people, and site admins, who may change any profile."""
    return _signed_in(user) and bool(user.is_site_admin or user.organisation_id == org.id)


def credential_file_for_download(org_id, credential_id, user):
    """A credential's document and its file, open to read, for the organisation's own people (and
    site admins); anyone else, or a credential without a document, is NotFound. Audited."""
    org = db.session.get(Organisation, org_id)
    if org is None or not may_download_credential(org, user):
        raise NotFound("Organisation not found")
    credential = get_credential(org, credential_id)
    if not credential.has_file or not files.exists(credential.stored_name):
        raise NotFound("Document not found")
    audit.record("credential.file_downloaded", credential, actor_id=user.id,
                 filename=credential.filename)
    db.session.commit()
    return credential, files.open_stored(credential.stored_name)


# --- Track record drawn from awards -------------------------------------------------------------

@dataclass
class EarnedWork:
    """A contract (or grant) an organisation won, as the part of the portal that saw the award
    knows it. `source` says where it came from and keeps it from being recorded twice."""

    organisation: Organisation
    source: str
    title: str
    description: str | None = None
    funder_name: str | None = None
    amount: int | None = None
    awarded_on: date | None = None
    kind: str = "contract"


WORK_FIELDS = ("title", "description", "funder_name", "amount", "awarded_on", "kind")


def past_work_source(origin, *parts):
    """A stable reference for a track-record row: "award:12" or
    "ocds:<ocid>:<award id>:<supplier id>". Kept within the column's 200 characters: a longer
    one ends in a digest of the whole, so it stays the same and stays unique."""
    source = ":".join([origin, *(str(part) for part in parts)])
    if len(source) <= 200:
        return source
    return source[:183] + "#" + hashlib.sha256(source.encode()).hexdigest()[:16]


def record_past_work_from(scope, works, actor=None):
    """Make the track record drawn from one award (or notice, or sub-contract) say what
    `works` say, and return (added, updated, removed).

    `scope` is the source of that award ("award:12"); every work's source is the scope or
    starts with it and ":". Rows from the scope that are no longer wanted (a winner dropped,
    an award withdrawn) are removed, changed ones updated and new ones added, so the same
    works given again change nothing. Part of the caller's use case: each change is audited
    here and committed there, and the profiles are indexed again after that commit.
    """
    wanted = {}
    for work in works:
        if work.source != scope and not work.source.startswith(scope + ":"):
            raise ValueError(f"{work.source!r} is not from {scope!r}")
        wanted.setdefault((work.organisation.id, work.source), _tidy_work(work))
    existing = {(row.organisation_id, row.source): row for row in _past_work_from(scope)}
    removed = [existing.pop(key) for key in list(existing) if key not in wanted]
    for row in removed:
        _audit_work("past_work.removed", row, actor)
        db.session.delete(row)
    updated = [row for key, row in existing.items() if _update_work(row, wanted[key])]
    added = [PastWork(organisation=work.organisation, source=work.source,
                      **{name: getattr(work, name) for name in WORK_FIELDS})
             for key, work in wanted.items() if key not in existing]
    db.session.add_all(added)
    db.session.flush()
    for action, rows in (("past_work.added", added), ("past_work.updated", updated)):
        for row in rows:
            _audit_work(action, row, actor)
    return len(added), len(updated), len(removed)


def _past_work_from(scope):
    return db.session.scalars(select(PastWork).where(
        (PastWork.source == scope) | PastWork.source.startswith(scope + ":", autoescape=True))
        .order_by(PastWork.id)).all()


def _tidy_work(work):
    """The work cut to what the columns hold; a long description ends at a word."""
    if work.kind not in PAST_WORK_KINDS:
        raise ValueError(f"Past work is a grant or a contract, not {work.kind!r}")
    values = {f.name: getattr(work, f.name) for f in fields(work)}
    values["title"] = (work.title or "").strip()[:300] or "Contract"
    values["funder_name"] = (work.funder_name or "").strip()[:200] or None
    values["description"] = _shortened(work.description, MAX_PAST_WORK_DESCRIPTION)
    return EarnedWork(**values)


def _shortened(text, limit):
    text = (text or "").strip()
    if len(text) <= limit:
        return text or None
    return text[:limit - 1].rsplit(None, 1)[0].rstrip(" ,;:.") + "…"


def _update_work(row, work):
    """Copy what changed onto the row; True if anything did."""
    changed = [name for name in WORK_FIELDS if getattr(row, name) != getattr(work, name)]
    for name in changed:
        setattr(row, name, getattr(work, name))
    return bool(changed)


def _audit_work(action, row, actor):
    audit.record(action, row, actor_id=_actor_id(actor), source=row.source, title=row.title)


# --- Public profile -----------------------------------------------------------------------------

def past_work_page(org, page=1, per_page=PAST_WORK_PER_PAGE):
    """One page of the organisation's track record, most recent first."""
    stmt = (select(PastWork).where(PastWork.organisation_id == org.id)
            .order_by(PastWork.awarded_on.desc().nulls_last(), PastWork.id.desc()))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=None)


@dataclass
class Profile:
    org: Organisation
    area_groups: list
    past_work: Pagination
    editable: bool
    ask: list | None = None  # for a member who may not change it: the administrators to ask
    documents: bool = False  # whether the viewer may download its policies and certificates


def public_profile(org_id, viewer, work_page=1):
    """Everything the public profile page shows, or NotFound."""
    org = get_public_organisation(org_id, viewer)
    return Profile(org, group_areas(org.areas), past_work_page(org, work_page),
                   can_edit(viewer, org), admins_to_ask(viewer, org),
                   may_download_credential(org, viewer))
