"""Expiry and what the matcher sees: lapsing an accreditation takes its tier out of the search
index and out of the stored matches; an accreditation past its expiry date is off the register
at once, and the matcher stops counting it at once too, though the index keeps the tier until
`flask accreditation expire` records the lapse."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from portal.accreditation import services
from portal.accreditation.models import AccreditationRecord
from portal.extensions import db as _db
from portal.matching import following, recommend, rescore
from portal.matching.models import OpportunityMatch
from portal.organisations import services as organisations
from portal.pipeline import services as pipeline
from portal.search.services import match_organisations
from tests.functional.test_accreditation_support import (  # noqa: F401  (fixtures)
    evidence_dir, world,
)

LEEDS = "E08000035"


def _accredit(world, org, tier, days):
    scheme = world.scheme("sliding-scale")
    level = next(lv for lv in scheme.current.levels if lv.tier == tier)
    record = AccreditationRecord(organisation_id=org.id, scheme=scheme, level=level,
                                 starts_on=date.today() - timedelta(days=400),
                                 expires_on=date.today() + timedelta(days=days))
    _db.session.add(record)
    _db.session.commit()
    return record


def _indexed_tier(org):
    hits = match_organisations([], only_ids=[org.id])
    return hits[0].features.get("tier") if hits else "missing"


def _listed_with_tier(org, tier):
    return match_organisations([], only_ids=[org.id], filters={"tier_at_least": tier}) != []


def _stored_reasons(org):
    _db.session.expire_all()
    return [reason for row in _db.session.scalars(select(OpportunityMatch).where(
        OpportunityMatch.organisation_id == org.id)) for reason in row.reasons]


@pytest.fixture
def entry(world, make_org, make_user):
    """A Leeds entry asking for tier 1, with the world's organisation among its matches."""
    buyer = make_org("Leeds City Council", org_type="commissioner")
    officer = make_user(buyer, email="officer@leeds.example")
    org = world.org
    organisations.update_profile(org, {"description": "Debt and benefits advice in Leeds"},
                                 None)
    organisations.add_area(org, LEEDS, None)
    opportunity = pipeline.create_opportunity(buyer, {
        "title": "Debt advice service", "description": "Debt and benefits advice in Leeds",
        "main_cpv_code": "85312000", "areas": "Leeds", "value_min": 100_000,
        "value_basis": "whole_life", "accreditation_tier": 1}, officer)
    pipeline.change_status(opportunity, "planned", officer)
    return opportunity


def test_lapsing_takes_the_tier_out_of_the_index_and_the_stored_matches(world, entry):
    record = _accredit(world, world.org, 1, days=200)
    assert _indexed_tier(world.org) == 1 and _listed_with_tier(world.org, 1)
    assert any("Accredited at Tier 1" in r for r in _stored_reasons(world.org))
    services.run_expiry(record.expires_on + timedelta(days=1))
    assert _indexed_tier(world.org) is None
    assert not _listed_with_tier(world.org, 1)  # the matches page's tier filter agrees
    reasons = _stored_reasons(world.org)
    assert reasons and not any("Accredited at Tier 1" in r for r in reasons)
    assert any("Not yet accredited" in r for r in reasons)


def test_past_expiry_is_off_the_register_at_once_and_out_of_matching_once_lapsed(world, entry):
    record = _accredit(world, world.org, 1, days=200)
    # The date passes with nothing written through the application (a bulk update stands in
    # for time passing): the register reads the date, the index still holds the tier.
    _db.session.execute(update(AccreditationRecord).where(AccreditationRecord.id == record.id)
                        .values(expires_on=date.today() - timedelta(days=1)))
    _db.session.commit()
    assert services.current_level(world.org) is None
    assert services.current_records(world.org) == []
    assert _indexed_tier(world.org) == 1
    assert services.run_expiry()["lapsed"] == 1
    assert _indexed_tier(world.org) is None
    assert not any("Accredited at Tier 1" in r for r in _stored_reasons(world.org))


def test_the_last_day_counts_in_both(world, entry):
    record = _accredit(world, world.org, 1, days=0)
    assert record.expires_on == date.today()
    assert services.current_level(world.org) is not None
    assert services.run_expiry()["lapsed"] == 0
    assert _indexed_tier(world.org) == 1


def test_reminders_leave_the_matches_alone(world, entry, monkeypatch):
    record = _accredit(world, world.org, 1, days=20)
    followed = []
    monkeypatch.setattr(rescore, "rescore_supplier",
                        lambda session, org_id: followed.append(org_id))
    assert services.run_expiry()["reminder_30"] == 1
    assert record.reminder_30_sent_at is not None
    assert followed == []


def test_many_lapses_in_one_run_each_follow(world, entry, make_org, monkeypatch):
    monkeypatch.setattr(following, "MAX_INLINE_PROFILES", 1)
    others = [make_org(f"Advice Centre {n}") for n in range(3)]
    records = [_accredit(world, org, 1, days=10) for org in [world.org, *others]]
    expires = records[0].expires_on
    assert services.run_expiry(expires + timedelta(days=1))["lapsed"] == 4
    assert all(_indexed_tier(org) is None for org in [world.org, *others])
    assert not any("Accredited at Tier 1" in r for r in _stored_reasons(world.org))


def test_the_expire_command_says_what_it_did(app, world, entry):
    record = _accredit(world, world.org, 1, days=200)
    _db.session.execute(update(AccreditationRecord).where(AccreditationRecord.id == record.id)
                        .values(expires_on=date.today() - timedelta(days=1)))
    _db.session.commit()
    result = app.test_cli_runner().invoke(args=["accreditation", "expire"])
    assert result.exit_code == 0, result.output
    assert "Lapsed 1" in result.output
    assert _indexed_tier(world.org) is None


def test_a_tier_past_its_date_stops_counting_before_the_lapse_is_recorded(world, monkeypatch):
    from portal.matching import features
    from portal.matching.services import MatchQuery, rank_suppliers
    from portal.search import index as search_index

    org = world.org
    organisations.update_profile(org, {"description": "Debt and benefits advice"}, None)
    _accredit(world, org, 1, days=1)  # runs to tomorrow
    assert _indexed_tier(org) == 1 and _listed_with_tier(org, 1)
    query = MatchQuery(description="debt advice", recommended_tier=1)
    assert "Accredited at Tier 1 (Stage 1 – foundation); this entry recommends Tier 1" in \
        rank_suppliers(query, candidate_keys=[org.id])[0].reasons

    later = date.today() + timedelta(days=3)

    class Later(date):
        @classmethod
        def today(cls):
            return later

    monkeypatch.setattr(features, "date", Later)
    monkeypatch.setattr(search_index, "date", Later)
    # Nothing has recorded the lapse or indexed the profile again...
    assert _indexed_tier(org) == 1
    # ...but the tier no longer counts: not for a tier filter, not in the reasons.
    assert not _listed_with_tier(org, 1)
    match = rank_suppliers(query, candidate_keys=[org.id])[0]
    assert "Not yet accredited; this entry recommends Tier 1" in match.reasons
    assert match.signals["tier"] == 0
