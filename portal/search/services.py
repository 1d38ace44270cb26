"""Use cases for the search index: rebuild and check against the database, search and match."""
import itertools
import logging
from functools import wraps

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.core import change_log
from portal.extensions import db
from portal.search import follow
from portal.search import index as organisation_index
from portal.search import opportunities as opportunity_index
from portal.search import display
from portal.search.analysis import surface_forms, terms
from portal.search.index import REBUILD_BATCH, Hit, documents_in_batches, documents_of, get_index
from portal.search.opportunities import get_opportunity_index
from portal.search.repair import SearchUnavailable, exclusive, guarded

log = logging.getLogger(__name__)
__all__ = ["Hit", "rebuild", "needs_rebuild", "check", "search_organisation_ids",
           "match_organisations", "organisations_allowed", "match_terms", "funder_share", "term_shares", "terms",
           "surface_forms"]


def _all_organisations():
    return get_index().kind.load(db.session)


def rebuild(progress=None):
    """Write every organisation, then every forward-plan entry, into fresh indexes and swap
    them in. Returns the number of organisations. Waits for a repair under way (in any
    process) rather than running beside it.

    A large directory kept on disk is indexed by several processes, one per share of the
    organisations (see `SEARCH_REBUILD_PROCESSES` and `SEARCH_PARALLEL_FROM`)."""
    with exclusive(get_index().directory):
        count = _rebuild_organisations(progress)
    rebuild_opportunities(progress=progress)
    return count


def _rebuild_organisations(progress=None):
    index, count = get_index(), None
    processes = _rebuild_processes(index)
    if processes > 1:
        key = index.kind.stand_in.key
        ids = db.session.scalars(select(key).order_by(key)).all()
        if len(ids) >= current_app.config.get("SEARCH_PARALLEL_FROM", 0):
            # Nothing may be mid-transaction when the processes are forked: they start from
            # a copy of this one, and must not share its database connection.
            db.session.commit()
            count = index.rebuild_in_processes(_shares(ids, processes), _documents_for,
                                               progress=progress)
    if count is None:
        count = index.rebuild(_all_organisations(), progress=progress)
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
    kind = get_index().kind
    try:
        for start in range(0, len(ids), REBUILD_BATCH):
            yield from documents_of(kind, kind.load(session, ids[start:start + REBUILD_BATCH]))
            session.expunge_all()
    finally:
        session.close()


def rebuild_opportunities(progress=None):
    """Write every forward-plan entry into a fresh index and swap it in. Returns the count."""
    with exclusive(get_opportunity_index().directory):
        return _rebuild_opportunities(progress)


def _rebuild_opportunities(progress=None):
    index = get_opportunity_index()
    return index.rebuild(index.kind.load(db.session), progress=progress)


def needs_rebuild():
    """Whether either index is missing, damaged, built with an older schema (opening it finds
    that) or holds a different number of documents from the database."""
    return any(_needs_rebuild(index) for index in (get_index(), get_opportunity_index()))


def _needs_rebuild(index):
    index_count = index.status()["documents"]
    db_count = db.session.scalar(select(func.count(index.kind.stand_in.key)))
    return index.damaged or index_count != db_count or not follow.usable(follow.load(index))


# --- following the change log: each host's indexes as replicas of the database ------------------

def follow_changes(rounds=None):
    """Bring both of this host's indexes up to the change log (see portal.search.follow); an
    index that cannot follow it (never built here, or its cursor older than the log kept) is
    rebuilt instead. Returns {index name: changes read, or "rebuilt"}."""
    done = {}
    for index, rebuild_it in ((get_index(), _rebuild_followed_organisations),
                              (get_opportunity_index(), rebuild_opportunities)):
        read = follow.catch_up(index, lambda keys, index=index:
                               organisation_index.write_keys(index, keys), rounds=rounds)
        if read is None:
            log.warning("The %s index at %s cannot follow the change log; rebuilding it",
                        index.kind.name, index.directory or "memory")
            rebuild_it()
            read = "rebuilt"
        done[index.kind.name] = read
    return done


def _rebuild_followed_organisations():
    with exclusive(get_index().directory):
        return _rebuild_organisations()


def changes_behind():
    """{index name: changes in the log not yet applied to this host's index (None when it
    cannot follow the log)}."""
    return {index.kind.name: follow.lag(index) for index in (get_index(), get_opportunity_index())}


def prune_changes(days=None):
    """Delete changes older than `days` (`SEARCH_CHANGES_KEEP_DAYS`) from the log; returns the
    count. A host stopped for longer rebuilds its indexes when its follower starts again."""
    days = follow.keep_days() if days is None else days
    count = change_log.prune(db.session, days)
    db.session.commit()
    return count


def check():
    """Return ids missing from, stale in, or extra in the index compared with the database.

    Organisations are listed by id, forward-plan entries as "opportunity:<id>"."""
    report = _compare(_expected_versions(get_index()), get_index().stored_versions())
    opportunities = get_opportunity_index()
    found = _compare(_expected_versions(opportunities), opportunities.stored_versions())
    for kind, ids in found.items():
        report[kind] += [f"opportunity:{i}" for i in ids]
    return report


def _expected_versions(index):
    """{id: version} of every row's document as the database holds it now."""
    return {d["id"]: d["version"]
            for d in documents_in_batches(index.kind, index.kind.load(db.session))}


def _compare(expected, indexed):
    return {
        "missing": sorted(set(expected) - set(indexed)),
        "stale": sorted(k for k in set(expected) & set(indexed) if expected[k] != indexed[k]),
        "extra": sorted(set(indexed) - set(expected)),
    }


# --- reading, guarded: a missing or damaged index answers from the fallback and is rebuilt ----

def _repair_organisations():
    # In one process: a repair runs in a thread of a web worker, which must not fork.
    get_index().rebuild(_all_organisations())


def _reindex_organisations(ids):
    organisation_index.apply(current_app._get_current_object(), ids)


def _reindex_opportunities(ids):
    opportunity_index.apply(current_app._get_current_object(), ids)


def _reads(index, rebuild, reapply):
    """A decorator maker: the function reads the index `index()`; while that index is being
    rebuilt, it answers `fallback(*args)` instead (see portal.search.repair)."""
    def with_fallback(fallback):
        def decorate(function):
            @wraps(function)
            def read(*args, **kwargs):
                return guarded(index(), lambda: function(*args, **kwargs),
                               lambda: fallback(*args, **kwargs), rebuild, reapply)
            return read
        return decorate
    return with_fallback


_reads_organisations = _reads(get_index, _repair_organisations, _reindex_organisations)
_reads_opportunities = _reads(get_opportunity_index, _rebuild_opportunities,
                              _reindex_opportunities)


def _unavailable(*_args, **_kwargs):
    raise SearchUnavailable("the search index is being rebuilt")


def _words(text):
    return [w for w in "".join(c if c.isalnum() else " " for c in str(text or "")).split()][:8]


def _from_database(index, text, limit):
    """Ids of the rows whose text columns hold at least one of the words (anywhere, any case),
    those holding the most words first: the database's stand-in for a ranked search."""
    words, stand_in = _words(text), index.kind.stand_in
    if not words:
        return []
    found = [db.case((db.or_(*[column.ilike(f"%{w}%") for column in stand_in.columns]), 1),
                     else_=0) for w in words]
    score = sum(found[1:], found[0])
    query = select(stand_in.key).where(score > 0, *stand_in.where())
    query = query.order_by(score.desc(), stand_in.tiebreak)
    return list(db.session.scalars(query.limit(limit)))


def _organisations_from_database(text, limit=500):
    return _from_database(get_index(), text, limit)


def _opportunities_from_database(text, limit=1000):
    return _from_database(get_opportunity_index(), text, limit)


def health():
    """Both indexes' state for /healthz: "ok" with a count, or "rebuilding" (a repair has been
    started when one was found missing or damaged just now)."""
    return {"search": _organisations_health(), "forward_plan_search": _opportunities_health()}


_REBUILDING = {"status": "rebuilding"}


@_reads_organisations(lambda: _REBUILDING)
def _organisations_health():
    return _probe(get_index())


@_reads_opportunities(lambda: _REBUILDING)
def _opportunities_health():
    return _probe(get_opportunity_index())


def _probe(index):
    """Read a little of every kind of file an index has: its segment list, a posting list and
    a stored document."""
    searcher = index.searcher()
    reader = searcher.reader()
    for fieldname, text in itertools.islice(reader.all_terms(), 1):
        list(reader.postings(fieldname, text).all_ids())
    next(iter(searcher.all_stored_fields()), None)
    return {"status": "ok", "documents": searcher.doc_count(),
            "location": index.directory or "memory", "changes_behind": _lag_or_none(index)}


def _lag_or_none(index):
    """How far the index is behind the change log; None when it does not follow it (or the log
    cannot be read): reported only, it never makes the portal unhealthy."""
    try:
        return follow.lag(index)
    except Exception:
        log.warning("The change log could not be read for the health check", exc_info=True)
        return None


@_reads_opportunities(_opportunities_from_database)
def search_opportunity_ids(text, limit=1000):
    """Forward-plan entry ids holding every word of free text, best first (any status:
    callers filter)."""
    return get_opportunity_index().search_ids(text, limit=limit)


def _ranked_opportunities_from_database(text, every_word=False, statuses=None, limit=1000):
    return _opportunities_from_database(text, limit)


@_reads_opportunities(_ranked_opportunities_from_database)
def rank_opportunity_ids(text, every_word=False, statuses=None, limit=1000):
    """Forward-plan entry ids for free text, best match first: those holding any of the words
    (or, with `every_word`, all of them), among entries at `statuses` (callers still filter);
    see OpportunityIndex.rank_ids."""
    return get_opportunity_index().rank_ids(text, every_word=every_word, statuses=statuses,
                                            limit=limit)


@_reads_organisations(_organisations_from_database)
def search_organisation_ids(text, limit=500):
    return get_index().search_ids(text, limit=limit)


_UNCACHED = itertools.count()


@_reads_organisations(lambda: ("rebuilding", next(_UNCACHED)))
def index_version():
    """A value that changes whenever the organisation index changes (for caches of what is
    worked out from the directory); a new one each time while the index is being rebuilt."""
    return get_index().version()


def settled(version):
    """Whether an `index_version()` names an index as it stands, not one being rebuilt (what
    is worked out meanwhile comes from a stand-in and is not worth keeping)."""
    return version[0] != "rebuilding"


@_reads_organisations(lambda funder_key: 0.0)
def funder_share(funder_key):
    """The share of indexed organisations that have worked for this funder or buyer."""
    return get_index().term_share("funders", funder_key)


@_reads_organisations(lambda terms: {term: 0.0 for term in terms})
def term_shares(terms):
    """{term: share of indexed organisations whose text holds it}: how common a word is."""
    return get_index().term_shares("text", terms)


@_reads_organisations(_unavailable)
def match_terms(weighted_terms):
    """The (term, weight) pairs of a query that `match_organisations` scores: a long query
    keeps only its most telling terms."""
    return get_index().match_terms(weighted_terms)


@_reads_organisations(_unavailable)
def word_scores(org_id, field_counts, words):
    """One organisation's score for each word alone; see SearchIndex.word_scores."""
    return get_index().word_scores(org_id, field_counts, words)


@_reads_organisations(_unavailable)
def match_organisations(weighted_terms, *, candidates=200, only_ids=None, filters=None,
                        boosts=None):
    """Organisations scored against weighted index terms; see SearchIndex.match."""
    return get_index().match(weighted_terms, candidates=candidates, only_ids=only_ids,
                             filters=filters, boosts=boosts)


@_reads_organisations(lambda filters: [])
def organisations_allowed(filters):
    """(id, features) of every organisation the filters allow; see SearchIndex.allowed."""
    return get_index().allowed(filters)


# --- Search pages: highlighted excerpts and "did you mean" ---------------------------------------

snippet = display.snippet
__all__ += ["snippet", "suggest_organisation_search", "suggest_opportunity_search"]
# How many profiles holding a word are read to find how people spell it.
SPELLING_SAMPLES = 5


@_reads_organisations(lambda text: None)
def suggest_organisation_search(text):
    """The directory search `text` with misspelt words corrected from the organisation index,
    or None when every word looks right."""
    searcher = get_index().searcher()
    return display.suggest(searcher, text, display.term_candidates(searcher.reader()),
                            real_word=lambda term, typed: display.closest_form(
                                _profile_texts(searcher, term), term, typed))


def _profile_texts(searcher, term):
    """The texts a few profiles holding `term` were indexed from."""
    ids = []
    for docnum in searcher.postings("text", term).all_ids():
        ids.append(int(searcher.stored_fields(docnum)["id"]))
        if len(ids) >= SPELLING_SAMPLES:
            break
    return get_index().kind.sample_texts(db.session, ids)


@_reads_opportunities(lambda text: None)
def suggest_opportunity_search(text):
    """The forward-plan search `text` with misspelt words corrected from the forward-plan
    index, or None when every word looks right."""
    searcher = get_opportunity_index().searcher()
    # The entries' text field keeps its unstemmed words for spelling.
    return display.suggest(searcher, text, display.spelling_candidates(searcher.reader()))
