"""The listing index: the registered "opportunities" document type (forward-plan entries),
searched by keyword in two ways: ranked, best match first (BM25 over the title, worth most, the
rest of the text and the names of the categories, entries holding more of the words first),
as the forward plan's list does; and with every word required, as the API promises.

It lives beside the ranked index (its document type adds a suffix to the folder), so
rebuilding one never touches the other.
"""
import logging
import os
import shutil
import threading

import numpy as np
from flask import current_app
from whoosh import index as whoosh_index
from whoosh.qparser import MultifieldParser
from whoosh.query import Or, Term

from portal.search import follow
from portal.search import index as ranked
from portal.search.analysis import terms
from portal.search.registry import document_type
from portal.search.repair import Repairable
from portal.search.scoring import Postings, top
from portal.search.storage import (
    BulkWriter, fresh_searcher, memory_index, new_index, same_schema, swap_in, write_documents,
)

log = logging.getLogger(__name__)
# The registered document type this index holds.
KIND = "opportunities"
# Longer queries add nothing but time: the first words are kept.
MAX_QUERY_WORDS = 32
MAX_QUERY_CHARS = 1000
# The fields a search requiring every word reads: the entry's own words, not its categories'.
STRICT_FIELDS = ("title", "text")


class OpportunityIndex(Repairable):
    def __init__(self, directory, kind=None):
        self.kind = kind or document_type(KIND)
        self.directory = self.kind.directory(directory)
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
            return memory_index(self.kind.schema, self.kind.name)
        try:
            if whoosh_index.exists_in(self.directory, indexname=self.kind.name):
                ix = whoosh_index.open_dir(self.directory, indexname=self.kind.name)
                ix.doc_count()  # reads the segment list: a damaged one fails here
                if same_schema(ix.schema, self.kind.schema):
                    return ix
            log.warning("Forward-plan index at %s is missing or old; it will be rebuilt",
                        self.directory)
        except Exception:
            log.exception("Forward-plan index at %s is unreadable; it will be rebuilt",
                          self.directory)
        shutil.rmtree(self.directory, ignore_errors=True)
        os.makedirs(self.directory, exist_ok=True)
        self.found_damaged()
        return whoosh_index.create_in(self.directory, self.kind.schema,
                                      indexname=self.kind.name)

    def searcher(self):
        ix = self.open()
        cached = getattr(self._local, "searcher", None)
        if cached is not None and cached[0] is ix and cached[1].up_to_date():
            return cached[1]
        searcher = fresh_searcher(ix, cached[1] if cached else None)
        self._local.searcher = (ix, searcher)
        return searcher

    def postings(self):
        """Array scoring over the current searcher (see portal.search.scoring)."""
        searcher = self.searcher()
        cached = getattr(self._local, "postings", None)
        if cached is None or cached.searcher is not searcher:
            cached = Postings(searcher, B=ranked.WEIGHTING.B, K1=ranked.WEIGHTING.K1)
            self._local.postings = cached
        return cached

    def write(self, upserts, deletes):
        ix = self.open()
        self.remember_writes_while_damaged([int(d["id"]) for d in upserts] + list(deletes))
        write_documents(ix, upserts, deletes)

    def rebuild(self, documents, progress=None):
        position = follow.starting_cursor()
        target, staging = new_index(self.directory, self.kind.schema, self.kind.name)
        writer = BulkWriter(target)
        count = 0
        for document in ranked.documents_in_batches(self.kind, documents):
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
        follow.restart(self, position)
        return count

    def status(self):
        ix = self.open()
        return {"documents": ix.doc_count(), "location": self.directory or "memory"}

    def stored_versions(self):
        with self.open().searcher() as searcher:
            return {f["id"]: f.get("version", "") for f in searcher.all_stored_fields()}

    def rank_ids(self, text, every_word=False, statuses=None, limit=1000):
        """Entry ids matching free text, best match first.

        Each word is scored (BM25, stemmed) in the title, worth most, the rest of the text and
        the names of the entry's categories; entries holding more of the words come first.
        An entry holding any of the words is found, or with `every_word` only one holding them
        all. `statuses` limits the entries looked at (the index holds every stage)."""
        words = list(dict.fromkeys(terms(clean_query(text))))
        if not words:
            return []
        postings = self.postings()
        allowed = postings.mask(Or([Term("status", s) for s in statuses]) if statuses else None)
        total, found = np.zeros(postings.size), np.zeros(postings.size)
        for word in words:
            score, _hits = postings.total([(field, word, boost)
                                           for field, boost in self.kind.keyword_boosts.items()])
            total += score
            found += score > 0
        if every_word:
            allowed = allowed & (found == len(words))
        total *= (1 + found) / (1 + len(words))
        searcher = postings.searcher
        return [int(searcher.stored_fields(int(d))["id"]) for d in top(total, allowed, limit)]

    def search_ids(self, text, limit=1000):
        """Entry ids holding every word of free text (in the title or the rest of the text),
        best first."""
        words = clean_query(text)
        if not words:
            return []
        searcher = self.searcher()
        # Every word must appear in the entry's own text, as the API promises.
        boosts = {field: boost for field, boost in self.kind.keyword_boosts.items()
                  if field in STRICT_FIELDS}
        parser = MultifieldParser(list(boosts), schema=searcher.schema, fieldboosts=boosts)
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
    app = app or current_app
    index = app.extensions.get("opportunity_index")
    if index is None:
        index = app.extensions["opportunity_index"] = OpportunityIndex(
            app.config.get("SEARCH_INDEX_DIR", ""))
    if not index.directory:
        # In memory the two indexes live and die together: emptying the organisation index
        # (as the tests do between cases) empties this one too.
        organisations = ranked.get_index(app).open()
        if getattr(index, "_paired", None) is not organisations:
            index._paired = organisations
            index._ix = memory_index(index.kind.schema, index.kind.name)
    return index


def apply(app, ids):
    """Write what the database now holds for entries `ids` (see portal.search.index.apply)."""
    ranked.apply(app, ids, index=get_opportunity_index(app))
