"""A demonstration self-assessment: the demo commissioner rated itself a year ago and again
last month, on the key areas this portal serves, and moved up a level where the portal helps
(publishing a forward plan early, inviting VCSEs to engagement events, recording awards).

Rows are written directly, with the dates of the two rounds, rather than through
`record_rating`, which stamps each rating with the present moment."""
from datetime import timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.core import audit
from portal.core.mixins import utcnow
from portal.extensions import db
from portal.insight.maturity import framework
from portal.insight.models import MaturityRating
from portal.organisations.demo import DEMO_EMAIL_DOMAIN

DEMO_COMMISSIONER = f"commissioner@{DEMO_EMAIL_DOMAIN}"
FIRST_ROUND_DAYS_AGO = 395
SECOND_ROUND_DAYS_AGO = 30

# sub-area: ((current, target) a year ago, (current, target) now, note on the latest rating)
DEMO_RATINGS = {
    "vcse.policy_scope": ((1, 3), (2, 3), "Needs and intended outcomes for adult social care "
                          "are now shared with providers each spring."),
    "vcse.relationships": ((2, 3), (3, 4), "The teaming board and two briefings with the local "
                           "infrastructure body have led to a first VCSE consortium bid."),
    "vcse.commissioning": ((2, 3), (2, 4), None),
    "vcse.market_engagement": ((1, 3), (3, 4), "A named contact for VCSEs is listed on every "
                               "forward plan entry."),
    "vcse.procurement": ((2, 3), (2, 3), "Notice is still short on some entries: see the "
                         "suggestion on this page."),
    "vcse.contract_management": ((1, 2), (2, 3), None),
    "vcse.governance": ((1, 3), (2, 3), "VCSE and SME shares of awards are now reported to "
                        "the procurement board each quarter."),
    "social_value.policy_scope": ((2, 3), (3, 4), "Social value policy approved by cabinet."),
    "social_value.measurement": ((1, 3), (2, 3), None),
    "social_value.procurement": ((2, 3), (3, 4), "Social value weighted at 10 percent in every "
                                 "services tender since April."),
    "social_value.contract_management": ((1, 3), (2, 3), None),
    "social_value.reporting": ((1, 2), (2, 3), None),
    "sme.procurement": ((2, 3), (2, 3), None),
    "sme.market_engagement": ((2, 3), (3, 3), None),
    "sme.governance": ((1, 3), (2, 3), None),
    "contracts.information": ((2, 4), (3, 4), "The contracts register now prompts "
                              "re-procurement a year before each contract ends."),
    "contracts.change_control": ((2, 3), (2, 3), None),
    "strategic_suppliers.early_engagement": ((2, 3), (3, 4), "Every entry over £500,000 now "
                                             "has a market engagement event."),
    "partners.culture": ((2, 3), (2, 3), None),
    "councillors.strategy": ((2, 3), (3, 3), "Procurement strategy refreshed and approved."),
}


def _rating(org, key, levels, when, user, notes=None):
    rating = MaturityRating(organisation_id=org.id, sub_area=key, recorded_at=when,
                            recorded_by_id=user.id if user else None, notes=notes)
    rating.set_levels(*levels)
    return rating


def seed_demo_ratings(org, user=None, now=None):
    """Give `org` two rounds of ratings a year apart; returns how many were added (none when
    it has rated anything already)."""
    if db.session.scalar(select(MaturityRating.id).where(
            MaturityRating.organisation_id == org.id).limit(1)) is not None:
        return 0
    known, now = framework().sub_areas, now or utcnow()
    first, second = (now - timedelta(days=FIRST_ROUND_DAYS_AGO),
                     now - timedelta(days=SECOND_ROUND_DAYS_AGO))
    rows = []
    for key, (earlier, later, note) in DEMO_RATINGS.items():
        if key in known:
            rows += [_rating(org, key, earlier, first, user),
                     _rating(org, key, later, second, user, note)]
    db.session.add_all(rows)
    audit.record("maturity.demo_loaded", org, ratings=len(rows))
    db.session.commit()
    return len(rows)


def load_demo(progress=None):
    """Add the demo commissioner's self-assessment; returns counts for `flask seed demo`."""
    user = db.session.scalar(select(User).where(User.email == DEMO_COMMISSIONER))
    if user is None or user.organisation is None:
        return {}
    return {"self-assessment ratings": seed_demo_ratings(user.organisation, user)}
