"""The forward-plan entry guards its own lifecycle, dates, values and conditions."""
from datetime import date, datetime, timedelta
from itertools import product

import pytest

from portal.core.exceptions import DomainError
from portal.pipeline.models import (
    STATUSES, TRANSITIONS, Award, AwardWinner, Opportunity, SocialValuePriority, uk_now,
)
from portal.reference.models import Area, CpvCode

NOW = datetime(2027, 3, 1, 9, 0)


def _entry(db=None, status="draft", **fields):
    opportunity = Opportunity(title="Carers support", reference="T-1", organisation_id=1,
                              description="Support for carers", **fields)
    if db is not None:
        opportunity.main_cpv = db.session.get(CpvCode, "85312000")
        opportunity.main_cpv_code = "85312000"
        opportunity.areas = [db.session.get(Area, "E08000035")]
    if status != "draft":
        opportunity.load_status(status)
    return opportunity


ILLEGAL = [(old, new) for old, new in product(STATUSES, STATUSES) if new not in TRANSITIONS[old]]


@pytest.mark.parametrize("old,new", ILLEGAL)
def test_every_illegal_move_is_refused_with_a_clear_message(old, new):
    opportunity = _entry(status=old, closing_at=NOW - timedelta(days=1))
    with pytest.raises(DomainError) as refused:
        opportunity.move_to(new, now=NOW, reason="Budget withdrawn")
    assert opportunity.status == old
    message = refused.value.message
    assert STATUSES[old].lower() in message and STATUSES[new].lower() in message
    assert ("can only move to" in message) or ("can no longer change" in message)


def test_the_status_cannot_be_set_directly_to_skip_a_stage():
    opportunity = _entry()
    with pytest.raises(DomainError):
        opportunity.status = "awarded"
    assert opportunity.status == "draft"


def test_an_unknown_stage_is_refused():
    with pytest.raises(DomainError, match="Choose a stage"):
        _entry().move_to("archived", now=NOW)


def test_publishing_needs_a_description_category_and_area(db):
    bare = Opportunity(title="Bare", reference="B", organisation_id=1)
    with pytest.raises(DomainError, match="description"):
        bare.move_to("planned", now=NOW)
    bare.description = "Something"
    with pytest.raises(DomainError, match="main category"):
        bare.move_to("planned", now=NOW)
    ready = _entry(db)
    ready.move_to("planned", now=NOW)
    assert ready.status == "planned" and ready.published_at is not None


def test_market_engagement_needs_event_details():
    opportunity = _entry(status="planned")
    with pytest.raises(DomainError, match="market engagement event"):
        opportunity.move_to("market_engagement", now=NOW)
    opportunity.market_engagement_on = date(2027, 3, 10)
    opportunity.engagement_details = "Online briefing"
    opportunity.move_to("market_engagement", now=NOW)
    assert opportunity.status == "market_engagement"


def test_opening_needs_a_future_closing_time_and_sets_the_publication_date():
    opportunity = _entry(status="planned")
    with pytest.raises(DomainError, match="closing date and time"):
        opportunity.move_to("open", now=NOW)
    opportunity.closing_at = NOW - timedelta(hours=1)
    with pytest.raises(DomainError, match="in the future"):
        opportunity.move_to("open", now=NOW)
    opportunity.closing_at = NOW + timedelta(days=30)
    opportunity.move_to("open", now=NOW)
    assert opportunity.tender_publish_on == NOW.date()


def test_evaluation_cannot_start_before_tenders_close():
    opportunity = _entry(status="open", closing_at=NOW + timedelta(days=2))
    with pytest.raises(DomainError, match="still open"):
        opportunity.move_to("evaluation", now=NOW)
    opportunity.move_to("evaluation", now=NOW + timedelta(days=3))
    assert opportunity.status == "evaluation"


def test_awarding_needs_a_winner():
    opportunity = _entry(status="evaluation")
    with pytest.raises(DomainError, match="Record who won"):
        opportunity.move_to("awarded", now=NOW)
    opportunity.award = Award(awarded_on=date(2027, 2, 1), winners=[AwardWinner(name="Carers UK")])
    opportunity.move_to("awarded", now=NOW)
    assert opportunity.status == "awarded"


@pytest.mark.parametrize("old,new", [("planned", "withdrawn"), ("open", "cancelled")])
def test_stopping_needs_a_public_reason(old, new):
    opportunity = _entry(status=old, closing_at=NOW + timedelta(days=5))
    with pytest.raises(DomainError, match="reason"):
        opportunity.move_to(new, now=NOW, reason="  ")
    opportunity.move_to(new, now=NOW, reason="The service is no longer needed")
    assert opportunity.status_reason == "The service is no longer needed"


@pytest.mark.parametrize("fields,message", [
    ({"tender_publish_on": date(2027, 5, 1), "closing_at": datetime(2027, 4, 1, 12)},
     "closing date must be on or after"),
    ({"closing_at": datetime(2027, 4, 1, 12), "contract_start_on": date(2027, 4, 1)},
     "start after the closing date"),
    ({"closing_at": datetime(2027, 4, 1, 12), "question_deadline": datetime(2027, 4, 2, 12)},
     "deadline for questions must be before"),
    ({"market_engagement_on": date(2027, 6, 1), "tender_publish_on": date(2027, 5, 1)},
     "on or after the market engagement"),
])
def test_dates_must_agree(fields, message):
    opportunity = _entry(**fields)
    with pytest.raises(DomainError, match=message):
        opportunity.check_consistency()


def test_a_range_must_not_be_upside_down_and_values_are_checked():
    opportunity = _entry()
    with pytest.raises(DomainError, match="highest value"):
        opportunity.set_value(500, 100, "whole_life", 12)
    with pytest.raises(DomainError, match="between"):
        opportunity.set_value(-5, None, "whole_life", 12)
    with pytest.raises(DomainError, match="months"):
        opportunity.set_value(100, None, "whole_life", 0)


def test_an_annual_value_becomes_a_whole_life_estimate():
    opportunity = _entry()
    opportunity.set_value(100_000, 120_000, "annual", 36)
    assert opportunity.whole_life_value == 360_000
    opportunity.set_value(None, 90_000, "whole_life", None)
    assert (opportunity.value_min, opportunity.value_max) == (90_000, None)


def test_only_below_threshold_procurements_can_be_reserved():
    opportunity = _entry(procurement_route="open", reservation="sme_vcse")
    with pytest.raises(DomainError, match="below-threshold"):
        opportunity.check_consistency()
    opportunity.procurement_route = "below_threshold"
    opportunity.check_consistency()
    opportunity.reservation = "location"
    with pytest.raises(DomainError, match="area"):
        opportunity.check_consistency()


def test_an_accreditation_tier_can_be_required_only_for_grants():
    opportunity = _entry(procurement_route="open", accreditation_tier=2,
                         accreditation_requirement="required")
    with pytest.raises(DomainError, match="only be required for grant"):
        opportunity.check_consistency()
    opportunity.accreditation_requirement = "advisory"
    opportunity.check_consistency()
    opportunity.procurement_route = "grant"
    opportunity.accreditation_requirement = "required"
    opportunity.check_consistency()
    opportunity.accreditation_tier = 4
    with pytest.raises(DomainError, match="tier 1, 2 or 3"):
        opportunity.check_consistency()


def test_social_value_weightings_cannot_exceed_one_hundred_per_cent():
    opportunity = _entry()
    opportunity.social_value = [SocialValuePriority(theme="wellbeing", weighting=60),
                                SocialValuePriority(theme="climate", weighting=50)]
    with pytest.raises(DomainError, match="100%"):
        opportunity.check_consistency()


def test_questions_close_at_the_deadline():
    opportunity = _entry(status="open", closing_at=uk_now() + timedelta(days=10),
                         question_deadline=uk_now() - timedelta(minutes=1))
    assert not opportunity.questions_open
    opportunity.question_deadline = uk_now() + timedelta(days=1)
    assert opportunity.questions_open
