"""Organisations as the search index holds them: the fields matching and the directory search
read, how a profile becomes a document, and which changed rows re-index which profile.

Registered with portal.search from `create_app`.
"""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accreditation.models import AccreditationRecord
from portal.matching.evidence import not_evidence, place_terms
from portal.matching.features import preloaded, profile_places, supplier_features
from portal.organisations.models import Credential, Organisation, PastWork
from portal.reference.places import area_tokens
from portal.reference.services import cpv_tokens
from portal.search.registry import DatabaseStandIn, DocumentType
from portal.search.schema import (
    ID, KEYWORD, NUMERIC, STORED, TEXT, Schema, preanalysed, terms, version_of,
)

# Profile text is analysed once, by `terms()`, and given to the index as terms: analysing the
# same words again for every field was most of the cost of indexing. No positions are kept (no
# phrase search): matching and keyword search score words, not phrases.
PREANALYSED = preanalysed()
# Field weights for the match score (BM25F): a word in the name or the services an organisation
# describes says more than the same word somewhere in its track record.
FIELD_BOOSTS = {"name": 2.0, "services": 1.2, "track": 1.0}
# Keyword search in the directory weighs a name match highest.
KEYWORD_BOOSTS = {"name": 3.0, "text": 1.0}
# Rows whose change alters their organisation's document.
PROFILE_PARTS = (Credential, PastWork, AccreditationRecord)

ORGANISATION_SCHEMA = Schema(
    # Also kept as a column, so a search reads ids without unpickling whole documents.
    id=ID(stored=True, unique=True, sortable=True),
    # Names, other names and the initials they give, so "MRCF" finds its forum.
    name=TEXT(analyzer=PREANALYSED, phrase=False),
    # What the organisation says it does: description, categories, client groups.
    services=TEXT(analyzer=PREANALYSED, phrase=False),
    # Past grants and contracts: titles and descriptions.
    track=TEXT(analyzer=PREANALYSED, phrase=False),
    # Everything above in one field, for keyword search and the fast candidate stage.
    text=TEXT(analyzer=PREANALYSED, phrase=False),
    org_type=ID(stored=True),
    # Area codes served, with the county, region and nation of each, so a search in a local
    # authority also finds suppliers that cover it through a wider area.
    areas=KEYWORD(),
    # The area codes as given (and the home authority): a county-wide supplier serves each
    # authority in the county.
    served=KEYWORD(),
    # CPV codes with every ancestor's prefix: a search for a class finds its sub-codes.
    cpv=KEYWORD(),
    funders=KEYWORD(),
    tier=NUMERIC(stored=True),
    # The last day the tier's accreditation runs to (YYYYMMDD): once it has passed, the tier
    # stops counting, before the lapse is recorded and the profile indexed again.
    tier_until=NUMERIC(),
    income_band=ID(),
    status=ID(),
    features=STORED(),
    version=STORED(),
)


def organisation_document(org):
    """Flatten an organisation into index fields; `version` hashes everything else, so a check
    spots a stale document whatever changed, including rows that do not touch the
    organisation's own timestamp."""
    places = profile_places(org)
    features = supplier_features(org, terms, places)
    names = [org.name, org.other_names or "", " ".join(features["acronyms"])]
    services = [org.description or ""] + [c.description for c in org.cpv_codes]
    services += [t.value for t in org.terms]
    track = [f"{w.title}\n{w.description or ''}" for w in org.past_work]
    analysed = {field: terms("\n".join(parts)) for field, parts in
                (("name", names), ("services", services), ("track", track))}
    document = {
        "id": str(org.id),
        **_matched_fields(analysed, places),
        "text": " ".join(" ".join(part) for part in analysed.values() if part),
        "org_type": org.org_type,
        "areas": " ".join(area_tokens(org.areas, features["home"])),
        "served": " ".join(sorted({a.code for a in org.areas} | (
            {features["home"]} if features["home"] else set()))),
        "cpv": " ".join(cpv_tokens(c.code for c in org.cpv_codes)),
        "funders": " ".join(features["funders"]),
        "tier": features["tier"] or 0,
        # Left out (None) when not accredited.
        "tier_until": int(features["tier_until"].replace("-", "")) if features["tier_until"]
        else None,
        "income_band": org.income_band or "",
        "status": org.status,
        "features": features,
    }
    document["version"] = version_of(document)
    return document


def _matched_fields(analysed, places):
    """The fields a match is scored on hold only what can say what the organisation does: not
    the legal form in its name ("Trust", "Collective"), nor the places it names ("Tower
    Hamlets" is no evidence about "Hamilton Towers"), which the area signal reads instead.
    Keyword search reads every word, from `text`."""
    leave_out = {"name": not_evidence(), "services": place_terms(places),
                 "track": place_terms(places)}
    return {field: " ".join(t for t in found if t not in leave_out[field])
            for field, found in analysed.items()}


def organisation_documents(orgs):
    """Documents for a batch of organisations, their accreditation levels read at once."""
    orgs = list(orgs)
    with preloaded(orgs):
        return [organisation_document(org) for org in orgs]


def load_organisations(session, ids=None):
    """Organisations with everything their documents need, loaded in a few queries."""
    query = select(Organisation).options(
        selectinload(Organisation.cpv_codes), selectinload(Organisation.areas),
        selectinload(Organisation.terms), selectinload(Organisation.past_work))
    if ids is None:  # every profile, streamed
        return session.scalars(query.order_by(Organisation.id).execution_options(yield_per=500))
    if not ids:
        return []
    return session.scalars(query.where(Organisation.id.in_(sorted(ids)))
                           .order_by(Organisation.id)).all()


def changed_profile(obj):
    """The organisation whose document a changed row alters, or None."""
    if isinstance(obj, Organisation):
        return obj.id
    if isinstance(obj, PROFILE_PARTS):
        return obj.organisation_id or None
    return None


def profile_texts(session, ids):
    """Names, descriptions, services and track records of these profiles (for spelling)."""
    texts = []
    for org in session.scalars(select(Organisation).where(Organisation.id.in_(ids)).options(
            selectinload(Organisation.cpv_codes), selectinload(Organisation.past_work))):
        texts += [org.name, org.other_names, org.description]
        texts += [c.description for c in org.cpv_codes]
        texts += [f"{w.title}\n{w.description or ''}" for w in org.past_work]
    return texts


ORGANISATIONS = DocumentType(
    name="organisations",
    schema=ORGANISATION_SCHEMA,
    load=load_organisations,
    documents=organisation_documents,
    document_id=changed_profile,
    stand_in=DatabaseStandIn(key=Organisation.id,
                             columns=(Organisation.name, Organisation.description),
                             tiebreak=Organisation.name,
                             where=lambda: [Organisation.status == "active"]),
    sample_texts=profile_texts,
    field_boosts=FIELD_BOOSTS,
    keyword_boosts=KEYWORD_BOOSTS,
)
