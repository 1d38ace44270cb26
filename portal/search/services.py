"""Use cases for the search index: rebuild and check against the database."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.organisations.models import Organisation
from portal.search.documents import organisation_document
from portal.search.index import get_index


def _all_organisations():
    query = select(Organisation).options(
        selectinload(Organisation.cpv_codes), selectinload(Organisation.areas),
        selectinload(Organisation.terms), selectinload(Organisation.past_work),
    ).order_by(Organisation.id).execution_options(yield_per=500)
    return db.session.scalars(query)


def rebuild(progress=None):
    """Write every organisation into a fresh index and swap it in. Returns the count."""
    return get_index().rebuild(_all_organisations(), progress=progress)


def needs_rebuild():
    index_count = get_index().status()["documents"]
    db_count = db.session.scalar(select(db.func.count(Organisation.id)))
    return index_count != db_count


def check():
    """Return ids missing from, stale in, or extra in the index compared with the database."""
    indexed = get_index().stored_versions()
    expected = {str(org.id): organisation_document(org)["version"] for org in _all_organisations()}
    return {
        "missing": sorted(set(expected) - set(indexed)),
        "stale": sorted(k for k in set(expected) & set(indexed) if expected[k] != indexed[k]),
        "extra": sorted(set(indexed) - set(expected)),
    }


def search_organisation_ids(text, limit=500):
    return get_index().search_ids(text, limit=limit)
