"""The ranked index: the registered "organisations" document type, scored for keyword search
and for matching (BM25F over its fields, with filters on status, type, tier and area).

`apply` brings the index up to the change log after each commit (the change dispatcher calls
it; see portal.search.follow), writing what the database holds for the changed ids. A failure
to index never fails the write: the changes stay in the log, and the ids are also kept and
written again once the index is rebuilt.
"""
import bisect
import itertools
import logging
import os
import re
import shutil
import threading
from dataclasses import dataclass
from datetime import date

import numpy as np

from flask import current_app
from sqlalchemy.orm import Session
from whoosh import index as whoosh_index
from whoosh.query import And, NumericRange, Or, Term
from whoosh.scoring import BM25F

from portal.extensions import db
from portal.search import follow
from portal.search.analysis import terms
from portal.search.registry import document_type
from portal.search.repair import Repairable, SearchUnavailable
from portal.search.scoring import Postings, top
from portal.search.storage import (
    BulkWriter, codec, fill_in_processes, fresh_searcher, memory_index, new_index, same_schema,
    stored_versions_of, swap_in, write_documents,
)

log = logging.getLogger(__name__)
# The registered document type this index holds.
KIND = "organisations"
MAX_TIER = 99
_SERIALS = itertools.count(1)
LAST_DAY = 99991231
# Keyword searches longer than this add nothing but time: the first words are kept.
MAX_QUERY_WORDS = 32
# A query's distinct words looked up in the index, at most.
MAX_QUERY_TERMS_READ = 10_000
# Text beyond this is not read at all (before any pattern runs over it): a pasted page of a
# few thousand words still counts, a megabyte of noise costs nothing.
MAX_QUERY_CHARS = 50_000
# `befriend*`: a prefix of at least this many letters, standing for at most this many words.
# A word start and a possessive run: each position is tried once (the plain `(\w+)\*` went back
# over the rest of every word at every position, quadratic in a long query).
PREFIX_RE = re.compile(r"\b(\w++)\*")
MIN_PREFIX = 3
MAX_PREFIX_TERMS = 50
# Organisations made into documents together when the index is rebuilt.
REBUILD_BATCH = 500
# How many of an opportunity's terms a match uses (the most telling ones).
# On the matching benchmark's development split, keeping 32 terms against all of them moved
# each figure by less than 0.005; at 100,000 profiles it makes a match several times faster.
MATCH_TERMS = 32
# BM25F with the usual parameters. On the matching benchmark's development split a milder
# length penalty (B 0.3 or 0.5) or a harsher one (0.9) moved each figure by about 0.01 at most.
WEIGHTING = BM25F(B=0.75, K1=1.2)


@dataclass
class Hit:
    """One organisation scored against a match query."""

    org_id: int
    score: float
    matched: frozenset  # index terms of the query found in the document
    features: dict


class SearchIndex(Repairable):
    def __init__(self, directory, kind=None):
        self.kind = kind or document_type(KIND)
        self.directory = directory
        self.damaged = False
        self.failed_writes = set()
        self._ix = None
        self._generation = 0
        self._serial = next(_SERIALS)
        self._local = threading.local()

    def open(self):
        if self._ix is None:
            self._ix = self._open_or_create()
            self._generation += 1
        return self._ix

    def _open_or_create(self):
        if not self.directory:
            return memory_index(self.kind.schema, self.kind.name)
        os.makedirs(self.directory, exist_ok=True)
        try:
            if whoosh_index.exists_in(self.directory, indexname=self.kind.name):
                ix = whoosh_index.open_dir(self.directory, indexname=self.kind.name)
                if same_schema(ix.schema, self.kind.schema):
                    return ix
                log.warning("Search index at %s has an old schema; it will be rebuilt",
                            self.directory)
        except Exception:  # a corrupt index is rebuilt rather than taking the site down
            log.exception("Search index at %s is unreadable; it will be rebuilt", self.directory)
        shutil.rmtree(self.directory, ignore_errors=True)
        os.makedirs(self.directory, exist_ok=True)
        self.found_damaged()
        return whoosh_index.create_in(self.directory, self.kind.schema,
                                      indexname=self.kind.name)

    def searcher(self):
        """A searcher for this thread, opened again when the index has changed since."""
        ix = self.open()
        cached = getattr(self._local, "searcher", None)
        if cached is not None and cached[0] == self._generation and cached[1].up_to_date():
            return cached[1]
        searcher = fresh_searcher(ix, cached[1] if cached else None, weighting=WEIGHTING)
        self._local.searcher = (self._generation, searcher)
        return searcher

    def write(self, upserts, deletes):
        ix = self.open()
        self.remember_writes_while_damaged([int(d["id"]) for d in upserts] + list(deletes))
        write_documents(ix, upserts, deletes, codec=codec())

    def rebuild(self, documents, progress=None):
        """Write every document (organisations are turned into documents) into a fresh index,
        then swap it in, its change-log cursor after it. Returns the count."""
        position = follow.starting_cursor()
        target, staging = new_index(self.directory, self.kind.schema, self.kind.name)
        writer = BulkWriter(target, codec=codec())
        count = 0
        for document in documents_in_batches(self.kind, documents):
            writer.add_document(**document)
            count += 1
            if progress:
                progress(count)
        writer.commit()
        self._replace(target, staging, position)
        return count

    def rebuild_in_processes(self, shares, documents_for, progress=None):
        """Like `rebuild`, with one process per share of organisation ids writing its own part
        (an index on disk only). `documents_for(ids)` runs in those processes."""
        position = follow.starting_cursor()
        target, staging = new_index(self.directory, self.kind.schema, self.kind.name)
        try:
            count = fill_in_processes(target, shares, documents_for, progress=progress)
        except Exception:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._replace(target, staging, position)
        return count

    def _replace(self, target, staging, position):
        if staging:
            swap_in(staging, self.directory)
            self._ix = None
        else:
            self._ix = target
            self._generation += 1
        self.damaged = False
        follow.restart(self, position)

    def version(self):
        """Changes whenever the index does: a commit (from any process) or a rebuild here.
        Never the same for two indexes in one process."""
        return self._serial, self._generation, self.open().latest_generation()

    def status(self):
        ix = self.open()
        return {"documents": ix.doc_count(), "location": self.directory or "memory"}

    def stored_versions(self):
        with self.open().searcher() as searcher:
            return {f["id"]: f.get("version", "") for f in searcher.all_stored_fields()}

    def search_ids(self, text, limit=200):
        """Organisation ids matching free text, best first.

        Each word is scored (BM25) in the name, worth more, and in everything else; documents
        holding more of the words come first. A word ending in `*` stands for every word it
        begins. Other syntax is not interpreted: stray quotes, brackets or operators are just
        not words. A long query keeps its rarest words that the index holds."""
        postings = self.postings()
        words = self._query_words(postings, str(text or "")[:MAX_QUERY_CHARS])
        if not words:
            return []
        allowed = postings.mask(Term("status", "active"))
        total = np.zeros(postings.size)
        found = np.zeros(postings.size)
        for alternatives in words:
            word_total, _hits = postings.total(
                [(field, word, boost) for word in alternatives
                 for field, boost in self.kind.keyword_boosts.items()])
            total += word_total
            found += word_total > 0
        total *= (1 + found) / (1 + len(words))
        return self._ids(postings, top(total, allowed, limit))

    @staticmethod
    def _query_words(postings, text):
        """[[term, ...], ...]: one list per word of the query (several for a `word*`)."""
        searcher = postings.searcher
        words = []
        for prefix in dict.fromkeys(w.lower() for w in PREFIX_RE.findall(text)):
            if len(prefix) >= MIN_PREFIX:
                expanded = list(itertools.islice(dict.fromkeys(_expand(searcher, prefix)),
                                                 MAX_PREFIX_TERMS))
                if expanded:
                    words.append(expanded)
        plain = list(dict.fromkeys(terms(PREFIX_RE.sub(" ", text))))[:MAX_QUERY_TERMS_READ]
        known = [(searcher.doc_frequency("text", term), term) for term in plain]
        known = sorted((df, term) for df, term in known if df > 0)[:MAX_QUERY_WORDS]
        words += [[term] for _df, term in known]
        return words[:MAX_QUERY_WORDS]

    @staticmethod
    def _ids(postings, docnums):
        """Organisation ids of docnums, read from the id column where the segment has one
        (the column readers are kept with the searcher's other arrays)."""
        searcher = postings.searcher
        leaves = list(searcher.reader().leaf_readers())
        starts = [offset for _reader, offset in leaves]
        columns = postings.extras.setdefault("id_columns", {})
        ids = []
        for docnum in (int(d) for d in docnums):
            index = bisect.bisect_right(starts, docnum) - 1
            if index not in columns:
                reader = leaves[index][0]
                columns[index] = reader.column_reader("id") if reader.has_column("id") else None
            column = columns[index]
            if column is not None:
                ids.append(int(column[docnum - starts[index]]))
            else:
                ids.append(int(searcher.stored_fields(docnum)["id"]))
        return ids

    def postings(self):
        """Array scoring over the current searcher (see portal.search.scoring)."""
        searcher = self.searcher()
        cached = getattr(self._local, "postings", None)
        if cached is None or cached.searcher is not searcher:
            cached = Postings(searcher, B=WEIGHTING.B, K1=WEIGHTING.K1)
            self._local.postings = cached
        return cached

    def match(self, weighted_terms, *, candidates=200, only_ids=None, filters=None,
              boosts=None):
        """Score organisations against weighted index terms, BM25F over name, services and
        track record.

        Two stages keep this fast on a large index: the combined `text` field (plus any
        `boosts`, e.g. a funder or area term) picks `candidates` organisations, then the
        per-field score is worked out for those alone. With `only_ids` the candidates are
        exactly those organisations, matched or not (unmatched ones score 0).
        """
        postings = self.postings()
        searcher = postings.searcher
        allowed = postings.mask(_filter_query(filters))
        weighted_terms = self._telling(postings, weighted_terms)
        if only_ids is not None:
            docnums = self._allowed_among(searcher, only_ids, allowed)
        else:
            clauses = [("text", term, weight) for term, weight in weighted_terms]
            clauses += [(field, value, weight) for field, value, weight in boosts or ()
                        if weight > 0]
            first, _hits = postings.total(clauses)
            docnums = np.sort(top(first, allowed, candidates))
        chosen = np.zeros(postings.size, dtype=bool)
        chosen[docnums] = True
        clauses = [(field, term, weight * boost) for term, weight in weighted_terms
                   for field, boost in self.kind.field_boosts.items() if boost > 0]
        scores, hits = postings.total(clauses, only=chosen)
        matched = {}
        for (_field, term, _boost), found in zip(clauses, hits):
            for docnum in found.tolist():
                matched.setdefault(docnum, set()).add(term)
        return [Hit(int(fields["id"]), float(scores[docnum]),
                    frozenset(matched.get(docnum, ())), fields.get("features") or {})
                for docnum in docnums.tolist()
                for fields in [searcher.stored_fields(docnum)]]

    def allowed(self, filters):
        """(id, stored features) of every organisation `filters` allow, unscored: reading
        the few hundred accredited documents is far quicker than testing each of a whole
        directory's ids against the filter."""
        postings = self.postings()
        searcher = postings.searcher
        docnums = np.flatnonzero(postings.mask(_filter_query(filters)))
        return [(int(fields["id"]), fields.get("features") or {})
                for docnum in docnums.tolist() for fields in [searcher.stored_fields(docnum)]]

    def word_scores(self, org_id, field_counts, words):
        """{term: score} of one organisation for each of `words` (index terms) alone, as
        `match` would score a one-word query, from the organisation's own counts of its terms
        per field ({field: {term: count}}) rather than by reading each word's posting list."""
        postings = self.postings()
        docnum = postings.searcher.document_number(id=str(org_id))
        if docnum is None or not postings.mask(_filter_query(None))[docnum]:
            return {word: 0.0 for word in words}
        scores = {}
        for word in words:
            total = 0.0
            for field, boost in self.kind.field_boosts.items():
                count = field_counts.get(field, {}).get(word)
                if boost > 0 and count:
                    total += boost * postings.score_of(field, word, docnum, count)
            scores[word] = total
        return scores

    def match_terms(self, weighted_terms):
        """The (term, weight) pairs of a query that `match` scores."""
        return self._telling(self.postings(), weighted_terms)

    @staticmethod
    def _telling(postings, weighted_terms):
        """The query's most telling terms: those whose weight times rarity is highest. Rare
        terms decide a match; the commonest add little but cost the most to score."""
        weighted_terms = [(term, weight) for term, weight in weighted_terms if weight > 0]
        if MATCH_TERMS and len(weighted_terms) > MATCH_TERMS:
            # A word no document holds matches nothing: it must not take a telling word's place.
            held = postings.searcher.doc_frequency
            weighted_terms = [(term, weight) for term, weight in weighted_terms
                              if held("text", term)]
        if not MATCH_TERMS or len(weighted_terms) <= MATCH_TERMS:
            return weighted_terms
        ranked = sorted(weighted_terms, key=lambda tw: (-tw[1] * postings.idf("text", tw[0]),
                                                        tw[0]))
        return sorted(ranked[:MATCH_TERMS])

    def term_share(self, field, value):
        """Share of documents holding `value` in `field` (0 when the index is empty)."""
        searcher = self.searcher()
        total = searcher.doc_count()
        return searcher.doc_frequency(field, value) / total if total else 0.0

    def term_shares(self, field, values):
        """{value: share of documents holding it in `field`}, read from one searcher."""
        searcher = self.searcher()
        total = searcher.doc_count()
        return {value: searcher.doc_frequency(field, value) / total if total else 0.0
                for value in values}

    def _allowed_among(self, searcher, ids, allowed):
        """The sorted document numbers of those of `ids` the filter allows. Each id is looked
        up alone while there are fewer ids than allowed documents; otherwise the allowed
        documents' own ids are read, which is far quicker when a filter keeps a few hundred
        documents of a whole directory's worth of ids (the accredited among 100,000)."""
        candidates = np.flatnonzero(allowed)
        if len(ids) <= len(candidates):
            return np.array(sorted(d for d in self._docnums(searcher, ids) if allowed[d]),
                            dtype=np.int64)
        wanted = {str(org_id) for org_id in ids}
        return np.array([d for d in candidates.tolist()
                         if str(searcher.stored_fields(d)["id"]) in wanted], dtype=np.int64)

    def _docnums(self, searcher, ids):
        found = set()
        for org_id in ids:
            docnum = searcher.document_number(id=str(org_id))
            if docnum is not None:
                found.add(docnum)
        return found


def documents_in_batches(kind, rows):
    """The documents of `rows` (or documents already made), made a batch at a time."""
    for batch in itertools.batched(rows, REBUILD_BATCH):
        yield from documents_of(kind, batch)


def documents_of(kind, batch):
    """Documents for a batch of rows (or of documents already made)."""
    made = iter(kind.documents([item for item in batch if not isinstance(item, dict)]))
    return [item if isinstance(item, dict) else next(made) for item in batch]


def _expand(searcher, prefix):
    """Index terms of the `text` field beginning with `prefix` (a lower-case word start; it is
    matched against stems, so "befriend*" finds "befriend", from "befriending")."""
    stem_prefix = terms(prefix)
    candidates = {prefix} | ({stem_prefix[0]} if stem_prefix else set())
    for start in sorted(candidates):
        for term in searcher.reader().expand_prefix("text", start):
            yield term.decode() if isinstance(term, bytes) else term


def _filter_query(filters):
    """Status is always active; other filters narrow further. Bounds are always closed."""
    filters = filters or {}
    clauses = [Term("status", "active")]
    if filters.get("org_types"):
        clauses.append(Or([Term("org_type", t) for t in filters["org_types"]]))
    if filters.get("tier_at_least"):
        clauses.append(NumericRange("tier", int(filters["tier_at_least"]), MAX_TIER))
        today = int(date.today().strftime("%Y%m%d"))
        clauses.append(NumericRange("tier_until", today, LAST_DAY))
    if filters.get("areas"):
        # Serving somewhere inside the area, or serving a wider area that contains it.
        clauses.append(Or([clause for code, parents in filters["areas"]
                           for clause in [Term("areas", code)]
                           + [Term("served", parent) for parent in parents]]))
    return And(clauses)


def get_index(app=None):
    app = app or current_app
    return app.extensions["search_index"]


def apply(app, ids, index=None):
    """After a commit of changes to `ids`: bring `index` (the ranked index unless another is
    given) up to the change log, which holds them and any made on other hosts. When the index
    cannot follow the log (it has no usable cursor: its follower will rebuild it; or the log
    cannot be read), `ids` alone are written, as a single host would."""
    index = index or get_index(app)
    try:
        if follow.catch_up(index, lambda keys: write_keys(index, keys)) is not None:
            return
    except SearchUnavailable:
        pass
    except Exception:
        log.exception("The %s index could not follow the change log; this commit's changes "
                      "are written alone", index.kind.name)
    write_kept(index, ids)


def write_keys(index, ids):
    """Write what the database now holds for `ids` into `index`: present rows are indexed,
    missing ones removed. Reading back after the commit makes a rolled-back savepoint
    harmless. Raises on failure."""
    with db.engine.connect() as connection:
        reader = Session(bind=connection)
        upserts = index.kind.documents(index.kind.load(reader, ids))
        reader.close()
    found = {int(doc["id"]) for doc in upserts}
    upserts, deletes = _only_changes(index, upserts, set(ids) - found)
    if upserts or deletes:
        index.write(upserts, deletes)


def _only_changes(index, upserts, deletes):
    """The documents whose stored version differs and the deletions of documents the index
    holds. A commit that changes nothing searchable (a question asked about an entry touches
    the entry's row) then costs no index commit, which can merge segments for a second."""
    stored = stored_versions_of(index.open(), [doc["id"] for doc in upserts]
                                + [str(key) for key in deletes])
    return ([doc for doc in upserts
             if doc.get("version") is None or stored.get(doc["id"]) != doc["version"]],
            {key for key in deletes if str(key) in stored})


def write_kept(index, ids):
    """`write_keys`, the ids kept on failure and written again once the index is rebuilt."""
    try:
        write_keys(index, ids)
    except Exception as error:
        index.failed_writes |= set(ids)
        if not isinstance(error, SearchUnavailable):
            log.exception("The %s index update failed; it is written again after a rebuild",
                          index.kind.name)


def rebuilding():
    """Whether an index is being rebuilt here (searches then answer from the database)."""
    indexes = [current_app.extensions.get(name) for name in ("search_index", "opportunity_index")]
    return any(index is not None and index.damaged for index in indexes)
