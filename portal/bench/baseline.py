"""The TF-IDF cosine baseline of the matching benchmark (shared/benchmarks/MATCHING.md).

It ranks over the same texts as the portal's matcher sees, with nothing but word overlap, so
the benchmark's figures have a floor to be read against and its metric definitions can be checked
with the reference figures published for it. A profile is its name, grant titles and grant
descriptions; a grant is its masked title and description. Tokens are lower-case runs of
letters and digits, three or more long, with no stemming and no stop list; a term weighs
(1 + ln tf) · ln((N + 1) / (df + 0.5)), N and df counted over the profiles, and both vectors are
L2-normalised. A grant's words that no profile uses count towards its length (they still make
the grant less like every profile) but match nothing.
"""
import math
import re
import time
from collections import Counter, defaultdict

import numpy as np

TOKEN = re.compile(r"[a-z0-9]{3,}")
NOTHING = (np.zeros(0, dtype=np.int32), np.zeros(0))


def tokens(text):
    return TOKEN.findall(text.lower())


def profile_text(row):
    return " ".join((row["name"], row["grant_titles"], row["grant_descriptions"]))


def grant_text(row):
    return " ".join((row.get("title_masked") or "", row.get("description_masked") or ""))


class TfidfIndex:
    """Unit-length TF-IDF vectors of a list of texts, kept as posting lists for fast cosines."""

    def __init__(self, texts):
        counts = [Counter(tokens(text)) for text in texts]
        self.size = len(counts)
        self.df = Counter(term for terms in counts for term in terms)
        postings = defaultdict(lambda: ([], []))
        for row, terms in enumerate(counts):
            for term, weight in self.vector(terms).items():
                postings[term][0].append(row)
                postings[term][1].append(weight)
        self.postings = {term: (np.array(rows, dtype=np.int32), np.array(weights))
                         for term, (rows, weights) in postings.items()}

    def idf(self, term):
        return math.log((self.size + 1) / (self.df.get(term, 0) + 0.5))

    def vector(self, counts):
        """Term -> weight for a Counter of tokens, scaled to unit length."""
        weights = {term: (1 + math.log(tf)) * self.idf(term) for term, tf in counts.items()}
        length = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {term: w / length for term, w in weights.items()}

    def cosines(self, text):
        """The cosine between `text` and every indexed text, in index order."""
        total = np.zeros(self.size)
        for term, weight in self.vector(Counter(tokens(text))).items():
            rows, weights = self.postings.get(term, NOTHING)
            total[rows] += weight * weights  # a term lists each row once
        return total


def rank_tfidf(bench, progress, depth=None):
    """Rank like the portal's matcher does for the benchmark, by TF-IDF cosine.

    Returns (orders, scored): orders maps each candidate setting to {query_id: the given keys,
    best first, ties in the candidate file's order}; scored maps each query_id to the
    (recipient_key, cosine) pairs of every profile sharing a word with the grant, best first,
    ties in profiles.csv order, cut at `depth` (None: all).
    """
    started = time.monotonic()
    index = TfidfIndex([profile_text(row) for row in bench.profiles])
    keys = [row["recipient_key"] for row in bench.profiles]
    rows = {key: number for number, key in enumerate(keys)}
    progress(f"indexed {index.size} profiles for TF-IDF ({time.monotonic() - started:.0f} s)")
    orders = {setting: {} for setting in bench.candidates}
    scored = {}
    for row in bench.queries:
        cosines = index.cosines(grant_text(row))
        for setting, lists in bench.candidates.items():
            given = lists[row["query_id"]]
            orders[setting][row["query_id"]] = sorted(given, key=lambda k: -cosines[rows[k]])
        scored[row["query_id"]] = _best(cosines, keys, depth)
    progress(f"ranked {len(bench.queries)} queries by TF-IDF ({time.monotonic() - started:.0f} s)")
    return orders, scored


def _best(cosines, keys, depth):
    order = np.argsort(-cosines, kind="stable")
    order = order[cosines[order] > 0][:depth]
    return [(keys[row], float(cosines[row])) for row in order]
