"""Recommendations: the suppliers ranked for each entry that takes interest, kept in a table.

Ranking opportunities for a supplier would mean ranking every live entry on each page view, so
the ranking runs the other way, once per entry, with the same code the matches page uses
(`rank_suppliers`), and a supplier's recommendations are the entries that list it. An entry's
matches are recomputed after the commit that publishes or changes it (in a session of their
own, so a failure never undoes the change), and by `flask matching refresh`. A commit touching
many entries at once (an import) only marks them stale, for the command to pick up.

A supplier's profile changes the other way round: after the commit that one supplier is scored
again (see portal.matching.rescore). A commit touching many profiles at once marks stale the
entries that list them; suppliers they should newly appear for wait for the full refresh.
"""
import logging
import time
from dataclasses import fields
from functools import lru_cache

from flask import current_app
from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session, selectinload

from portal.core.mixins import utcnow
from portal.matching.models import MatchRefresh, OpportunityMatch
from portal.matching.query import MatchQuery
from portal.matching.ranking import WEIGHTS, buyer_informativeness, rank_suppliers
from portal.search.services import match_organisations

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

# More changed profiles than this in one commit (a demo load, an import) are left for
# `flask matching refresh`.
MAX_INLINE_PROFILES = 5
_PROFILES_KEY = "matching_pending_profiles"
_PROFILES_READY_KEY = "matching_profiles_committed"
# What the matcher reads from an organisation (see portal.matching.features); a change to
# anything else (a contact, a website) leaves its recommendations as they are.
PROFILE_ATTRIBUTES = ("name", "other_names", "org_type", "status", "postcode", "description",
                      "latest_income", "cpv_codes", "areas", "terms", "past_work")
# An accreditation counts through its level and whether it is current; a reminder does not.
RECORD_ATTRIBUTES = ("status", "level_id", "expires_on", "organisation_id")
def best_possible_score():
    """The highest score the weights allow: every signal at full strength."""
    return sum(WEIGHTS.values())


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
    from portal.pipeline.models import Opportunity

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


# --- keeping up with changes -----------------------------------------------------------------

def _changes_matching(obj):
    state = inspect(obj)
    if state.pending or state.deleted:
        return True
    return any(state.attrs[name].history.has_changes() for name in MATCHED_ATTRIBUTES)


def _profile_changed(obj):
    """The organisation whose matchable profile `obj` changes, or None."""
    from portal.organisations.models import Organisation
    from portal.search.index import CHILD_MODELS

    cls = type(obj)
    if isinstance(obj, Organisation):
        return obj.id if _changed(obj, PROFILE_ATTRIBUTES) else None
    if (cls.__module__, cls.__name__) not in CHILD_MODELS:
        return None
    names = RECORD_ATTRIBUTES if cls.__name__ == "AccreditationRecord" else None
    return getattr(obj, "organisation_id", None) if _changed(obj, names) else None


def _changed(obj, names):
    state = inspect(obj)
    if state.pending or state.deleted or state.was_deleted or names is None:
        return True
    return any(state.attrs[name].history.has_changes() for name in names)


def _after_flush(session, flush_context):
    from portal.pipeline.models import Lot, Opportunity

    pending = session.info.setdefault(_PENDING_KEY, set())
    profiles = session.info.setdefault(_PROFILES_KEY, set())
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Opportunity):
            if obj.id and obj not in session.deleted and _changes_matching(obj):
                pending.add(obj.id)
        elif isinstance(obj, Lot):
            if obj.opportunity_id and obj not in session.deleted:
                pending.add(obj.opportunity_id)
        else:
            organisation_id = _profile_changed(obj)
            if organisation_id:
                profiles.add(organisation_id)


def _after_commit(session):
    if session.in_nested_transaction():
        return  # a savepoint: the outer transaction is not committed yet
    profiles = session.info.pop(_PROFILES_KEY, None)
    if profiles:
        # Scored once the transaction has ended, when the search index (written by its own
        # after-commit listener) holds the new profiles, whatever order listeners run in.
        session.info.setdefault(_PROFILES_READY_KEY, set()).update(profiles)
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
            entries = load_entries(session, ids=ids)
            if len(entries) > MAX_INLINE:
                mark_stale(session, [e.id for e in entries])
            else:
                for opportunity in entries:
                    refresh_opportunity(session, opportunity)
            session.commit()
    except Exception:
        app.logger.exception("Could not refresh matches; `flask matching refresh` will")


def _after_transaction_end(session, transaction):
    if transaction.parent is not None or _PROFILES_READY_KEY not in session.info:
        return
    profiles = session.info.pop(_PROFILES_READY_KEY)
    try:
        app = current_app._get_current_object()
    except RuntimeError:
        return
    follow_profiles(app, profiles)


def follow_profiles(app, organisation_ids):
    """Score changed suppliers again (or, for many, mark stale the entries listing them) in a
    session of their own; a failure is logged and leaves the profile change in place."""
    from portal.extensions import db

    try:
        with Session(bind=db.engine) as session:
            _follow_in(app, session, set(organisation_ids))
            session.commit()
    except Exception:
        app.logger.exception("Could not follow profile changes in the stored matches; "
                             "`flask matching refresh` will")


def _follow_in(app, session, organisation_ids):
    if len(organisation_ids) > MAX_INLINE_PROFILES:
        marked = mark_listing_stale(session, organisation_ids)
        app.logger.info("%s profiles changed at once: %s entries left for `flask matching "
                        "refresh`", len(organisation_ids), marked)
        return
    from portal.matching import rescore

    for organisation_id in sorted(organisation_ids):
        done = rescore.rescore_supplier(session, organisation_id)
        app.logger.info("Stored matches follow the profile of organisation %s: %s entries "
                        "in %s ms", organisation_id, done.entries, done.milliseconds)


def _after_soft_rollback(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)
        session.info.pop(_PROFILES_KEY, None)


def listen():
    """Follow changes to the forward plan and to supplier profiles (once per process)."""
    if getattr(listen, "_done", False):
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_transaction_end", _after_transaction_end)
    event.listen(Session, "after_soft_rollback", _after_soft_rollback)
    listen._done = True
