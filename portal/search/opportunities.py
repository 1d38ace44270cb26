"""The forward-plan index: entries with their lots, categories, areas, buyer, status, value and
dates, kept in step with the database the same way as the organisation index.

It lives beside the organisation index (`<SEARCH_INDEX_DIR>-opportunities`), so rebuilding one
never touches the other.
"""
import hashlib
import json
import logging
import os
import shutil
import threading

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session, selectinload
from whoosh import fields
from whoosh import index as whoosh_index
from whoosh.qparser import MultifieldParser

from portal.search.analysis import text_analyzer
from portal.search.documents import area_tokens, cpv_tokens
from portal.search.repair import Repairable, SearchUnavailable
from portal.search.storage import (
    BulkWriter, fresh_searcher, memory_index, new_index, same_schema, swap_in, write_documents,
)

log = logging.getLogger(__name__)
INDEX_NAME = "opportunities"
_PENDING_KEY = "search_pending_opportunities"
# Longer queries add nothing but time: the first words are kept.
MAX_QUERY_WORDS = 32
MAX_QUERY_CHARS = 1000
ANALYZER = text_analyzer()
BOOSTS = {"title": 3.0, "text": 1.0}

OPPORTUNITY_SCHEMA = fields.Schema(
    id=fields.ID(stored=True, unique=True),
    title=fields.TEXT(analyzer=ANALYZER),
    # Title, description, outcomes, the lots' titles and descriptions and the buyer's name.
    text=fields.TEXT(analyzer=ANALYZER, spelling=True),
    buyer=fields.ID(),
    status=fields.ID(),
    # CPV codes of the entry and its lots with every ancestor prefix.
    cpv=fields.KEYWORD(),
    # Areas of the entry and its lots, with the county, region and nation around each.
    areas=fields.KEYWORD(),
    value=fields.NUMERIC(bits=64),
    published=fields.DATETIME(),
    closing=fields.DATETIME(),
    version=fields.STORED(),
)


def opportunity_document(opp):
    """Flatten an entry and its lots into index fields; `version` hashes the rest."""
    lots = list(opp.lots)
    buyer = opp.organisation.name if opp.organisation else ""
    parts = [opp.title, opp.description, opp.outcomes, buyer]
    parts += [f"{lot.title}\n{lot.description or ''}" for lot in lots]
    codes = [opp.main_cpv_code] + [c.code for c in opp.additional_cpv]
    codes += [c.code for lot in lots for c in getattr(lot, "cpv_codes", ())]
    areas = list(opp.areas) + [a for lot in lots for a in getattr(lot, "areas", ())]
    document = {
        "id": str(opp.id),
        "title": opp.title or "",
        "text": "\n".join(p for p in parts if p),
        "buyer": str(opp.organisation_id),
        "status": opp.status,
        "cpv": " ".join(cpv_tokens(c for c in codes if c)),
        "areas": " ".join(area_tokens(areas)),
        "value": opp.whole_life_value or opp.value_max or opp.value_min or 0,
        "published": opp.published_at,
        "closing": opp.closing_at,
    }
    document = {k: v for k, v in document.items() if v is not None}
    payload = json.dumps(document, sort_keys=True, default=str)
    document["version"] = hashlib.sha1(payload.encode()).hexdigest()
    return document


def load_opportunities(session, ids=None):
    from portal.pipeline.models import Lot, Opportunity

    query = select(Opportunity).options(
        selectinload(Opportunity.lots).selectinload(Lot.areas),
        selectinload(Opportunity.lots).selectinload(Lot.cpv_codes),
        selectinload(Opportunity.areas), selectinload(Opportunity.additional_cpv),
        selectinload(Opportunity.organisation))
    if ids is not None:
        if not ids:
            return []
        query = query.where(Opportunity.id.in_(sorted(ids)))
    return session.scalars(query.order_by(Opportunity.id).execution_options(yield_per=500))


class OpportunityIndex(Repairable):
    def __init__(self, directory):
        self.directory = f"{directory}-opportunities" if directory else ""
        self.damaged = False
        self.failed_writes = set()
        self._ix = None
        self._lock = threading.Lock()
        self._local = threading.local()

    def open(self):
        with self._lock:
            if self._ix is None:
                self._ix = self._open_or_create()
            return self._ix

    def _open_or_create(self):
        if not self.directory:
            return memory_index(OPPORTUNITY_SCHEMA, INDEX_NAME)
        try:
            if whoosh_index.exists_in(self.directory, indexname=INDEX_NAME):
                ix = whoosh_index.open_dir(self.directory, indexname=INDEX_NAME)
                ix.doc_count()  # reads the segment list: a damaged one fails here
                if same_schema(ix.schema, OPPORTUNITY_SCHEMA):
                    return ix
            log.warning("Forward-plan index at %s is missing or old; it will be rebuilt",
                        self.directory)
        except Exception:
            log.exception("Forward-plan index at %s is unreadable; it will be rebuilt",
                          self.directory)
        shutil.rmtree(self.directory, ignore_errors=True)
        os.makedirs(self.directory, exist_ok=True)
        self.found_damaged()
        return whoosh_index.create_in(self.directory, OPPORTUNITY_SCHEMA, indexname=INDEX_NAME)

    def searcher(self):
        ix = self.open()
        cached = getattr(self._local, "searcher", None)
        if cached is not None and cached[0] is ix and cached[1].up_to_date():
            return cached[1]
        searcher = fresh_searcher(ix, cached[1] if cached else None)
        self._local.searcher = (ix, searcher)
        return searcher

    def write(self, upserts, deletes):
        ix = self.open()
        self.remember_writes_while_damaged([int(d["id"]) for d in upserts] + list(deletes))
        write_documents(ix, upserts, deletes)

    def rebuild(self, documents, progress=None):
        target, staging = new_index(self.directory, OPPORTUNITY_SCHEMA, INDEX_NAME)
        writer = BulkWriter(target)
        count = 0
        for document in documents:
            writer.add_document(**document)
            count += 1
            if progress:
                progress(count)
        writer.commit()
        with self._lock:
            if staging:
                swap_in(staging, self.directory)
                self._ix = None
            else:
                self._ix = target
            self.damaged = False
        return count

    def stored_versions(self):
        with self.open().searcher() as searcher:
            return {f["id"]: f.get("version", "") for f in searcher.all_stored_fields()}

    def search_ids(self, text, limit=1000):
        """Entry ids matching free text, best first."""
        words = clean_query(text)
        if not words:
            return []
        searcher = self.searcher()
        # Every word must appear, as the list and the API promise.
        parser = MultifieldParser(list(BOOSTS), schema=searcher.schema, fieldboosts=BOOSTS)
        results = searcher.search(parser.parse(words), limit=limit)
        return [int(hit["id"]) for hit in results]


def clean_query(text):
    """Plain words only: query syntax typed by accident is searched as words, and a very long
    query is cut to its first words."""
    text = str(text or "")[:MAX_QUERY_CHARS]
    words = "".join(c if c.isalnum() else " " for c in text).split()
    words = [w for w in words if w.upper() not in {"AND", "OR", "NOT", "TO"}]
    return " ".join(words[:MAX_QUERY_WORDS])


def get_opportunity_index(app=None):
    from portal.search.index import get_index

    app = app or current_app
    index = app.extensions.get("opportunity_index")
    if index is None:
        index = app.extensions["opportunity_index"] = OpportunityIndex(
            app.config.get("SEARCH_INDEX_DIR", ""))
    if not index.directory:
        # In memory the two indexes live and die together: emptying the organisation index
        # (as the tests do between cases) empties this one too.
        organisations = get_index(app).open()
        if getattr(index, "_paired", None) is not organisations:
            index._paired = organisations
            index._ix = memory_index(OPPORTUNITY_SCHEMA, INDEX_NAME)
    return index


# --- keeping in step ---------------------------------------------------------------------------

def _after_flush(session, flush_context):
    from portal.pipeline.models import Lot, Opportunity

    pending = session.info.setdefault(_PENDING_KEY, set())
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Opportunity):
            pending.add(obj.id)
        elif isinstance(obj, Lot) and obj.opportunity_id:
            pending.add(obj.opportunity_id)


def _after_commit(session):
    pending = session.info.pop(_PENDING_KEY, None)
    if not pending:
        return
    try:
        app = current_app._get_current_object()
    except RuntimeError:
        return
    apply(app, pending)


def apply(app, ids):
    """Write what the database now holds for entries `ids`: present rows indexed, missing ones
    removed. A failure never fails the write that caused it: the ids are kept and written
    again once the index is rebuilt."""
    from portal.extensions import db

    try:
        with db.engine.connect() as connection:
            reader = Session(bind=connection)
            upserts = [opportunity_document(o) for o in load_opportunities(reader, ids)]
            reader.close()
        found = {int(d["id"]) for d in upserts}
        get_opportunity_index(app).write(upserts, set(ids) - found)
    except Exception as error:  # kept, and written again once the index is rebuilt
        get_opportunity_index(app).failed_writes |= set(ids)
        if not isinstance(error, SearchUnavailable):
            app.logger.exception("Forward-plan index update failed; it is written again after "
                                 "a rebuild")


def _after_soft_rollback(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)


def listen():
    if not getattr(listen, "_done", False):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
        listen._done = True
