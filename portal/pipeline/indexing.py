"""Forward-plan entries as the search index holds them: an entry with its lots, categories
(their codes, and their names as words to search), areas, buyer, status, value and dates, and
which changed rows re-index which entry.

Registered with portal.search from `create_app`; the index lives beside the organisation
index (`<SEARCH_INDEX_DIR>-opportunities`), so rebuilding one never touches the other.
"""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.pipeline.models import Lot, Opportunity
from portal.reference.places import area_tokens
from portal.reference.services import cpv_tokens
from portal.search.registry import DatabaseStandIn, DocumentType
from portal.search.schema import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from portal.search.schema import text_analyzer, version_of

ANALYZER = text_analyzer()
# Keyword search weighs a word in the title highest. The names of an entry's categories count
# for less than its own words: they are broad ("Health and social work services") and shared by
# many entries.
BOOSTS = {"title": 3.0, "text": 1.0, "categories": 0.5}

OPPORTUNITY_SCHEMA = Schema(
    id=ID(stored=True, unique=True),
    title=TEXT(analyzer=ANALYZER),
    # Title, description, outcomes, the lots' titles and descriptions and the buyer's name.
    text=TEXT(analyzer=ANALYZER, spelling=True),
    # The names of the entry's and its lots' CPV codes.
    categories=TEXT(analyzer=ANALYZER),
    buyer=ID(),
    status=ID(),
    # CPV codes of the entry and its lots with every ancestor prefix.
    cpv=KEYWORD(),
    # Areas of the entry and its lots, with the county, region and nation around each.
    areas=KEYWORD(),
    value=NUMERIC(bits=64),
    published=DATETIME(),
    closing=DATETIME(),
    version=STORED(),
)


def opportunity_document(opp):
    """Flatten an entry and its lots into index fields; `version` hashes the rest."""
    lots = list(opp.lots)
    buyer = opp.organisation.name if opp.organisation else ""
    parts = [opp.title, opp.description, opp.outcomes, buyer]
    parts += [f"{lot.title}\n{lot.description or ''}" for lot in lots]
    codes = [opp.main_cpv_code] + [c.code for c in opp.additional_cpv]
    codes += [c.code for lot in lots for c in getattr(lot, "cpv_codes", ())]
    named = ([opp.main_cpv] if opp.main_cpv else []) + list(opp.additional_cpv)
    named += [c for lot in lots for c in getattr(lot, "cpv_codes", ())]
    areas = list(opp.areas) + [a for lot in lots for a in getattr(lot, "areas", ())]
    document = {
        "id": str(opp.id),
        "title": opp.title or "",
        "text": "\n".join(p for p in parts if p),
        "categories": "\n".join(dict.fromkeys(c.description for c in named if c.description)),
        "buyer": str(opp.organisation_id),
        "status": opp.status,
        "cpv": " ".join(cpv_tokens(c for c in codes if c)),
        "areas": " ".join(area_tokens(areas)),
        "value": opp.whole_life_value or opp.value_max or opp.value_min or 0,
        "published": opp.published_at,
        "closing": opp.closing_at,
    }
    document = {k: v for k, v in document.items() if v is not None}
    document["version"] = version_of(document)
    return document


def opportunity_documents(entries):
    return [opportunity_document(entry) for entry in entries]


def load_opportunities(session, ids=None):
    """Entries with their lots and everything else their documents need, by id."""
    query = select(Opportunity).options(
        selectinload(Opportunity.lots).selectinload(Lot.areas),
        selectinload(Opportunity.lots).selectinload(Lot.cpv_codes),
        selectinload(Opportunity.areas), selectinload(Opportunity.additional_cpv),
        selectinload(Opportunity.main_cpv), selectinload(Opportunity.organisation))
    if ids is not None:
        if not ids:
            return []
        query = query.where(Opportunity.id.in_(sorted(ids)))
    return session.scalars(query.order_by(Opportunity.id).execution_options(yield_per=500))


def changed_entry(obj):
    """The entry whose document a changed row alters, or None."""
    if isinstance(obj, Opportunity):
        return obj.id
    if isinstance(obj, Lot):
        return obj.opportunity_id or None
    return None


ENTRIES = DocumentType(
    name="opportunities",
    directory_suffix="-opportunities",
    schema=OPPORTUNITY_SCHEMA,
    load=load_opportunities,
    documents=opportunity_documents,
    document_id=changed_entry,
    stand_in=DatabaseStandIn(key=Opportunity.id,
                             columns=(Opportunity.title, Opportunity.description),
                             tiebreak=Opportunity.id.desc()),
    keyword_boosts=BOOSTS,
)
