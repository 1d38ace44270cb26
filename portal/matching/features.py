"""What the matcher knows about a supplier, worked out once when its profile is indexed.

The features are stored with the organisation's search document, so ranking reads them from
the index in one pass and never goes back to the database for each candidate. Everything is
plain JSON-able data so the same functions serve both directions of matching (suppliers for an
opportunity, opportunities for a supplier).
"""
import logging
import re
import statistics
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

from sqlalchemy.orm import object_session

from portal.reference.places import find_places, home_authority

log = logging.getLogger(__name__)

# Words left out when reading an organisation's initials ("Age UK Oxfordshire" -> "AUO").
NAME_SMALL_WORDS = {"and", "of", "the", "for", "in", "on", "at", "to", "by", "a", "an", "&"}
LEGAL_SUFFIXES = re.compile(r"\b(ltd|limited|cio|cic|plc|llp|incorporated|inc)\b\.?", re.I)
FUNDER_NOISE = re.compile(r"\b(the|ltd|limited|plc|trust|charitable|charity|foundation)\b")
MAX_PAST_ITEMS = 25
MAX_PAST_WORDS = 80
# (organisation ids, {id: level}) while `preloaded()` is active.
_PRELOADED = ContextVar("preloaded_accreditation_levels", default=None)


def normalise_funder(name):
    """A key that survives the usual variations in how a funder or buyer is written.

    "The Tudor Trust" and "Tudor Trust" give the same key; so do "Lloyds Bank Foundation" and
    "LLOYDS BANK FOUNDATION".
    """
    value = re.sub(r"[^a-z0-9 ]+", " ", (name or "").lower().replace("&", " and "))
    stripped = FUNDER_NOISE.sub(" ", value)
    words = (stripped if stripped.strip() else value).split()
    return "-".join(words)


def initialisms(name):
    """Acronyms an organisation may be known by: initials with and without the small words.

    "Migrant and Refugee Communities Forum" gives {"MRCF", "MARCF"}. Names of one word, or
    with fewer than three initials, give none: two letters match far too much.
    """
    name = LEGAL_SUFFIXES.sub(" ", name or "")
    words = re.findall(r"[A-Za-z][A-Za-z']*", name)
    result = set()
    for keep_small in (False, True):
        letters = "".join(w[0] for w in words if keep_small or w.lower() not in NAME_SMALL_WORDS)
        if len(letters) >= 3:
            result.add(letters.upper())
    # A name that already is an acronym ("MIND", "YMCA Derbyshire") carries it as a word.
    result |= {w for w in words if len(w) >= 3 and w.isupper()}
    return sorted(result)


@contextmanager
def preloaded(orgs):
    """Within this block, read the accreditation levels of `orgs` from one batch lookup rather
    than one query per organisation (used when many profiles are indexed at once)."""
    levels = None
    try:
        from portal.accreditation.services import current_standings

        ids = [org.id for org in orgs]
        session = object_session(orgs[0]) if orgs else None
        levels = (frozenset(ids), current_standings(ids, session=session))
    except Exception:  # the lookup per organisation still works
        log.exception("Could not read accreditation levels in a batch")
    token = _PRELOADED.set(levels)
    try:
        yield
    finally:
        _PRELOADED.reset(token)


def accreditation_tier(org):
    """The organisation's current readiness tier (1 to 3), its contract ceiling, the date its
    accreditation runs to (ISO) and the level's name, each None when not accredited.

    Accreditation is its own domain; when it is not installed or cannot answer, the supplier
    is simply treated as not accredited.
    """
    batch = _PRELOADED.get()
    if batch is not None and org.id in batch[0]:
        return _tier_of(batch[1].get(org.id))
    try:
        from portal.accreditation.services import current_standing
    except ImportError:
        return None, None, None, None
    try:
        record = current_standing(org)
    except Exception:  # a fault there must not stop a profile being indexed
        log.exception("Could not read the accreditation level of organisation %s", org.id)
        return None, None, None, None
    return _tier_of(record)


def _tier_of(record):
    if record is None:
        return None, None, None, None
    level, until = record.level, record.expires_on
    return (getattr(level, "tier", None), getattr(level, "max_contract_value", None),
            until.isoformat() if until else None, getattr(level, "name", None))


def held_tier(supplier, today=None):
    """(tier, ceiling) of a supplier's features as they stand today: an accreditation past the
    date it ran to no longer counts, even before its lapse has been recorded (`flask
    accreditation expire`) and the profile indexed again."""
    until = supplier.get("tier_until")
    if until and until < (today or date.today()).isoformat():
        return None, None
    return supplier.get("tier"), supplier.get("ceiling")


def profile_places(org):
    """Places the organisation's description and track record name."""
    track_text = " ".join(f"{w.title}. {w.description or ''}" for w in org.past_work)
    return find_places(f"{org.description or ''} {track_text}")


def supplier_features(org, analyse, places=None):
    """The matcher's view of an organisation. `analyse` turns text into index terms; `places`
    are those its profile names (`profile_places`), when already found."""
    tier, ceiling, until, level = accreditation_tier(org)
    names = [org.name] + [n.strip() for n in re.split(r"\|\||;|\n", org.other_names or "")
                          if n.strip()]
    places = profile_places(org) if places is None else places
    amounts = [w.amount for w in org.past_work if w.amount]
    return {
        "name": org.name,
        "acronyms": sorted({a for n in names for a in initialisms(n)}),
        "org_type": org.org_type,
        "home": home_authority(org.postcode),
        "served": sorted(a.code for a in org.areas),
        "mentioned": sorted({c for p in places if p.breadth <= 3 for c in p.codes}),
        "funders": sorted({normalise_funder(w.funder_name) for w in org.past_work
                           if w.funder_name}),
        "past": [_past_item(w, analyse) for w in org.past_work[:MAX_PAST_ITEMS]],
        "past_count": len(org.past_work),
        "typical_award": int(statistics.median(amounts)) if amounts else None,
        "income": org.latest_income,
        "tier": tier,
        "ceiling": ceiling,
        "tier_until": until,
        "level": level,
        "cpv": [c.code for c in org.cpv_codes],
    }


def _past_item(work, analyse):
    words = analyse(f"{work.title} {work.description or ''}")
    return {
        "title": work.title[:120],
        "kind": work.kind,
        "funder": normalise_funder(work.funder_name) if work.funder_name else None,
        "terms": list(dict.fromkeys(words))[:MAX_PAST_WORDS],
    }
