"""The National Procurement Strategy self-assessment: the framework of key areas, sub-areas and
five maturity levels (seed/insight/procurement_maturity.yaml), a buyer's ratings of itself
against it, and suggestions drawn from the buyer's own forward plan and awards, each pointing
at the sub-area it bears on.

Ratings are never changed: each save appends one, so the latest per sub-area is the buyer's
profile and the earlier ones are its history."""
import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from urllib.parse import urlsplit

import yaml
from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import joinedload

from portal.core import audit
from portal.core.exceptions import DomainError, NotFound
from portal.extensions import db
from portal.insight.months import add_months
from portal.insight.models import MATURITY_LEVELS, MaturityRating
from portal.pipeline.models import (
    LIVE_STATUSES, Award, AwardWinner, Lot, Opportunity, SocialValuePriority, uk_now,
)
from portal.pipeline.services import is_commissioner
from portal.reference.loaders import SEED_DIR

FRAMEWORK_PATH = SEED_DIR / "insight" / "procurement_maturity.yaml"
LEVEL_KEYS = ("minimum", "developing", "mature", "leader", "innovator")
KEY_RE = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*$")
MAX_KEY = 60  # maturity_rating.sub_area
MAX_NOTES = 5000
MAX_EVIDENCE_URL = 500
EVIDENCE_URL_ERROR = "Enter a web address for the evidence, like https://www.example.org/report"
FIRST_AREA = "vcse"  # where an organisation that has rated nothing is asked to start
HISTORY_PER_PAGE = 20
ENTRIES_PER_PAGE = 25


# --- The framework ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Level:
    rank: int
    name: str
    meaning: str


@dataclass(frozen=True)
class SubArea:
    key: str
    name: str
    area_key: str
    descriptors: tuple  # one per level, Minimum first

    def levels(self, scale):
        """(Level, what it looks like here) for each of the five levels."""
        return list(zip(scale, self.descriptors))


@dataclass(frozen=True)
class KeyArea:
    key: str
    name: str
    summary: str
    theme: str
    sub_areas: tuple


@dataclass(frozen=True)
class Framework:
    levels: tuple
    key_areas: tuple
    sub_areas: dict  # key -> SubArea, in framework order

    def sub_area(self, key):
        """The sub-area with this key; an unknown key names nothing."""
        found = self.sub_areas.get(key)
        if found is None:
            raise NotFound("Page not found")
        return found

    def area(self, key):
        return next(a for a in self.key_areas if a.key == key)

    @property
    def first_sub_area(self):
        areas = [a for a in self.key_areas if a.key == FIRST_AREA] or list(self.key_areas)
        return areas[0].sub_areas[0]


class FrameworkError(ValueError):
    """The framework file does not have the shape the pages rely on."""


def _text(item, name, where):
    value = " ".join(str(item.get(name) or "").split())
    if not value:
        raise FrameworkError(f"{where}: no {name}")
    return value


def _scale(document):
    levels = tuple(Level(item.get("rank"), _text(item, "name", "level"),
                         _text(item, "meaning", "level")) for item in document.get("levels") or ())
    if {level.rank: level.name for level in levels} != MATURITY_LEVELS:
        raise FrameworkError(f"levels must be exactly {MATURITY_LEVELS}")
    return tuple(sorted(levels, key=lambda level: level.rank))


def _sub_area(item, area_key):
    key = _text(item, "key", f"a sub-area of {area_key}")
    if not KEY_RE.match(key) or len(key) > MAX_KEY or not key.startswith(area_key + "."):
        raise FrameworkError(f"{key}: a key is '{area_key}.<name>', {MAX_KEY} characters at most")
    levels = item.get("levels") or {}
    if set(levels) != set(LEVEL_KEYS):
        raise FrameworkError(f"{key}: describe exactly the levels {', '.join(LEVEL_KEYS)}")
    return SubArea(key, _text(item, "name", key), area_key,
                   tuple(_text(levels, name, key) for name in LEVEL_KEYS))


def _key_area(item, theme):
    key = _text(item, "key", theme)
    subs = tuple(_sub_area(sub, key) for sub in item.get("sub_areas") or ())
    if not subs:
        raise FrameworkError(f"{key}: no sub-areas")
    return KeyArea(key, _text(item, "name", key), _text(item, "summary", key), theme, subs)


def read_framework(path=FRAMEWORK_PATH):
    """The framework in `path`, checked: five named levels, unique keys, five descriptors each."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    areas = tuple(_key_area(area, _text(theme, "name", "a theme"))
                  for theme in document.get("themes") or ()
                  for area in theme.get("key_areas") or ())
    subs = [sub for area in areas for sub in area.sub_areas]
    for kind, keys in (("key area", [a.key for a in areas]), ("sub-area", [s.key for s in subs])):
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise FrameworkError(f"{kind} keys used twice: {', '.join(repeated)}")
    return Framework(_scale(document), areas, {sub.key: sub for sub in subs})


@lru_cache(maxsize=1)
def framework():
    """The framework the pages use, read once per process."""
    return read_framework()


# --- Ratings ------------------------------------------------------------------------------------

def normalise_evidence_url(value):
    """A web address starting http:// or https:// (https:// is added when missing), or None;
    raises DomainError on anything a browser could not follow."""
    value = (value or "").strip()
    if not value:
        return None
    if "://" not in value:
        value = "https://" + value
    if len(value) > MAX_EVIDENCE_URL:
        raise DomainError(f"The link must be {MAX_EVIDENCE_URL} characters or fewer",
                          field="evidence_url")
    if not _is_web_address(value):
        raise DomainError(EVIDENCE_URL_ERROR, field="evidence_url")
    return value


def _is_web_address(value):
    if any(char.isspace() or not char.isprintable() for char in value):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and "." in host.strip(".") and ".." not in host


def _notes(value):
    value = (value or "").strip()
    if len(value) > MAX_NOTES:
        raise DomainError(f"Notes must be {MAX_NOTES:,} characters or fewer", field="notes")
    return value or None


def _check_member(org, user):
    # The view has already resolved the buyer; this keeps the rule with the use case.
    if not is_commissioner(user) or user.organisation_id != org.id:
        raise NotFound("Page not found")


def record_rating(org, user, sub_area, current_level, target_level, notes=None,
                  evidence_url=None):
    """Append `org`'s rating of one sub-area: where it is now and where it aims to be. Earlier
    ratings stay as the sub-area's history. Raises DomainError naming the field at fault."""
    found = framework().sub_area(sub_area)
    _check_member(org, user)
    rating = MaturityRating(organisation_id=org.id, sub_area=found.key,
                            recorded_by_id=user.id)
    rating.set_levels(current_level, target_level)
    rating.notes = _notes(notes)
    rating.evidence_url = normalise_evidence_url(evidence_url)
    db.session.add(rating)
    db.session.flush()
    audit.record("maturity.rated", rating, sub_area=found.key,
                 current_level=rating.current_level, target_level=rating.target_level)
    db.session.commit()
    return rating


def _own(org):
    return MaturityRating.organisation_id == org.id


def current_profile(org):
    """{sub-area key: its latest MaturityRating} for each sub-area `org` has rated."""
    ranked = select(MaturityRating.id, func.row_number().over(
        partition_by=MaturityRating.sub_area,
        order_by=(MaturityRating.recorded_at.desc(), MaturityRating.id.desc())).label("n")
    ).where(_own(org)).subquery()
    latest = db.session.scalars(
        select(MaturityRating).join(ranked, ranked.c.id == MaturityRating.id)
        .where(ranked.c.n == 1)).all()
    known = framework().sub_areas
    return {rating.sub_area: rating for rating in latest if rating.sub_area in known}


def latest_rating(org, sub_area):
    """(SubArea, the latest rating of it or None): what the rating page shows."""
    found = framework().sub_area(sub_area)
    return found, db.session.scalar(
        select(MaturityRating).where(_own(org), MaturityRating.sub_area == found.key)
        .order_by(MaturityRating.recorded_at.desc(), MaturityRating.id.desc()).limit(1))


def history(org, sub_area, page=1, per_page=HISTORY_PER_PAGE):
    """Every rating `org` has given one sub-area, newest first, a page at a time."""
    found = framework().sub_area(sub_area)
    stmt = (select(MaturityRating).options(joinedload(MaturityRating.recorded_by))
            .where(_own(org), MaturityRating.sub_area == found.key)
            .order_by(MaturityRating.recorded_at.desc(), MaturityRating.id.desc()))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


# --- Summaries ----------------------------------------------------------------------------------

@dataclass
class AreaSummary:
    area: KeyArea
    ratings: list  # (SubArea, latest rating or None), in framework order

    @property
    def rated(self):
        return [rating for _sub, rating in self.ratings if rating is not None]

    def _average(self, name):
        values = [getattr(rating, name) for rating in self.rated]
        return round(sum(values) / len(values), 1) if values else None

    @property
    def current(self):
        return self._average("current_level")

    @property
    def target(self):
        return self._average("target_level")


def area_summary(org, profile=None):
    """For each key area: its sub-areas with their latest ratings, and the average current and
    target level over the sub-areas rated (None when none is)."""
    profile = current_profile(org) if profile is None else profile
    return [AreaSummary(area, [(sub, profile.get(sub.key)) for sub in area.sub_areas])
            for area in framework().key_areas]


@dataclass
class Overview:
    areas: list        # AreaSummary per key area
    suggestions: list  # Suggestion

    @property
    def rated(self):
        return any(summary.rated for summary in self.areas)

    @property
    def last_rated(self):
        dates = [rating.recorded_at for summary in self.areas for rating in summary.rated]
        return max(dates) if dates else None


def overview(org, today=None):
    """Everything the self-assessment overview shows: the profile by key area and the
    suggestions from the buyer's own data."""
    profile = current_profile(org)
    return Overview(area_summary(org, profile), suggestions(org, today, profile))


# --- Suggestions from the buyer's own data ------------------------------------------------------

NOTICE_MONTHS = 3
LOTS_FROM_VALUE = 1_000_000
LOOK_BACK_DAYS = 365


@dataclass(frozen=True)
class Rule:
    """One suggestion: the entries it looks at (`scope`), those among them that raise it
    (`concern`), and how to say it. Both are SQL conditions on Opportunity."""
    key: str
    sub_area: str
    scope: object     # (org, today) -> list of conditions
    concern: object   # (scope conditions) -> condition
    sentence: object  # (count, total) -> str, or None when there is nothing to say
    why: str
    dates: str = "plan"  # which dates the entries' list shows: "plan" or "award"


@dataclass
class Suggestion:
    key: str
    sub_area: SubArea
    area: KeyArea
    text: str
    why: str
    count: int
    total: int
    dates: str = "plan"
    rating: object = field(default=None)


def _live(org, today):
    return [Opportunity.organisation_id == org.id, Opportunity.status.in_(LIVE_STATUSES)]


def _dated(org, today):
    """Entries published on the plan with a tender date within the last year or still to come."""
    return [Opportunity.organisation_id == org.id, Opportunity.published_at.is_not(None),
            Opportunity.tender_publish_on.is_not(None),
            Opportunity.tender_publish_on >= today - timedelta(days=LOOK_BACK_DAYS),
            Opportunity.status.not_in(("draft", "withdrawn"))]


def _large_live(org, today):
    return [*_live(org, today), Opportunity.whole_life_value >= LOTS_FROM_VALUE]


def _recent_awards(org, today):
    return [Opportunity.organisation_id == org.id, exists().where(
        Award.opportunity_id == Opportunity.id,
        Award.awarded_on > today - timedelta(days=LOOK_BACK_DAYS), Award.awarded_on <= today)]


def _short_notice(scope):
    """Entries whose tender comes less than NOTICE_MONTHS after they appeared on the plan:
    calendar months, counted here because SQLite and PostgreSQL add months differently."""
    rows = db.session.execute(select(Opportunity.id, Opportunity.published_at,
                                     Opportunity.tender_publish_on).where(*scope)).all()
    return Opportunity.id.in_([row.id for row in rows if row.tender_publish_on
                               < add_months(row.published_at.date(), NOTICE_MONTHS)])


def _no_winner(flag):
    def concern(scope):
        return ~exists().where(Award.opportunity_id == Opportunity.id,
                               AwardWinner.award_id == Award.id, flag.is_(True))
    return concern


def _some(nouns, verbs):
    """'3 of your 5 live entries have…': (singular, plural) nouns and verbs, agreeing with the
    count; 'All 5 of…' and 'Your only…' when every entry looked at raises it."""
    def sentence(count, total):
        verb = verbs[0] if count == 1 else verbs[1]
        if count == total == 1:
            return f"Your only {nouns[0]} {verb}"
        if count == total:
            return f"All {total:,} of your {nouns[1]} {verb}"
        return f"{count:,} of your {total:,} {nouns[1]} {verb}"
    return sentence


def _none_went_to(who):
    def sentence(count, total):
        if count != total:
            return None
        if total == 1:
            return f"Your only award in the last year did not go to {who}"
        return f"None of your {total:,} awards in the last year went to {who}"
    return sentence


LIVE = ("live entry", "live entries")
LARGE = (f"live entry worth £{LOTS_FROM_VALUE:,} or more",
         f"live entries worth £{LOTS_FROM_VALUE:,} or more")


RULES = (
    Rule("short-notice", "vcse.procurement", _dated, _short_notice,
         _some(("entry with a tender date", "entries with a tender date"),
               ("gives less than three months' notice before the tender",
                "give less than three months' notice before the tender")),
         "Small VCSEs need time to find partners and prepare a bid. Counted from the day an entry "
         "appeared on your forward plan to its tender date, over tenders due in the last year "
         "or still to come."),
    Rule("no-social-value", "social_value.procurement", _live,
         lambda scope: ~exists().where(SocialValuePriority.opportunity_id == Opportunity.id),
         _some(LIVE, ("has no social value priority", "have no social value priority")),
         "Naming the social value you want, with its weighting, tells bidders what will be "
         "scored and lets them plan for it."),
    Rule("not-vcse-suitable", "vcse.commissioning", _live,
         lambda scope: Opportunity.suitable_vcse.is_(False),
         _some(LIVE, ("is not marked as suitable for VCSEs",
                     "are not marked as suitable for VCSEs")),
         "VCSEs can filter the forward plan to the entries marked as suitable for them, so "
         "unmarked entries are easy for them to miss."),
    Rule("no-engagement", "strategic_suppliers.early_engagement", _live,
         lambda scope: Opportunity.market_engagement_on.is_(None),
         _some(LIVE, ("has no market engagement date", "have no market engagement date")),
         "Talking to the market before the tender lets smaller providers plan, form "
         "partnerships and help shape the service."),
    Rule("no-lots", "sme.procurement", _large_live,
         lambda scope: ~exists().where(Lot.opportunity_id == Opportunity.id),
         _some(LARGE, ("has no lots", "have no lots")),
         "Dividing a large contract into lots lets smaller suppliers bid for the part they can "
         "deliver."),
    Rule("no-vcse-awards", "vcse.governance", _recent_awards, _no_winner(AwardWinner.is_vcse),
         _none_went_to("a VCSE"),
         "Knowing how much of your spending reaches VCSEs is the first step to setting a "
         "target for it.", dates="award"),
    Rule("no-sme-awards", "sme.governance", _recent_awards, _no_winner(AwardWinner.is_sme),
         _none_went_to("a small or medium-sized business"),
         "Knowing how much of your spending reaches small firms is the first step to setting "
         "a target for it.", dates="award"),
)
RULES_BY_KEY = {rule.key: rule for rule in RULES}


def _counts(rule, org, today):
    scope = rule.scope(org, today)
    concern = rule.concern(scope)
    count, total = db.session.execute(
        select(func.count(case((concern, 1))), func.count(Opportunity.id)).where(*scope)).one()
    return count or 0, total or 0


def _suggestion(rule, org, today, profile):
    count, total = _counts(rule, org, today)
    text = rule.sentence(count, total) if count else None
    if text is None:
        return None
    sub = framework().sub_area(rule.sub_area)
    return Suggestion(rule.key, sub, framework().area(sub.area_key), text, rule.why, count,
                      total, rule.dates, profile.get(sub.key))


def suggestions(org, today=None, profile=None):
    """What the buyer's own forward plan and awards suggest looking at, each naming the
    sub-area it bears on, with a count of the entries behind it."""
    today = today or uk_now().date()
    profile = current_profile(org) if profile is None else profile
    found = (_suggestion(rule, org, today, profile) for rule in RULES)
    return [suggestion for suggestion in found if suggestion is not None]


@dataclass
class SuggestionEntries:
    rule: Rule
    suggestion: Suggestion | None  # None when the data no longer raises it
    entries: object                # a page of Opportunity


def suggestion_entries(org, key, today=None, page=1, per_page=ENTRIES_PER_PAGE):
    """The buyer's entries behind one suggestion, a page at a time."""
    rule = RULES_BY_KEY.get(key)
    if rule is None:
        raise NotFound("Page not found")
    today = today or uk_now().date()
    scope = rule.scope(org, today)
    stmt = (select(Opportunity).options(joinedload(Opportunity.award))
            .where(*scope, rule.concern(scope))
            .order_by(Opportunity.published_at.desc(), Opportunity.id.desc()))
    return SuggestionEntries(rule, _suggestion(rule, org, today, current_profile(org)),
                             db.paginate(stmt, page=page, per_page=per_page, error_out=False))
