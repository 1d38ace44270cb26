"""Stored matches follow changes to the forward plan and to supplier profiles.

The change dispatcher (portal.core.changes) shows this module every changed row; it picks out
entries whose matched fields changed and suppliers whose matchable profile did. After the
commit, in a session of its own, it records what is now out of date (an entry's refresh record
marked stale, a `SupplierRefresh` row per supplier) and hands the work to the refresher:

- in a web request the refresher is a thread of the worker (`MATCHING_REFRESH = "background"`),
  so the response does not wait for ranking; the pages say "updating" until it is done;
- from a command, or with `MATCHING_REFRESH = "inline"`, the work is done at once.

A commit touching many entries or profiles at once (an import, a demo load) only records them:
`flask matching refresh --stale` does the rest. The same command catches up with anything a
worker did not finish, since the records are in the database.
"""
import logging
import queue
import threading

from flask import has_request_context
from sqlalchemy import delete, inspect, select
from sqlalchemy.orm import Session

from portal.accreditation.models import AccreditationRecord
from portal.core.changes import Subscriber
from portal.core.mixins import utcnow
from portal.extensions import db
from portal.matching import recommend, rescore
from portal.matching.indexing import PROFILE_PARTS
from portal.matching.models import SupplierRefresh
from portal.organisations.models import Organisation
from portal.pipeline.models import Lot, Opportunity

log = logging.getLogger(__name__)

# More changed entries than this in one commit are left for `flask matching refresh`.
MAX_INLINE = 5
# More changed profiles than this in one commit (a demo load, an import) likewise.
MAX_INLINE_PROFILES = 5
# Attributes of an entry that change who matches it; anything else (an interest, a question)
# leaves its matches as they are.
MATCHED_ATTRIBUTES = ("title", "description", "outcomes", "main_cpv_code", "value_min",
                      "value_max", "_status", "accreditation_tier", "reservation_area_code",
                      "organisation_id", "additional_cpv", "areas", "client_groups")
# What the matcher reads from an organisation (see portal.matching.features); a change to
# anything else (a contact, a website) leaves its recommendations as they are.
PROFILE_ATTRIBUTES = ("name", "other_names", "org_type", "status", "postcode", "description",
                      "latest_income", "cpv_codes", "areas", "terms", "past_work")
# An accreditation counts through its level and whether it is current; a reminder does not.
RECORD_ATTRIBUTES = ("status", "level_id", "expires_on", "organisation_id")


def subscriber():
    return Subscriber("stored matches", changed_keys, follow)


# --- what changed ------------------------------------------------------------------------------

def changed_keys(obj):
    """("entry", id) or ("supplier", id) for a row whose change alters stored matches."""
    if isinstance(obj, Opportunity):
        changed = obj.id and not _gone(obj) and _changed(obj, MATCHED_ATTRIBUTES)
        return [("entry", obj.id)] if changed else []
    if isinstance(obj, Lot):
        return [("entry", obj.opportunity_id)] if obj.opportunity_id and not _gone(obj) else []
    supplier = _profile_changed(obj)
    return [("supplier", supplier)] if supplier else []


def _gone(obj):
    state = inspect(obj)
    return state.deleted or state.was_deleted


def _profile_changed(obj):
    if isinstance(obj, Organisation):
        return obj.id if _changed(obj, PROFILE_ATTRIBUTES) else None
    if not isinstance(obj, PROFILE_PARTS):
        return None
    names = RECORD_ATTRIBUTES if isinstance(obj, AccreditationRecord) else None
    return obj.organisation_id if _changed(obj, names) else None


def _changed(obj, names):
    state = inspect(obj)
    if state.pending or _gone(obj) or names is None:
        return True
    return any(state.attrs[name].history.has_changes() for name in names)


# --- recording it, then doing the work ---------------------------------------------------------

def follow(app, keys):
    """Record what the commit put out of date, then refresh it (now or in the background)."""
    entries = {key for kind, key in keys if kind == "entry"}
    suppliers = {key for kind, key in keys if kind == "supplier"}
    with Session(bind=db.engine) as session:
        entries, suppliers = _record(app, session, entries, suppliers)
        session.commit()
    if entries or suppliers:
        refresher(app).submit(entries, suppliers)


def _record(app, session, entries, suppliers):
    """Mark everything out of date; returns the (entries, suppliers) to refresh at once."""
    entries = session.scalars(select(Opportunity.id).where(Opportunity.id.in_(sorted(entries)))
                              .order_by(Opportunity.id)).all() if entries else []
    recommend.mark_stale(session, entries)
    if len(suppliers) > MAX_INLINE_PROFILES:
        marked = recommend.mark_listing_stale(session, suppliers)
        app.logger.info("%s profiles changed at once: %s entries left for `flask matching "
                        "refresh`", len(suppliers), marked)
        suppliers = set()
    for organisation_id in suppliers:
        session.merge(SupplierRefresh(organisation_id=organisation_id, requested_at=utcnow()))
    return (entries if len(entries) <= MAX_INLINE else []), sorted(suppliers)


def refresh_entries(session, ids):
    """Rank suppliers again for these entries (those still waiting); returns how many."""
    entries = recommend.load_entries(session, ids=ids, stale_only=True)
    for opportunity in entries:
        recommend.refresh_opportunity(session, opportunity)
    return len(entries)


def refresh_suppliers(session, organisation_ids=None):
    """Score these suppliers again (every waiting one when None), each committed on its own
    and its waiting record removed; returns how many."""
    waiting = select(SupplierRefresh.organisation_id).order_by(SupplierRefresh.organisation_id)
    if organisation_ids is not None:
        waiting = waiting.where(SupplierRefresh.organisation_id.in_(organisation_ids))
    done = 0
    for organisation_id in session.scalars(waiting).all():
        result = rescore.rescore_supplier(session, organisation_id)
        session.execute(delete(SupplierRefresh).where(
            SupplierRefresh.organisation_id == organisation_id))
        session.commit()
        log.info("Stored matches follow the profile of organisation %s: %s entries in %s ms",
                 organisation_id, result.entries, result.milliseconds)
        done += 1
    return done


def is_updating(session, organisation_id):
    """Whether a supplier's stored matches are still waiting to follow its profile."""
    return session.get(SupplierRefresh, organisation_id) is not None


# --- the refresher -----------------------------------------------------------------------------

def refresher(app):
    found = app.extensions.get("matching_refresher")
    if found is None:
        found = app.extensions["matching_refresher"] = Refresher(app)
    return found


class Refresher:
    """Refreshes entries and suppliers in its own session: at once, or, for a web request in
    "background" mode, in one daemon thread per process working through a queue."""

    def __init__(self, app):
        self.app = app
        self.jobs = queue.Queue()
        self.thread = None
        self.lock = threading.Lock()

    def submit(self, entries, suppliers):
        if has_request_context() and self.app.config.get("MATCHING_REFRESH") == "background":
            self.jobs.put((list(entries), list(suppliers)))
            self._start()
        else:
            self.run(entries, suppliers)

    def run(self, entries, suppliers):
        """Do one job; a failure is logged and left recorded for the command."""
        try:
            with Session(bind=db.engine) as session:
                refresh_entries(session, entries)
                session.commit()
                refresh_suppliers(session, suppliers)
        except Exception:
            self.app.logger.exception("Could not refresh stored matches; `flask matching "
                                      "refresh --stale` will")

    def wait(self):
        """Until every job submitted so far is done (for tests and shutdown)."""
        self.jobs.join()

    def _start(self):
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._work, name="matching-refresher",
                                               daemon=True)
                self.thread.start()

    def _work(self):
        while True:
            entries, suppliers = self.jobs.get()
            try:
                with self.app.app_context():
                    self.run(entries, suppliers)
            finally:
                self.jobs.task_done()
