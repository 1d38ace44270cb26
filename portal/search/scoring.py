"""BM25 over whole posting lists at once, for the queries that matter most for speed.

Whoosh scores an OR of many terms document at a time, walking a tree of matchers; with the
dozens of weighted terms an opportunity gives, over 100,000 profiles, that takes seconds. Here
each term's posting list is read block by block into arrays and scored term at a time with
numpy, with the same formula and statistics Whoosh's BM25F uses (inverse document frequency
over all documents, the field length Whoosh stores for each document as one byte), so results
and their order are the same as Whoosh's own, only much sooner.

One `Postings` object belongs to one searcher; it keeps the per-document field lengths and the
allowed-document masks it works out, so a searcher that is reused pays for them once.
"""
import math
import threading
from collections import OrderedDict

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.query import And, Or, Term
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

BYTE_LENGTHS = np.array([byte_to_length(b) if b else 0 for b in range(256)], dtype=np.float64)
# Masks kept per searcher (filters are few: status, type, tier, area).
MAX_CACHED_MASKS = 64
MAX_CACHED_SEGMENTS = 256
# Posting lists at least this long are kept between queries, up to this many postings in all
# (8 bytes each: 4 million is 32 MB per process).
CACHE_FROM_POSTINGS = 1000
CACHE_POSTINGS = 4_000_000
_SEGMENT_LENGTHS = {}


class Postings:
    """Term statistics and scores for one Whoosh searcher, as numpy arrays over docnums."""

    def __init__(self, searcher, B=0.75, K1=1.2):
        self.searcher = searcher
        self.B, self.K1 = B, K1
        self.size = searcher.doc_count_all()
        self._leaves = list(searcher.reader().leaf_readers())
        self._lengths = {}
        self._masks = {}
        self._terms = OrderedDict()
        # Other things worth keeping for this searcher's life (e.g. column readers).
        self.extras = {}
        self._cached_postings = 0
        self._lock = threading.Lock()

    # --- statistics --------------------------------------------------------------------------

    def idf(self, field, text):
        df = self.searcher.doc_frequency(field, text)
        return math.log(self.size / (df + 1)) + 1

    def lengths(self, field):
        """Each document's length of `field`, as Whoosh stores it (rounded to one byte)."""
        found = self._lengths.get(field)
        if found is None:
            parts = [_leaf_lengths(reader, field) for reader, _offset in self._leaves]
            found = np.concatenate(parts) if parts else np.zeros(0)
            self._lengths[field] = found
        return found

    def average_length(self, field):
        return (self.searcher.field_length(field) / (self.size or 1)) or 1

    def term(self, field, text):
        """(docnums, term frequencies) of one term, deleted documents included: callers mask
        them out with `mask()`. Long posting lists (common words) are kept for the next query,
        within a fixed budget."""
        key = (field, text)
        with self._lock:
            found = self._terms.get(key)
            if found is not None:
                self._terms.move_to_end(key)
                return found
        found = self._read_term(field, text)
        if len(found[0]) >= CACHE_FROM_POSTINGS:
            with self._lock:
                self._terms[key] = found
                self._cached_postings += len(found[0])
                while self._cached_postings > CACHE_POSTINGS and self._terms:
                    _key, (dropped, _weights) = self._terms.popitem(last=False)
                    self._cached_postings -= len(dropped)
        return found

    def _read_term(self, field, text):
        ids, weights = [], []
        for reader, offset in self._leaves:
            try:
                matcher = reader.postings(field, text)
            except TermNotFound:
                continue
            leaf_ids, leaf_weights = _read_postings(matcher)
            ids.append(leaf_ids + offset)
            weights.append(leaf_weights)
        if not ids:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        return np.concatenate(ids).astype(np.int32), np.concatenate(weights).astype(np.float32)

    def scores(self, field, text):
        """(docnums, score) of one term: BM25 for a scored field, the frequency otherwise."""
        docnums, tf = self.term(field, text)
        tf = tf.astype(np.float64)
        if not len(docnums) or not self.searcher.schema[field].scorable:
            return docnums, tf
        length = self.lengths(field)[docnums]
        norm = self.K1 * ((1 - self.B) + self.B * length / self.average_length(field))
        return docnums, self.idf(field, text) * (tf * (self.K1 + 1)) / (tf + norm)

    def score_of(self, field, text, docnum, tf):
        """`scores(field, text)` for one document, given its frequency of the term: the same
        arithmetic, without reading the term's posting list."""
        tf = float(tf)
        if not self.searcher.schema[field].scorable:
            return tf
        length = self.lengths(field)[docnum]
        norm = self.K1 * ((1 - self.B) + self.B * length / self.average_length(field))
        return float(self.idf(field, text) * (tf * (self.K1 + 1)) / (tf + norm))

    # --- queries -----------------------------------------------------------------------------

    def mask(self, query):
        """A boolean array: True for each live document `query` matches (None: every live
        document). Kept for the life of this searcher."""
        key = repr(query)
        with self._lock:
            found = self._masks.get(key)
        if found is None:
            found = self._matching(query) & self.live()
            with self._lock:
                if len(self._masks) >= MAX_CACHED_MASKS:
                    self._masks.clear()
                self._masks[key] = found
        return found

    def live(self):
        """True for each document not deleted."""
        found = self.extras.get("live")
        if found is None:
            found = np.ones(self.size, dtype=bool)
            for reader, offset in self._leaves:
                if reader.has_deletions():
                    deleted = np.fromiter(reader.deleted_docs_set, dtype=np.int64)
                    found[deleted + offset] = False
            self.extras["live"] = found
        return found

    def _matching(self, query):
        """Documents `query` matches, deleted ones included. Terms and their AND and OR are read
        from posting lists; other queries are left to Whoosh."""
        if query is None:
            return np.ones(self.size, dtype=bool)
        if type(query) is Term and isinstance(query.text, str):
            found = np.zeros(self.size, dtype=bool)
            found[self.term(query.fieldname, query.text)[0]] = True
            return found
        plain_or = type(query) is Or and getattr(query, "minmatch", 0) <= 1
        if (type(query) is And or plain_or) and query.subqueries:
            parts = [self._matching(sub) for sub in query.subqueries]
            combine = np.logical_and if type(query) is And else np.logical_or
            return combine.reduce(parts)
        found = np.zeros(self.size, dtype=bool)
        found[np.fromiter(self.searcher.docs_for_query(query), dtype=np.int64)] = True
        return found

    def total(self, clauses, only=None):
        """Sum of boost x score over (field, text, boost) clauses, as an array over docnums.

        With `only` (a boolean array), documents outside it are left at 0. Also returns, for
        each clause, the docnums it matched (inside `only`)."""
        total = np.zeros(self.size)
        hits = []
        for field, text, boost in clauses:
            docnums, scores = self.scores(field, text)
            if only is not None and len(docnums):
                keep = only[docnums]
                docnums, scores = docnums[keep], scores[keep]
            total[docnums] += boost * scores  # a term lists each document once
            hits.append(docnums)
        return total, hits


def top(scores, allowed, limit):
    """Docnums of the `limit` best positive scores among allowed documents, best first; ties go
    to the lower docnum (as in Whoosh)."""
    candidates = np.flatnonzero((scores > 0) & allowed)
    if limit and len(candidates) > limit:
        # Keep every document tied with the last one kept, then order exactly.
        threshold = np.partition(scores[candidates], len(candidates) - limit)[-limit]
        candidates = candidates[scores[candidates] >= threshold]
    order = np.lexsort((candidates, -scores[candidates]))
    ranked = candidates[order]
    return ranked[:limit] if limit else ranked


def _read_postings(matcher):
    """All (docnums, weights) of a posting list, read a block at a time where possible."""
    leaf = matcher
    while not isinstance(leaf, W3LeafMatcher) and hasattr(leaf, "child"):
        leaf = leaf.child
    if not isinstance(leaf, W3LeafMatcher):
        return _read_slowly(matcher)
    ids, weights = [], []
    while leaf.is_active():
        if leaf._data is None:
            leaf._read_data()
        block_ids, block_weights = leaf._data[0], leaf._data[1]
        block_ids = np.asarray(block_ids, dtype=np.int64)
        if not leaf._byteids:
            block_ids = np.cumsum(block_ids)
        count = leaf._blocklength
        if block_weights is None:
            block_weights = np.ones(count)
        elif isinstance(block_weights, float):
            block_weights = np.full(count, block_weights)
        else:
            block_weights = np.asarray(block_weights, dtype=np.float64)
        ids.append(block_ids[:count])
        weights.append(block_weights[:count])
        leaf._next_block()
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(ids), np.concatenate(weights)


def _read_slowly(matcher):
    ids, weights = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64)


def _leaf_lengths(reader, field):
    """Field lengths of one segment, cached by segment: they never change once written."""
    segment = getattr(reader, "segment", None)
    key = (segment().segid, field) if callable(segment) else None
    found = _SEGMENT_LENGTHS.get(key) if key else None
    if found is None:
        found = _read_lengths(reader, field)
        if key:
            if len(_SEGMENT_LENGTHS) >= MAX_CACHED_SEGMENTS:
                _SEGMENT_LENGTHS.clear()
            _SEGMENT_LENGTHS[key] = found
    return found


def _read_lengths(reader, field):
    count = reader.doc_count_all()
    perdoc = getattr(reader, "_perdoc", None)
    column = None
    if perdoc is not None and hasattr(perdoc, "_cached_reader"):
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

        column = perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    if column is None or getattr(column, "_fixedlen", None) != 1:
        return np.array([reader.doc_field_length(d, field, 0) or 0 for d in range(count)],
                        dtype=np.float64)
    stored = min(column._count, count)
    encoded = np.zeros(count, dtype=np.uint8)
    if stored:
        raw = column._dbfile.get(column._basepos, stored)
        encoded[:stored] = np.frombuffer(raw, dtype=np.uint8)
    return BYTE_LENGTHS[encoded]
