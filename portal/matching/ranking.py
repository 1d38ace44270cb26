"""Rank suppliers for an opportunity: a candidate stage in the search index, then a re-rank that
weighs every signal and explains itself."""
import math
from dataclasses import dataclass, field

from portal.matching import eligibility, signals
from portal.matching.query import MatchQuery
from portal.search.services import funder_share, match_organisations

# How much each signal counts (text relevance is scaled so the best candidate scores 1). Chosen
# on the development split of the grants benchmark (`flask bench matching`), round numbers,
# checked by 3-fold cross-validation over its queries.
WEIGHTS = {
    "text": 1.0,
    "area": 1.5,
    "buyer": 0.6,
    "name": 0.5,
    "track": 0.1,
    "capacity": 0.1,
    # Not measured by the grants benchmark (grants carry no CPV codes or tiers): set by judgement
    # so a category or accreditation match counts about as much as a good word match.
    "cpv": 0.5,
    "tier": 0.3,
}
# The candidate stage keeps this many organisations for the re-rank.
CANDIDATES = 1000
# A candidate-stage boost for organisations with the buyer or the place in their profile, so
# a supplier whose words differ but who works there for that buyer is still considered.
BUYER_BOOST = 2.0
PLACE_BOOST = 1.0
MAX_PLACE_BREADTH = 12
SUPPLIER_TYPES = ("vcse", "prime")
# A buyer that one supplier in twenty has worked for is a full-strength clue; commoner, less.
COMMON_BUYER_SHARE = 0.05


@dataclass
class MatchFilters:
    """Narrow the suppliers considered: accredited only, at least a tier, in an area, of a type."""

    accredited_only: bool = False
    tier_at_least: int | None = None
    area_codes: tuple = ()
    org_types: tuple = SUPPLIER_TYPES

    def for_index(self):
        from portal.reference.places import gazetteer

        tier = self.tier_at_least or (1 if self.accredited_only else None)
        gaz = gazetteer()
        areas = [(code, gaz.parents(code)) for code in self.area_codes]
        return {"org_types": list(self.org_types), "tier_at_least": tier, "areas": areas}


@dataclass
class Match:
    """One supplier for one opportunity: its score, each signal's part, and why. `evident`
    says whether anything in the match is about the service itself (see evidence.py)."""

    organisation_id: int
    name: str
    score: float
    signals: dict = field(default_factory=dict)
    reasons: list = field(default_factory=list)
    evident: bool = True

    @property
    def explanation(self):
        return "; ".join(self.reasons)


class Ranked(list):
    """Matches best first, with how many suppliers with evidence were left out as ineligible,
    by reason ({reason: count})."""

    def __init__(self, matches=(), left_out=None):
        super().__init__(matches)
        self.left_out = dict(left_out or {})


def rank_suppliers(query, limit=20, filters=None, candidate_keys=None, weights=None):
    """The best suppliers for `query` (a MatchQuery), best first, as a `Ranked` list.

    Searching the whole index lists only suppliers with evidence about the service and
    eligible to take part. `candidate_keys` (organisation ids) ranks exactly those
    organisations, whatever their evidence or eligibility (each match says), ties kept in the
    order given; otherwise ties go to the lower id.
    """
    if not isinstance(query, MatchQuery):
        query = MatchQuery.from_opportunity(query)
    weights = {**WEIGHTS, **(weights or {})}
    filters = filters or MatchFilters()
    hits = match_organisations(
        query.weighted_terms, candidates=max(CANDIDATES, limit or 0),
        only_ids=list(candidate_keys) if candidate_keys is not None else None,
        filters=filters.for_index(), boosts=candidate_boosts(query))
    best = max((hit.score for hit in hits), default=0.0)
    buyer_clue = buyer_informativeness(query, hits, candidate_keys is None)
    matches = [score_supplier(query, hit, best, weights, buyer_clue) for hit in hits]
    order = ({key: n for n, key in enumerate(candidate_keys)} if candidate_keys is not None
             else {})
    matches.sort(key=lambda m: (-m.score, order.get(m.organisation_id, m.organisation_id)))
    left_out = {}
    if candidate_keys is None:
        matches, left_out = eligibility.split([m for m in matches if m.evident], query,
                                              {hit.org_id: hit.features for hit in hits})
    return Ranked(matches[:limit] if limit else matches, left_out)


def score_supplier(query, hit, best_text, weights, buyer_clue=1.0):
    """Every signal for one candidate, their weighted sum, the reasons in order of weight, and
    whether anything in it is evidence about the service (see `is_evident`)."""
    found = _signals(query, hit, best_text, buyer_clue)
    coverage = query.evidence_scale.coverage(hit.matched)
    category = signals.category_evidence(query, hit.features)
    reasons = [found[name].reason for name in REASON_ORDER if found[name].reason
               and (found[name].score > 0 or name in ("tier", "area"))]
    scored = {name: round(sig.score, 4) for name, sig in found.items()}
    scored.update(evidence=round(coverage, 4), category=round(category, 4))
    score = sum(weights.get(name, 0.0) * sig.score for name, sig in found.items())
    return Match(hit.org_id, hit.features.get("name", ""), round(score, 6), scored, reasons,
                 is_evident(query, hit.matched, coverage, category, found))


def _signals(query, hit, best_text, buyer_clue):
    features, telling = hit.features, query.evidence_scale.telling(hit.matched)
    return {
        "text": signals.text(query, features, hit.score, best_text, hit.matched, telling),
        "area": signals.area(query, features),
        "buyer": signals.buyer_history(query, features, buyer_clue),
        "name": signals.name(query, features),
        "cpv": signals.cpv(query, features),
        "tier": signals.tier(query, features),
        "capacity": signals.capacity(query, features),
        "track": signals.track_record(query, features, telling),
    }


# A match needs telling words covering this share of what the entry says: two of them, or
# one from a supplier that works where the work is, has worked for this buyer or works in a
# related category. Or the entry's own specific category with a telling word in common, or the
# entry naming the supplier. Place, tier, history and a category alone are never enough (a
# profile's categories are often chosen broadly), nor is one word of a long notice.
MIN_WORDS = 2
MIN_COVERAGE = 0.2
RELATED_CATEGORY = 0.5
# An area match this weak (a region, or one of a national entry's many areas) connects nobody.
CONNECTING_AREA = 0.2


def is_evident(query, matched, coverage, category, found):
    """Whether the match rests on anything about the service itself."""
    telling = query.evidence_scale.telling(matched)
    known = found["area"].score >= CONNECTING_AREA or found["buyer"].score > 0 or \
        category >= RELATED_CATEGORY
    return (coverage >= MIN_COVERAGE and (len(telling) >= MIN_WORDS or known)) or \
        (category >= signals.SAME_CATEGORY and bool(telling)) or found["name"].score > 0


# Reasons read in the order a commissioner asks: what it does, done it before, where, accredited.
REASON_ORDER = ("cpv", "text", "track", "name", "area", "buyer", "tier", "capacity")


def buyer_informativeness(query, hits, whole_index):
    """A clue every supplier shares tells nothing: when most of the suppliers compared have
    worked for this buyer, having done so counts for little (like a common word's IDF)."""
    if not query.buyer_key:
        return 0.0
    if whole_index:
        share = funder_share(query.buyer_key)
    else:
        share = sum(1 for h in hits if query.buyer_key in (h.features.get("funders") or ()))
        share /= max(1, len(hits))
    if share <= 0:
        return 1.0
    return min(1.0, math.log(1 / share) / math.log(1 / COMMON_BUYER_SHARE))


def candidate_boosts(query):
    """Index terms that bring an organisation into the candidates whatever its words: having
    worked for the buyer, serving a place the entry names (a narrow one)."""
    boosts = []
    if query.buyer_key:
        boosts.append(("funders", query.buyer_key, BUYER_BOOST))
    for place in query.places:
        if place.breadth <= MAX_PLACE_BREADTH:
            boosts += [("areas", code, PLACE_BOOST) for code in sorted(place.codes)]
    return boosts
