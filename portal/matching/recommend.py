"""Recommendations: the suppliers ranked for each entry that takes interest, kept in a table.

Ranking opportunities for a supplier would mean ranking every live entry on each page view, so
the ranking runs the other way, once per entry, with the same code the matches page uses
(`rank_suppliers`), and a supplier's recommendations are the entries that list it. How the
stored matches follow changes to entries and profiles is in portal.matching.following.
"""
import logging
import time
from dataclasses import fields
from functools import lru_cache

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from portal.core.mixins import utcnow
from portal.matching.models import MatchRefresh, OpportunityMatch
from portal.matching.query import MatchQuery
from portal.matching.ranking import buyer_informativeness, rank_suppliers
from portal.pipeline.models import Opportunity
from portal.search.services import match_organisations

log = logging.getLogger(__name__)

# Entries a supplier can still act on: the ones that take expressions of interest.
RECOMMENDABLE_STATUSES = ("planned", "market_engagement", "open")
# How many suppliers are kept for each entry.
KEEP = 50


# --- computing ------------------------------------------------------------------------------

@lru_cache(maxsize=1024)
def _query_from(values):
    return MatchQuery(*values)


def query_for(opportunity):
    """The entry as the matcher reads it. Finding places in the text is the slow part, so a
    query is kept per process and reused while the entry's matched fields stay the same."""
    query = MatchQuery.from_opportunity(opportunity)
    try:
        return _query_from(tuple(getattr(query, f.name) for f in fields(query)))
    except TypeError:  # a field that cannot be a key: read afresh each time
        return query


def refresh_opportunity(session, opportunity, now=None):
    """Rank suppliers for one entry and store the best; returns how many were kept.

    Suppliers still listed keep the date they first appeared; those gone are removed. An entry
    that no longer takes interest keeps no matches. The scale of the scores is kept with them.
    """
    now = now or utcnow()
    started = time.perf_counter()
    query, ranked = query_for(opportunity), []
    if opportunity.status in RECOMMENDABLE_STATUSES:
        ranked = rank_suppliers(query, limit=None)
    matches = [m for m in ranked if m.organisation_id != opportunity.organisation_id][:KEEP]
    existing = {row.organisation_id: row for row in session.scalars(
        select(OpportunityMatch).where(OpportunityMatch.opportunity_id == opportunity.id))}
    for rank, match in enumerate(matches, start=1):
        row = existing.pop(match.organisation_id, None) or OpportunityMatch(
            opportunity_id=opportunity.id, organisation_id=match.organisation_id,
            first_matched_at=now)
        row.rank, row.score, row.signals = rank, match.score, match.signals
        row.reasons, row.computed_at = list(match.reasons), now
        session.add(row)
    for row in existing.values():
        session.delete(row)
    state = session.get(MatchRefresh, opportunity.id) or MatchRefresh(
        opportunity_id=opportunity.id)
    state.computed_at, state.stale, state.kept = now, False, len(matches)
    state.text_best, state.text_leader_id = _text_scale(query, ranked)
    state.candidates = len(ranked)
    state.buyer_clue = buyer_informativeness(query, (), True) if ranked else None
    state.duration_ms = round((time.perf_counter() - started) * 1000)
    session.add(state)
    return len(matches)


def _text_scale(query, ranked):
    """The best text score among the candidates, which each text score is a share of, and who
    holds it. The matches keep only the shares, so the top one or two are read back."""
    if not ranked:
        return None, None
    top = max(m.signals.get("text", 0.0) for m in ranked)
    if top <= 0:
        return 0.0, None
    leaders = [m.organisation_id for m in ranked if m.signals.get("text", 0.0) >= top - 1e-4]
    hits = match_organisations(query.weighted_terms, only_ids=leaders)
    if not hits:
        return None, None  # gone from the index meanwhile: the next refresh sets the scale
    best = max(hits, key=lambda hit: (hit.score, -hit.org_id))
    return best.score, best.org_id


def load_entries(session, ids=None, stale_only=False):
    query = select(Opportunity).options(
        selectinload(Opportunity.areas), selectinload(Opportunity.additional_cpv),
        selectinload(Opportunity.client_groups), selectinload(Opportunity.organisation),
        selectinload(Opportunity.main_cpv))
    if ids is not None:
        query = query.where(Opportunity.id.in_(sorted(ids)))
    else:
        # Entries that no longer take interest may still hold rows from before: clear them too.
        held = select(OpportunityMatch.opportunity_id)
        query = query.where(Opportunity.status.in_(RECOMMENDABLE_STATUSES)
                            | Opportunity.id.in_(held))
    if stale_only:
        fresh = select(MatchRefresh.opportunity_id).where(MatchRefresh.stale.is_(False))
        query = query.where(Opportunity.id.not_in(fresh))
    return session.scalars(query.order_by(Opportunity.id)).all()


def refresh_all(session, stale_only=False, progress=None, batch=20):
    """Recompute the matches of every entry that takes interest (or only of those waiting).

    Commits every `batch` entries so a long run can be interrupted and resumed with
    `stale_only`. Returns (entries, rows kept, seconds spent ranking).
    """
    entries = load_entries(session, stale_only=stale_only)
    kept, ranking_seconds = 0, 0.0
    for done, opportunity in enumerate(entries, start=1):
        started = time.perf_counter()
        kept += refresh_opportunity(session, opportunity)
        ranking_seconds += time.perf_counter() - started
        if done % batch == 0 or done == len(entries):
            session.commit()
            if progress:
                progress(done, len(entries))
    return len(entries), kept, ranking_seconds


def mark_stale(session, ids):
    for opportunity_id in ids:
        state = session.get(MatchRefresh, opportunity_id) or MatchRefresh(
            opportunity_id=opportunity_id)
        state.stale = True
        session.add(state)


def mark_listing_stale(session, organisation_ids):
    """Mark stale every entry that lists one of these suppliers; returns how many."""
    ids, marked = sorted(organisation_ids), 0
    for start in range(0, len(ids), 500):
        listing = select(OpportunityMatch.opportunity_id).where(
            OpportunityMatch.organisation_id.in_(ids[start:start + 500]))
        marked += session.execute(
            update(MatchRefresh).where(MatchRefresh.opportunity_id.in_(listing),
                                       MatchRefresh.stale.is_(False))
            .values(stale=True), execution_options={"synchronize_session": False}).rowcount
    return marked
