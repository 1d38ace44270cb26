"""One supplier scored again after its profile changed.

After the commit (and after the search index holds the new profile) the supplier is scored
against the entries that list it and the entries its profile words and areas lead to, and takes
or gives up its place in each entry's stored list. Each entry's refresh record keeps the scale
its scores were worked out on, so the new score is comparable with the stored ones. Where only
a full ranking could tell (the supplier leaves a full list or falls to its foot, its text score
changes the scale, or the ranking stopped at its candidate limit before reaching it), the entry
is also marked stale for `flask matching refresh --stale`.
"""
import logging
import threading
import time
from bisect import bisect_left
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

from sqlalchemy import bindparam, case, or_, select

from portal.core.mixins import utcnow
from portal.matching import eligibility, ranking, recommend
from portal.matching.indexing import (
    FIELD_BOOSTS, ORGANISATION_SCHEMA, load_organisations, organisation_document,
)
from portal.matching.models import MatchRefresh, OpportunityMatch
from portal.matching.query import MatchQuery
from portal.matching.ranking import (
    SUPPLIER_TYPES, WEIGHTS, MatchFilters, buyer_informativeness, candidate_boosts,
    score_supplier,
)
from portal.matching.recommend import (
    RECOMMENDABLE_STATUSES, load_entries, mark_stale, query_for,
)
from portal.pipeline.models import Opportunity, opportunity_area
from portal.reference.places import area_tokens, gazetteer
from portal.search.services import (
    Hit, match_organisations, match_terms, search_opportunity_ids, surface_forms, word_scores,
)

log = logging.getLogger(__name__)

# Bounds on scoring one supplier again, so a profile edit stays well under a second: the
# entries that list it now (beyond this they are marked stale), the entries its most telling
# words find in the forward plan, and the entries in its areas.
MAX_LISTED = 200
SEARCH_WORDS = 8
SEARCHED_ENTRIES = 100
AREA_ENTRIES = 50
# The profile's words scored one by one, up to this many (its commonest); an entry whose text
# needs a word beyond them is left to the refresh.
MAX_PROFILE_TERMS = 120
# Text scores added up term by term differ from the index's own sum in the last digits.
SAME_SCORE = 1e-9
# How many of the profile's words make the query that checks the sums hold.
CHECK_WORDS = 40


@dataclass
class Rescored:
    """What scoring one supplier again did."""

    organisation_id: int
    entries: int = 0      # entries it was scored against
    entered: int = 0      # lists it joined
    left: int = 0         # lists it dropped out of
    updated: int = 0      # lists it stayed on with a new score
    stale: int = 0        # entries left for the refresh to compute in full
    milliseconds: int = 0


@dataclass
class SupplierProfile:
    """A supplier as the index now holds it, with the text score of each of its words on its own
    (worked out from the profile's own counts and the index's statistics). An entry's text score
    for the supplier is the sum of its words' scores, each times the word's weight in the entry
    (BM25F adds up term by term)."""

    id: int
    features: dict
    word_scores: dict
    not_looked_up: frozenset
    area_tokens: frozenset
    search_words: list = field(default_factory=list)
    # Set when the sums turn out not to agree with the index: whole queries are scored then.
    whole_queries: bool = False

    @classmethod
    def load(cls, session, organisation_id):
        """The profile, or None when the organisation is gone or is not a supplier the
        matcher would list (inactive, or a buyer or a body)."""
        found = load_organisations(session, [organisation_id])
        org = found[0] if found else None
        if org is None or org.status != "active" or org.org_type not in SUPPLIER_TYPES:
            return None
        indexed = match_organisations([], only_ids=[org.id],
                                      filters=MatchFilters().for_index())
        if not indexed:
            return None
        per_field = _indexed_terms(organisation_document(org))
        counts = sum(per_field.values(), Counter())
        chosen = [term for term, _n in counts.most_common(MAX_PROFILE_TERMS)]
        scores = word_scores(org.id, per_field, chosen)
        features = indexed[0].features
        return cls(org.id, features, scores, frozenset(counts) - set(scores),
                   frozenset(area_tokens(org.areas, features.get("home"))),
                   _telling_words(scores, _profile_text(org)))

    def text_score(self, query):
        """(score, matched terms) as the sum of the words' scores, or None when a word of the
        entry was not looked up. When `whole_queries` is set this is only an upper bound: an
        index that uses fewer of a long query's words scores it lower."""
        wanted = [(term, weight) for term, weight in match_terms(query.weighted_terms)
                  if term in self.word_scores or term in self.not_looked_up]
        if any(term in self.not_looked_up for term, _w in wanted):
            return None
        score = sum(weight * self.word_scores[term] for term, weight in wanted)
        return score, frozenset(t for t, _w in wanted if self.word_scores[t] > 0)

    def whole_text_score(self, query):
        """(score, matched terms) as the index gives them for the whole query."""
        hits = match_organisations(query.weighted_terms, only_ids=[self.id])
        return (hits[0].score, hits[0].matched) if hits else (0.0, frozenset())

    def check_sums(self):
        """Check that the index scores a query as the sum of its words' scores, on a query of
        some of the profile's words and words no profile has, longer than most entries' (an
        index that used only some of a long query's words would score it lower); when it does
        not, score whole queries from then on. Returns whether the sums held."""
        words = sorted(term for term, score in self.word_scores.items() if score > 0)
        words = words[:CHECK_WORDS // 2]
        if not words:
            return True
        words += [f"zzunused{n}" for n in range(CHECK_WORDS - len(words))]
        query = [(term, 1.5 if n % 2 else 1.0) for n, term in enumerate(words)]
        summed = sum(weight * self.word_scores.get(term, 0.0)
                     for term, weight in match_terms(query))
        whole = match_organisations(query, only_ids=[self.id])
        self.whole_queries = not whole or abs(summed - whole[0].score) > \
            SAME_SCORE * max(1.0, summed)
        return not self.whole_queries

    def is_candidate(self, query, text_score):
        """Whether a full ranking would consider it: a shared word, or one of the boosts that
        bring in a supplier that has worked for the buyer or works in the place."""
        if text_score > 0:
            return True
        funders = set(self.features.get("funders") or ())
        return any(value in (funders if name == "funders" else self.area_tokens)
                   for name, value, _weight in candidate_boosts(query))

    def area_codes(self):
        """Areas an entry could name for the supplier to score on where: the authorities it is
        based in, serves, has worked in or is near, and their counties and regions."""
        gaz = gazetteer()
        home = self.features.get("home")
        codes = list(self.features.get("served") or ()) + list(
            self.features.get("mentioned") or ()) + ([home] if home else [])
        covered = gaz.expand(codes) | (gaz.expand(gaz.parents(home)[:1]) if home else set())
        wider = {parent for code in covered for parent in gaz.parents(code)
                 if parent != gaz.areas[code]["country_code"]}
        return sorted(covered | wider)


def _indexed_terms(document):
    """{field: Counter of terms} the index holds for a profile's scored fields, each field read
    with its own analyser, as the index reads it."""
    return {name: Counter(token.text for token in
                          ORGANISATION_SCHEMA[name].analyzer(document.get(name) or ""))
            for name in FIELD_BOOSTS}


def _profile_text(org):
    """The profile's own words, as typed: where the words to search the plan with come from."""
    parts = [org.name, org.other_names, org.description]
    parts += [c.description for c in org.cpv_codes] + [t.value for t in org.terms]
    parts += [f"{w.title}\n{w.description or ''}" for w in org.past_work]
    return "\n".join(p for p in parts if p)


def _telling_words(scores, text):
    """The profile's words that weigh most in a match, as written, to search the plan with."""
    forms = surface_forms(text)
    best = sorted((term for term, score in scores.items() if score > 0 and term in forms),
                  key=lambda term: (-scores[term], term))
    return [(term, forms[term][0]) for term in best[:SEARCH_WORDS]]


def rescore_supplier(session, organisation_id, now=None):
    """Score one supplier again after its profile changed and put it where it now belongs in
    each entry's stored matches; the caller commits. Returns a `Rescored`."""
    started, now = time.perf_counter(), now or utcnow()
    result, writes, clues = Rescored(organisation_id), _Writes(), {}
    supplier = SupplierProfile.load(session, organisation_id)
    listed = _listed_entries(session, organisation_id)
    ids = listed[:MAX_LISTED]
    if supplier is not None:
        ids += _found_entries(session, supplier, leave_out=set(listed))
    left_over = listed[MAX_LISTED:]
    entries = _entries_with_matches(session, ids, organisation_id)
    if supplier is not None and not supplier.check_sums():
        log.warning("Word scores do not add up to the index's score; organisation %s is "
                    "scored a whole entry at a time", organisation_id)
    for entry, state, rows in entries:
        if state is None:
            left_over.append(entry.id)
        elif _rescore_entry(supplier, organisation_id, entry, state, rows, writes, clues,
                            result):
            state.stale = True  # only a full ranking can settle this entry now
            result.stale += 1
    mark_stale(session, left_over)
    writes.apply(session, now)
    result.entries, result.stale = len(ids), result.stale + len(left_over)
    result.milliseconds = round((time.perf_counter() - started) * 1000)
    return result


def _listed_entries(session, organisation_id):
    return list(session.scalars(
        select(OpportunityMatch.opportunity_id).join(OpportunityMatch.opportunity)
        .where(OpportunityMatch.organisation_id == organisation_id,
               Opportunity.status.in_(RECOMMENDABLE_STATUSES))
        .order_by(OpportunityMatch.score.desc(), OpportunityMatch.opportunity_id)))


def _found_entries(session, supplier, leave_out):
    """Entries the supplier's most telling words find in the forward plan (best first), then
    entries in its areas (newest first); only those taking interest."""
    found = Counter()
    try:
        for term, word in supplier.search_words:
            for entry_id in search_opportunity_ids(word, limit=2 * SEARCHED_ENTRIES):
                found[entry_id] += supplier.word_scores[term]
    except Exception:  # the entries it is listed on and those in its areas still count
        log.exception("Could not search the forward plan for organisation %s", supplier.id)
    live = set(session.scalars(select(Opportunity.id).where(
        Opportunity.id.in_(sorted(found)), Opportunity.status.in_(RECOMMENDABLE_STATUSES)))) \
        if found else set()
    searched = [i for i, _s in sorted(found.items(), key=lambda p: (-p[1], p[0]))
                if i in live and i not in leave_out][:SEARCHED_ENTRIES]
    codes = supplier.area_codes()
    in_areas = list(session.scalars(
        select(Opportunity.id).where(
            Opportunity.status.in_(RECOMMENDABLE_STATUSES), Opportunity.id.not_in(leave_out),
            or_(Opportunity.id.in_(select(opportunity_area.c.opportunity_id).where(
                opportunity_area.c.area_code.in_(codes))),
                Opportunity.reservation_area_code.in_(codes)))
        .order_by(Opportunity.id.desc()).limit(AREA_ENTRIES))) if codes else []
    return list(dict.fromkeys(searched + in_areas))


@dataclass(frozen=True)
class _Entry:
    """An entry as the matcher read it when its matches were last computed in full."""

    id: int
    buyer_id: int
    query: MatchQuery


_entries_read = OrderedDict()
_entries_lock = threading.Lock()
ENTRIES_KEPT = 2048


def _stored_rows(ids, organisation_id):
    """The entries' stored matches in rank order; what was said about the supplier itself is
    read too, so an unchanged row is not written again."""
    table = OpportunityMatch.__table__
    own = table.c.organisation_id == organisation_id
    return (select(table.c.id, table.c.opportunity_id, table.c.organisation_id, table.c.score,
                   table.c.rank, case((own, table.c.signals)).label("signals"),
                   case((own, table.c.reasons)).label("reasons"))
            .where(table.c.opportunity_id.in_(ids))
            .order_by(table.c.opportunity_id, table.c.rank, table.c.organisation_id))


def _entries_with_matches(session, ids, organisation_id):
    """(entry, refresh record, stored rows) for each entry that takes interest; a refresh
    record of None for one never computed. An entry waiting for a full refresh is scored too,
    so its stored rows stay as near right as they can until then."""
    if not ids:
        return []
    states = dict(session.execute(
        select(Opportunity.id, MatchRefresh)
        .outerjoin(MatchRefresh, MatchRefresh.opportunity_id == Opportunity.id)
        .where(Opportunity.id.in_(ids), Opportunity.status.in_(RECOMMENDABLE_STATUSES))).all())
    rows = {}
    for row in session.execute(_stored_rows(ids, organisation_id)):
        rows.setdefault(row.opportunity_id, []).append(row)
    read = _read_entries(session, [state for state in states.values() if state is not None])
    return [(entry, states[entry.id], rows.get(entry.id, [])) for entry in read] + [
        (_Entry(i, None, None), None, []) for i, state in states.items() if state is None]


def _read_entries(session, states):
    """Entries as the matcher reads them, from a per-process store keyed by when each was last
    computed: a change to what an entry matches on computes it again, giving a new key (or
    marks it stale, when its stored rows still describe it as it was). Reading and parsing an
    entry is most of the cost of scoring one supplier against it."""
    found, missing = {}, []
    with _entries_lock:
        for state in states:
            key = (state.opportunity_id, state.computed_at)
            if key in _entries_read:
                _entries_read.move_to_end(key)
                found[state.opportunity_id] = _entries_read[key]
            else:
                missing.append(state)
    if missing:
        computed = {s.opportunity_id: s.computed_at for s in missing}
        for opportunity in load_entries(session, ids=list(computed)):
            entry = _Entry(opportunity.id, opportunity.organisation_id, query_for(opportunity))
            found[entry.id] = entry
            with _entries_lock:
                _entries_read[(entry.id, computed[entry.id])] = entry
                while len(_entries_read) > ENTRIES_KEPT:
                    _entries_read.popitem(last=False)
    return [found[s.opportunity_id] for s in states if s.opportunity_id in found]


def _rescore_entry(supplier, organisation_id, entry, state, rows, writes, clues, result):
    """Score the supplier for one entry and plan the changes to its stored matches. Returns
    True when only a full ranking can settle the entry (the stored rows are then kept or
    changed as nearly right as can be told)."""
    if state.text_best is None:
        return True  # computed before the scale was kept
    match, doubtful = None, state.text_leader_id == organisation_id
    if supplier is not None:
        query = entry.query
        scored = supplier.text_score(query)
        if scored is None:
            return True  # a word of the entry was not looked up: the stored row stays
        if supplier.whole_queries:
            scored = _whole_where_it_counts(supplier, entry, state, rows, scored, clues)
            if scored is None:
                return False  # it cannot reach the list: nothing changes
        match, doubtful = _score(supplier, entry, query, state, scored, clues)
    if match is not None and not _may_enter(state, rows, organisation_id):
        # Only the suppliers whose words come first are ranked at all, and where that cut
        # falls is not kept: whether this one would now be among them only a ranking can say.
        return _would_be_listed(rows, organisation_id, match)
    dropped, state.kept = _relist(entry.id, rows, organisation_id, match, writes, result)
    return doubtful or dropped


def _may_enter(state, rows, organisation_id):
    return (state.candidates or 0) < ranking.CANDIDATES or any(
        r.organisation_id == organisation_id for r in rows)


def _would_be_listed(rows, organisation_id, match):
    others = [r for r in rows if r.organisation_id != organisation_id]
    return len(others) < recommend.KEEP or _order(match.score, organisation_id) < _order(
        others[recommend.KEEP - 1].score, others[recommend.KEEP - 1].organisation_id)


def _whole_where_it_counts(supplier, entry, state, rows, scored, clues):
    """The index's own text score for the whole entry, asked for only where it can change
    something: where the supplier is listed or sets the scale, or where even its summed score
    (an upper bound) would list it. Returns None when it cannot reach the list."""
    text, matched = scored
    listed = any(r.organisation_id == supplier.id for r in rows)
    if not listed and state.text_leader_id != supplier.id and text <= state.text_best:
        if not supplier.is_candidate(entry.query, text):
            return None
        hit = Hit(supplier.id, text, matched, supplier.features)
        bound = score_supplier(entry.query, hit, state.text_best, WEIGHTS,
                               _clue(entry.query, clues))
        if not _would_be_listed(rows, supplier.id, bound):
            return None
    return supplier.whole_text_score(entry.query)


def _clue(query, clues):
    """How telling the buyer's name is (kept per buyer while one supplier is scored)."""
    if query.buyer_key not in clues:
        clues[query.buyer_key] = buyer_informativeness(query, (), True)
    return clues[query.buyer_key]


def _score(supplier, entry, query, state, scored, clues):
    """The supplier's match for the entry on the entry's scale (None when a full ranking would
    not consider it), and whether the change moved the scale itself, so that the other stored
    scores are out of date too."""
    (text, matched), best, doubtful = scored, state.text_best, False
    if text > best * (1 + SAME_SCORE):
        # It now has the best words: the others' text scores are shares of a new best.
        doubtful = best > 0
        state.text_best, state.text_leader_id, best = text, supplier.id, text
    elif state.text_leader_id == supplier.id and text < best * (1 - SAME_SCORE):
        doubtful = True
    # How telling the buyer's name is depends on how many suppliers have worked for it, which
    # this supplier's past work may just have changed.
    clue = _clue(query, clues)
    if state.buyer_clue is None or abs(clue - state.buyer_clue) > SAME_SCORE:
        doubtful = doubtful or state.buyer_clue is not None
        state.buyer_clue = clue
    if entry.buyer_id == supplier.id or not supplier.is_candidate(query, text):
        return None, doubtful
    hit = Hit(supplier.id, text, matched, supplier.features)
    match = score_supplier(query, hit, best, WEIGHTS, clue)
    if not match.evident or eligibility.why_ineligible(query, supplier.features):
        return None, doubtful
    return match, doubtful


def _order(score, organisation_id):
    return (-score, organisation_id)


def _relist(entry_id, rows, organisation_id, match, writes, result):
    """Give the supplier its place among the entry's stored matches (`rows`, in rank order),
    pushing out the last one when the list is full, or take it out. Returns (whether a full
    ranking might list someone not stored here, how many the entry now keeps): it might when
    the supplier left a full list or fell to the bottom of one."""
    mine = next((r for r in rows if r.organisation_id == organisation_id), None)
    others = [r for r in rows if r.organisation_id != organisation_id]
    keep = recommend.KEEP  # read where it is set, so a change there (a test's) counts here
    place = bisect_left([_order(r.score, r.organisation_id) for r in others],
                        _order(match.score, organisation_id)) if match is not None else keep
    listed = place < keep
    kept = others[:keep - 1] if listed else others
    writes.deletes += [r.id for r in others[len(kept):]]
    order = kept[:place] + [None] + kept[place:] if listed else kept
    for rank, row in enumerate(order, start=1):
        if row is not None and row.rank != rank:
            writes.ranks.append({"match_id": row.id, "new_rank": rank})
    writes.own_row(entry_id, mine, match if listed else None, place + 1, result)
    dropped = mine is not None and len(rows) >= keep and (
        not listed or (match.score < mine.score and order[-1] is None))
    return dropped, len(order)


@dataclass
class _Writes:
    """Changes to the stored matches, written together once every entry is worked out."""

    deletes: list = field(default_factory=list)
    inserts: list = field(default_factory=list)
    updates: list = field(default_factory=list)
    ranks: list = field(default_factory=list)

    def own_row(self, entry_id, mine, match, rank, result):
        """Insert, update or delete the supplier's own row."""
        if match is None:
            if mine is not None:
                self.deletes.append(mine.id)
                result.left += 1
        elif mine is not None:
            if (mine.rank, mine.score, mine.signals, mine.reasons) != (
                    rank, match.score, match.signals, list(match.reasons)):
                self.updates.append({"match_id": mine.id, "new_rank": rank,
                                     "new_score": match.score, "new_signals": match.signals,
                                     "new_reasons": list(match.reasons)})
                result.updated += 1
        else:
            self.inserts.append({"opportunity_id": entry_id, "rank": rank,
                                 "organisation_id": match.organisation_id, "score": match.score,
                                 "signals": match.signals, "reasons": list(match.reasons)})
            result.entered += 1

    def apply(self, session, now):
        table = OpportunityMatch.__table__
        if self.deletes:
            session.execute(table.delete().where(table.c.id.in_(self.deletes)))
        if self.updates:
            session.execute(table.update().where(table.c.id == bindparam("match_id")).values(
                rank=bindparam("new_rank"), score=bindparam("new_score"),
                signals=bindparam("new_signals"), reasons=bindparam("new_reasons"),
                computed_at=now), self.updates)
        if self.ranks:
            session.execute(table.update().where(table.c.id == bindparam("match_id"))
                            .values(rank=bindparam("new_rank")), self.ranks)
        if self.inserts:
            session.execute(table.insert().values(first_matched_at=now, computed_at=now),
                            self.inserts)
