"""BM25 over whole posting lists at once, for the queries that matter most for speed.

Whoosh scores an OR of many terms document at a time, walking a tree of matchers; with the
dozens of weighted terms an opportunity gives, over 100,000 profiles, that takes seconds. Here
each term is scored over its whole posting list into an array, term at a time, and the arrays
summed with numpy.

How a term's scores are worked out depends on the speed-ups in use (see
portal.search.whoosh_internals). With `array_scoring`, numpy applies the formula and statistics
Whoosh's BM25F uses (inverse document frequency over all documents, the field length Whoosh
stores for each document as one byte) to the term's frequencies; otherwise Whoosh's own BM25F
scorer scores each posting, through its public API. Either way the scores are Whoosh's own.

One `Postings` object belongs to one searcher; it keeps the per-document field lengths and the
allowed-document masks it works out, so a searcher that is reused pays for them once.
"""
import threading
from collections import OrderedDict

import numpy as np
from whoosh.query import And, Or, Term
from whoosh.reading import TermNotFound
from whoosh.scoring import BM25F

from portal.search import whoosh_internals as internals

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
        self.weighting = BM25F(B=B, K1=K1)
        self.size = searcher.doc_count_all()
        self.leaves = list(searcher.reader().leaf_readers())
        self._bm25 = ArrayBM25(self) if internals.active("array_scoring") else WhooshBM25(self)
        self._masks = {}
        self._terms = OrderedDict()
        # Other things worth keeping for this searcher's life (e.g. column readers).
        self.extras = {}
        self._cached_postings = 0
        self._lock = threading.Lock()

    def idf(self, field, text):
        return self.weighting.idf(self.searcher, field, text)

    def scores(self, field, text):
        """(docnums, score) of one term: BM25 for a scored field, the frequency otherwise.
        Deleted documents may be among them: callers mask them out with `mask()`."""
        docnums, values = self._term(field, text)
        return docnums, self._bm25.scores(field, text, docnums, values)

    def score_of(self, field, text, docnum, tf):
        """`scores(field, text)` for one document, given its frequency of the term, without
        reading the term's posting list."""
        return self._bm25.score_of(field, text, docnum, tf)

    def _term(self, field, text):
        """What the scorer reads of one term's posting list. Long posting lists (common words)
        are kept for the next query, within a fixed budget."""
        key = (field, text)
        with self._lock:
            found = self._terms.get(key)
            if found is not None:
                self._terms.move_to_end(key)
                return found
        found = self._bm25.read(field, text)
        if len(found[0]) >= CACHE_FROM_POSTINGS:
            self._keep(key, found)
        return found

    def _keep(self, key, found):
        with self._lock:
            self._terms[key] = found
            self._cached_postings += len(found[0])
            while self._cached_postings > CACHE_POSTINGS and self._terms:
                _key, (dropped, _values) = self._terms.popitem(last=False)
                self._cached_postings -= len(dropped)

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
            for reader, offset in self.leaves:
                if reader.has_deletions():
                    found[_deleted(reader) + offset] = False
            self.extras["live"] = found
        return found

    def _matching(self, query):
        """Documents `query` matches, deleted ones included. Terms and their AND and OR are read
        from posting lists; other queries are left to Whoosh."""
        if query is None:
            return np.ones(self.size, dtype=bool)
        if type(query) is Term and isinstance(query.text, str):
            found = np.zeros(self.size, dtype=bool)
            found[self._term(query.fieldname, query.text)[0]] = True
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


class WhooshBM25:
    """Whoosh's own BM25F scorer applied to each posting, through Whoosh's public API."""

    def __init__(self, postings):
        self.searcher = postings.searcher
        self.weighting = postings.weighting

    def read(self, field, text):
        """(docnums, scores) of one term's live documents."""
        if not self.searcher.doc_frequency(field, text):
            return np.zeros(0, dtype=np.int32), np.zeros(0)
        matcher = self.searcher.postings(field, text, weighting=self.weighting)
        ids, scores = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            scores.append(matcher.score())
            matcher.next()
        return np.array(ids, dtype=np.int32), np.array(scores, dtype=np.float64)

    def scores(self, field, text, docnums, scores):
        return scores

    def score_of(self, field, text, docnum, tf):
        try:
            scorer = self.weighting.scorer(self.searcher, field, text)
        except TermNotFound:  # the index no longer holds the word
            return 0.0
        return float(scorer.score(_OnePosting(docnum, float(tf))))


class _OnePosting:
    """What a Whoosh scorer reads of a matcher: one document and its weight of the term."""

    def __init__(self, docnum, weight):
        self._docnum, self._weight = docnum, weight

    def id(self):
        return self._docnum

    def weight(self):
        return self._weight


class ArrayBM25:
    """Whoosh's BM25F worked out with numpy from a term's frequencies in whole posting lists
    (the `array_scoring` speed-up)."""

    def __init__(self, postings):
        self.postings = postings
        self.searcher = postings.searcher
        self._lengths = {}

    def read(self, field, text):
        """(docnums, term frequencies) of one term, deleted documents included."""
        ids, weights = [], []
        for reader, offset in self.postings.leaves:
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

    def scores(self, field, text, docnums, tf):
        tf = tf.astype(np.float64)
        if not len(docnums) or not self.searcher.schema[field].scorable:
            return tf
        return self._bm25(field, text, tf, self.lengths(field)[docnums])

    def score_of(self, field, text, docnum, tf):
        tf = float(tf)
        if not self.searcher.schema[field].scorable:
            return tf
        return float(self._bm25(field, text, tf, self.lengths(field)[docnum]))

    def _bm25(self, field, text, tf, length):
        K1, B = self.postings.K1, self.postings.B
        norm = K1 * ((1 - B) + B * length / self.average_length(field))
        return self.postings.idf(field, text) * (tf * (K1 + 1)) / (tf + norm)

    def lengths(self, field):
        """Each document's length of `field`, as Whoosh stores it (rounded to one byte)."""
        found = self._lengths.get(field)
        if found is None:
            parts = [_leaf_lengths(reader, field) for reader, _offset in self.postings.leaves]
            found = np.concatenate(parts) if parts else np.zeros(0)
            self._lengths[field] = found
        return found

    def average_length(self, field):
        return (self.searcher.field_length(field) / (self.postings.size or 1)) or 1


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
    """All (docnums, weights) of a posting list: a block at a time with the `block_reads`
    speed-up, otherwise posting by posting."""
    found = internals.read_postings(matcher) if internals.active("block_reads") else None
    if found is not None:
        return found
    ids, weights = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64)


def _deleted(reader):
    """Docnums deleted in one segment: the set a segment reader keeps, or else asked one by
    one."""
    deleted = getattr(reader, "deleted_docs_set", None)
    if deleted is None:
        deleted = [d for d in range(reader.doc_count_all()) if reader.is_deleted(d)]
    return np.fromiter(deleted, dtype=np.int64)


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
    return np.array([reader.doc_field_length(d, field, 0) or 0 for d in range(count)],
                    dtype=np.float64)
