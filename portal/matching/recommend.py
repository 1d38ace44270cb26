"""Recommendations: the suppliers ranked for each entry that takes interest, kept in a table.

Ranking opportunities for a supplier would mean ranking every live entry on each page view, so
the ranking runs the other way, once per entry, with the same code the matches page uses
(`rank_suppliers`), and a supplier's recommendations are the entries that list it. An entry's
matches are recomputed after the commit that publishes or changes it (in a session of their
own, so a failure never undoes the change), and by `flask matching refresh`. A commit touching
many entries at once (an import) only marks them stale, for the command to pick up.
"""
import logging
import time

from flask import current_app
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, selectinload

from portal.core.mixins import utcnow
from portal.matching.models import MatchRefresh, OpportunityMatch
from portal.matching.ranking import WEIGHTS, rank_suppliers

log = logging.getLogger(__name__)

# Entries a supplier can still act on: the ones that take expressions of interest.
RECOMMENDABLE_STATUSES = ("planned", "market_engagement", "open")
# How many suppliers are kept for each entry.
KEEP = 50
# More changed entries than this in one commit are left for `flask matching refresh`.
MAX_INLINE = 5
_PENDING_KEY = "matching_pending"
# Attributes of an entry that change who matches it; anything else (an interest, a question)
# leaves its matches as they are.
MATCHED_ATTRIBUTES = ("title", "description", "outcomes", "main_cpv_code", "value_min",
                      "value_max", "_status", "accreditation_tier", "reservation_area_code",
                      "organisation_id", "additional_cpv", "areas", "client_groups")


def best_possible_score():
    """The highest score the weights allow: every signal at full strength."""
    return sum(WEIGHTS.values())


# --- computing ------------------------------------------------------------------------------

def refresh_opportunity(session, opportunity, now=None):
    """Rank suppliers for one entry and store the best; returns how many were kept.

    Suppliers still listed keep the date they first appeared; those gone are removed. An entry
    that no longer takes interest keeps no matches.
    """
    now = now or utcnow()
    started = time.perf_counter()
    matches = []
    if opportunity.status in RECOMMENDABLE_STATUSES:
        matches = [m for m in rank_suppliers(opportunity, limit=KEEP)
                   if m.organisation_id != opportunity.organisation_id]
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
    state.duration_ms = round((time.perf_counter() - started) * 1000)
    session.add(state)
    return len(matches)


def _opportunities(session, ids=None, stale_only=False):
    from portal.pipeline.models import Opportunity

    query = select(Opportunity).options(
        selectinload(Opportunity.areas), selectinload(Opportunity.additional_cpv),
        selectinload(Opportunity.client_groups), selectinload(Opportunity.organisation))
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
    entries = _opportunities(session, stale_only=stale_only)
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


# --- keeping up with changes -----------------------------------------------------------------

def _changes_matching(obj):
    state = inspect(obj)
    if state.pending or state.deleted:
        return True
    return any(state.attrs[name].history.has_changes() for name in MATCHED_ATTRIBUTES)


def _after_flush(session, flush_context):
    from portal.pipeline.models import Lot, Opportunity

    pending = session.info.setdefault(_PENDING_KEY, set())
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Opportunity) and obj.id and _changes_matching(obj):
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
    _apply(app, pending)


def _apply(app, ids):
    """Recompute (or, for many, mark stale) in a session of its own, after the change."""
    from portal.extensions import db

    try:
        with Session(bind=db.engine) as session:
            entries = _opportunities(session, ids=ids)
            if len(entries) > MAX_INLINE:
                mark_stale(session, [e.id for e in entries])
            else:
                for opportunity in entries:
                    refresh_opportunity(session, opportunity)
            session.commit()
    except Exception:
        app.logger.exception("Could not refresh matches; `flask matching refresh` will")


def _after_soft_rollback(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)


def listen():
    """Follow changes to the forward plan (once per process)."""
    if getattr(listen, "_done", False):
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_soft_rollback)
    listen._done = True
