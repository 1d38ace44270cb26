"""The organisation index, kept in step with the database.

Changed organisations are collected after each flush and written after the commit; a rollback
drops them. A failure to index never fails the write: `flask search rebuild` repairs drift.
"""
import logging
import os
import shutil
import tempfile

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import RamStorage
from whoosh.qparser import MultifieldParser, OrGroup
from whoosh.query import Term

from portal.search.documents import ORGANISATION_SCHEMA, organisation_document

log = logging.getLogger(__name__)
INDEX_NAME = "organisations"
_PENDING_KEY = "search_pending"


class SearchIndex:
    def __init__(self, directory):
        self.directory = directory
        self._ix = None

    def open(self):
        if self._ix is None:
            self._ix = self._open_or_create()
        return self._ix

    def _open_or_create(self):
        if not self.directory:
            return RamStorage().create_index(ORGANISATION_SCHEMA, indexname=INDEX_NAME)
        os.makedirs(self.directory, exist_ok=True)
        try:
            if whoosh_index.exists_in(self.directory, indexname=INDEX_NAME):
                return whoosh_index.open_dir(self.directory, indexname=INDEX_NAME)
        except Exception:  # a corrupt index is rebuilt rather than taking the site down
            log.exception("Search index at %s is unreadable; starting an empty one", self.directory)
            shutil.rmtree(self.directory, ignore_errors=True)
            os.makedirs(self.directory, exist_ok=True)
        return whoosh_index.create_in(self.directory, ORGANISATION_SCHEMA, indexname=INDEX_NAME)

    def write(self, upserts, deletes):
        ix = self.open()
        writer = ix.writer(timeout=30, delay=0.01)
        try:
            for doc_id in deletes:
                writer.delete_by_term("id", str(doc_id))
            for document in upserts:
                writer.update_document(**document)
            writer.commit()
        except Exception:
            writer.cancel()  # release the lock even when the commit failed
            raise

    def rebuild(self, organisations, progress=None):
        """Write every organisation into a fresh index, then swap it in."""
        if not self.directory:
            self._ix = RamStorage().create_index(ORGANISATION_SCHEMA, indexname=INDEX_NAME)
            target = self._ix
        else:
            parent = os.path.dirname(os.path.abspath(self.directory))
            os.makedirs(parent, exist_ok=True)
            staging = tempfile.mkdtemp(prefix="search-", dir=parent)
            target = whoosh_index.create_in(staging, ORGANISATION_SCHEMA, indexname=INDEX_NAME)
        writer = target.writer(limitmb=256)
        count = 0
        for org in organisations:
            writer.add_document(**organisation_document(org))
            count += 1
            if progress:
                progress(count)
        writer.commit()
        if self.directory:
            self._swap_in(staging)
        return count

    def _swap_in(self, staging):
        old = self.directory + ".old"
        shutil.rmtree(old, ignore_errors=True)
        if os.path.exists(self.directory):
            os.rename(self.directory, old)
        os.rename(staging, self.directory)
        shutil.rmtree(old, ignore_errors=True)
        self._ix = None

    def status(self):
        ix = self.open()
        return {"documents": ix.doc_count(), "location": self.directory or "memory"}

    def stored_versions(self):
        with self.open().searcher() as searcher:
            return {f["id"]: f.get("version", "") for f in searcher.all_stored_fields()}

    def search_ids(self, text, limit=200, filters=None):
        """Return organisation ids matching free text, best first."""
        ix = self.open()
        parser = MultifieldParser(["name", "text"], schema=ix.schema, group=OrGroup.factory(0.9))
        query = parser.parse(text)
        with ix.searcher() as searcher:
            results = searcher.search(query, limit=limit, filter=Term("status", "active"))
            return [int(hit["id"]) for hit in results]


def get_index(app=None):
    app = app or current_app
    return app.extensions["search_index"]


def _pending(session):
    return session.info.setdefault(_PENDING_KEY, {"upsert": set(), "delete": set()})


def _after_flush(session, flush_context):
    from portal.organisations.models import Credential, Organisation, PastWork

    pending = _pending(session)
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Organisation):
            pending["upsert"].add(obj.id)
        elif isinstance(obj, (Credential, PastWork)) and obj.organisation_id:
            pending["upsert"].add(obj.organisation_id)
    for obj in session.deleted:
        if isinstance(obj, Organisation):
            pending["delete"].add(obj.id)


def _after_commit(session):
    pending = session.info.pop(_PENDING_KEY, None)
    if not pending or not (pending["upsert"] or pending["delete"]):
        return
    try:
        app = current_app._get_current_object()
    except RuntimeError:
        return
    _apply(app, pending)


def _apply(app, pending):
    from portal.extensions import db

    try:
        ids = pending["upsert"] - pending["delete"]
        with db.engine.connect() as connection:
            reader = Session(bind=connection)
            upserts = [organisation_document(org) for org in _load_organisations(reader, ids)]
            reader.close()
        get_index(app).write(upserts, pending["delete"])
    except Exception:
        app.logger.exception("Search index update failed; `flask search rebuild` will repair it")


def _load_organisations(session, ids):
    """Load organisations with everything their documents need, in a few queries."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from portal.organisations.models import Organisation

    if not ids:
        return []
    query = select(Organisation).where(Organisation.id.in_(ids)).options(
        selectinload(Organisation.cpv_codes), selectinload(Organisation.areas),
        selectinload(Organisation.terms), selectinload(Organisation.past_work))
    return session.scalars(query).all()


def _after_rollback(session):
    session.info.pop(_PENDING_KEY, None)


def init_app(app):
    app.extensions["search_index"] = SearchIndex(app.config["SEARCH_INDEX_DIR"])
    if not getattr(init_app, "_listening", False):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
        init_app._listening = True
