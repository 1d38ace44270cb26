"""A forward-plan entry asked one page at a time.

The first page makes the draft at once and every later page saves on it, so someone who stops
halfway keeps what they typed and finds it again on their plan. Creating and changing the
entry go through the plan's own services, which check every rule, commit once and record the
audit event.
"""
from portal.core.exceptions import DomainError
from portal.extensions import db
from portal.pipeline import services
from portal.reference import services as reference
from portal.reference.models import CpvCode

PICKER_LIMIT = 10


def start_entry(org, data, actor):
    """Make the draft from the first page's answers (the title at least)."""
    return services.create_opportunity(org, data, actor)


def save_entry_page(opportunity, data, actor):
    """Save one page's answers on the entry; returns the names of the fields that changed."""
    return services.update_opportunity(opportunity, data, actor)


def editable_entry(opportunity_id, user):
    """One of the user's own entries whose details may still change; another organisation's
    is missing, and a finished one says why it cannot be changed."""
    opportunity = services.get_own_opportunity(opportunity_id, user)
    if opportunity.status not in services.EDITABLE_STATUSES:
        raise DomainError(f"This entry is {opportunity.status_label.lower()}, so its details "
                          "can no longer be changed")
    return opportunity


def category_choices(q=None, chosen=None, limit=PICKER_LIMIT):
    """What the main-category picker offers: the category already chosen, if it is a known
    code, then the closest matches for the search words. Returns (chosen, matches), each a
    `CpvMatch`; a code that is not a CPV code is left for the services to refuse."""
    current = _known(chosen)
    # A search is not saved, so it skips the form's text checks: keep it short and printable.
    words = "".join(ch for ch in (q or "")[:200] if ch.isprintable())
    found = reference.search_cpv(words, limit=limit + 1)
    return current, [m for m in found if m.code != (current and current.code)][:limit]


def _known(code):
    code = (code or "").strip()
    cpv = db.session.get(CpvCode, code) if code.isdigit() and len(code) == 8 else None
    return reference.CpvMatch(cpv) if cpv is not None else None
