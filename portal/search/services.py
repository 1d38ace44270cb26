"""Use cases for the search index: rebuild and check against the database, search and match."""
import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.extensions import db
from portal.organisations.models import Organisation
from portal.search.analysis import surface_forms, terms
from portal.search.documents import cpv_tokens, organisation_document
from portal.search.index import (
    REBUILD_BATCH, Hit, documents_of, get_index, load_organisations,
)
from portal.search.opportunities import (
    get_opportunity_index, listen as _listen_opportunities, load_opportunities,
    opportunity_document,
)

log = logging.getLogger(__name__)
_listen_opportunities()
__all__ = ["Hit", "rebuild", "needs_rebuild", "check", "search_organisation_ids",
           "match_organisations", "match_terms", "funder_share", "terms", "surface_forms",
           "cpv_tokens"]


def _all_organisations():
    query = select(Organisation).options(
        selectinload(Organisation.cpv_codes), selectinload(Organisation.areas),
        selectinload(Organisation.terms), selectinload(Organisation.past_work),
    ).order_by(Organisation.id).execution_options(yield_per=500)
    return db.session.scalars(query)


def rebuild(progress=None):
    """Write every organisation, then every forward-plan entry, into fresh indexes and swap
    them in. Returns the number of organisations.

    A large directory kept on disk is indexed by several processes, one per share of the
    organisations (see `SEARCH_REBUILD_PROCESSES` and `SEARCH_PARALLEL_FROM`)."""
    index, count = get_index(), None
    processes = _rebuild_processes(index)
    if processes > 1:
        ids = db.session.scalars(select(Organisation.id).order_by(Organisation.id)).all()
        if len(ids) >= current_app.config.get("SEARCH_PARALLEL_FROM", 0):
            # Nothing may be mid-transaction when the processes are forked: they start from
            # a copy of this one, and must not share its database connection.
            db.session.commit()
            count = index.rebuild_in_processes(_shares(ids, processes), _documents_for,
                                               progress=progress)
    if count is None:
        count = index.rebuild(_all_organisations(), progress=progress)
    rebuild_opportunities(progress=progress)
    return count


def _rebuild_processes(index):
    """How many processes a rebuild may use: one unless the index is on disk and the database
    is one that a forked process can open again (not an in-memory SQLite database)."""
    wanted = current_app.config.get("SEARCH_REBUILD_PROCESSES") or 1
    url = db.engine.url
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    if not index.directory or in_memory:
        return 1
    return max(1, int(wanted))


def _shares(ids, count):
    """`ids` cut into `count` runs of consecutive ids, as even as can be."""
    size, extra = divmod(len(ids), count)
    shares, start = [], 0
    for number in range(count):
        end = start + size + (1 if number < extra else 0)
        if end > start:
            shares.append(ids[start:end])
        start = end
    return shares


def _documents_for(ids):
    """In a rebuild process: the documents of these organisations, read on connections of its
    own (the ones copied from the parent process are left alone)."""
    db.engine.dispose(close=False)
    session = Session(db.engine)
    try:
        for start in range(0, len(ids), REBUILD_BATCH):
            yield from documents_of(load_organisations(session, ids[start:start + REBUILD_BATCH]))
            session.expunge_all()
    finally:
        session.close()


def rebuild_opportunities(progress=None):
    """Write every forward-plan entry into a fresh index and swap it in. Returns the count."""
    documents = (opportunity_document(o) for o in load_opportunities(db.session))
    return get_opportunity_index().rebuild(documents, progress=progress)


def needs_rebuild():
    index = get_index()
    index_count = index.status()["documents"]
    db_count = db.session.scalar(select(db.func.count(Organisation.id)))
    return index.damaged or index_count != db_count


def ensure_ready():
    """Rebuild from the database when the index was found missing or unreadable."""
    index = get_index()
    index.open()
    if index.damaged:
        log.warning("Rebuilding the search index from the database")
        get_index().rebuild(_all_organisations())


def ensure_opportunities_ready():
    index = get_opportunity_index()
    index.open()
    if index.damaged:
        log.warning("Rebuilding the forward-plan index from the database")
        rebuild_opportunities()


def check():
    """Return ids missing from, stale in, or extra in the index compared with the database.

    Organisations are listed by id, forward-plan entries as "opportunity:<id>"."""
    indexed = get_index().stored_versions()
    expected = {str(org.id): organisation_document(org)["version"] for org in _all_organisations()}
    report = _compare(expected, indexed)
    indexed = get_opportunity_index().stored_versions()
    expected = {str(o.id): opportunity_document(o)["version"]
                for o in load_opportunities(db.session)}
    for kind, ids in _compare(expected, indexed).items():
        report[kind] += [f"opportunity:{i}" for i in ids]
    return report


def _compare(expected, indexed):
    return {
        "missing": sorted(set(expected) - set(indexed)),
        "stale": sorted(k for k in set(expected) & set(indexed) if expected[k] != indexed[k]),
        "extra": sorted(set(indexed) - set(expected)),
    }


def search_opportunity_ids(text, limit=1000):
    """Forward-plan entry ids matching free text, best first (any status: callers filter)."""
    ensure_opportunities_ready()
    return get_opportunity_index().search_ids(text, limit=limit)


def search_organisation_ids(text, limit=500):
    ensure_ready()
    return get_index().search_ids(text, limit=limit)


def index_version():
    """A value that changes whenever the organisation index changes (for caches of what is
    worked out from the directory)."""
    return get_index().version()


def funder_share(funder_key):
    """The share of indexed organisations that have worked for this funder or buyer."""
    return get_index().term_share("funders", funder_key)


def match_terms(weighted_terms):
    """The (term, weight) pairs of a query that `match_organisations` scores: a long query
    keeps only its most telling terms."""
    ensure_ready()
    return get_index().match_terms(weighted_terms)


def word_scores(org_id, field_counts, words):
    """One organisation's score for each word alone; see SearchIndex.word_scores."""
    ensure_ready()
    return get_index().word_scores(org_id, field_counts, words)


def match_organisations(weighted_terms, *, candidates=200, only_ids=None, filters=None,
                        boosts=None):
    """Organisations scored against weighted index terms; see SearchIndex.match."""
    ensure_ready()
    return get_index().match(weighted_terms, candidates=candidates, only_ids=only_ids,
                             filters=filters, boosts=boosts)


# --- Search pages: highlighted snippets and "did you mean" ----------------------------------------
# (kept apart from the use cases above)

from portal.search.pages import snippet  # noqa: E402

__all__ += ["snippet", "suggest_organisation_search", "suggest_opportunity_search"]
# How many profiles holding a word are read to find how people spell it.
SPELLING_SAMPLES = 5


def suggest_organisation_search(text):
    """The directory search `text` with misspelt words corrected from the organisation index,
    or None when every word looks right."""
    from portal.search import pages

    ensure_ready()
    searcher = get_index().searcher()
    return pages.suggest(searcher, text, pages.term_candidates(searcher.reader()),
                         real_word=lambda term, typed: pages.closest_form(
                             _profile_texts(searcher, term), term, typed))


def _profile_texts(searcher, term):
    """Names, descriptions, services and track records of a few profiles holding `term`."""
    ids = []
    for docnum in searcher.postings("text", term).all_ids():
        ids.append(int(searcher.stored_fields(docnum)["id"]))
        if len(ids) >= SPELLING_SAMPLES:
            break
    texts = []
    for org in db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)).options(
            selectinload(Organisation.cpv_codes), selectinload(Organisation.past_work))):
        texts += [org.name, org.other_names, org.description]
        texts += [c.description for c in org.cpv_codes]
        texts += [f"{w.title}\n{w.description or ''}" for w in org.past_work]
    return texts


def suggest_opportunity_search(text):
    """The forward-plan search `text` with misspelt words corrected from the forward-plan
    index, or None when every word looks right."""
    from portal.search import pages

    ensure_opportunities_ready()
    searcher = get_opportunity_index().searcher()
    # The entries' text field keeps its unstemmed words for spelling.
    return pages.suggest(searcher, text, pages.spelling_candidates(searcher.reader()))
