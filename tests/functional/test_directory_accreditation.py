"""Accreditation where commissioners look: the directory's "accredited at least at" filter and
each result's level, and the level on the public profile. An accreditation past its last day
counts as none, even before its lapse is recorded."""
import re
from datetime import date, timedelta

import pytest

from portal.accreditation.models import AccreditationRecord
from portal.extensions import db
from portal.organisations import directory
from portal.search import index as search_index
from tests.functional.test_accreditation_support import evidence_dir, world  # noqa: F401


def accredit(world, org, tier, days=300):
    """A current record at the sliding scale's level of `tier`, running `days` more days."""
    scheme = world.scheme("sliding-scale")
    level = next(lv for lv in scheme.current.levels if lv.tier == tier)
    record = AccreditationRecord(organisation_id=org.id, scheme=scheme, level=level,
                                 starts_on=date.today() - timedelta(days=400),
                                 expires_on=date.today() + timedelta(days=days))
    db.session.add(record)
    db.session.commit()
    return record


def names(response):
    assert response.status_code == 200
    return re.findall(r'<h2 class="govuk-heading-m govuk-!-margin-bottom-1"><a [^>]*>([^<]+)</a>',
                      response.get_data(as_text=True))


def long_date(day):
    return f"{day.day} {day:%B %Y}"


@pytest.fixture
def levels(world, make_org):
    """Riverside at tier 1, Hilltop at tier 2, a third at tier 3 whose accreditation ran out
    yesterday, and one never accredited."""
    lapsed = make_org("Lapsed Lodge", description="Advice and counselling")
    make_org("Unaccredited Union", description="Advice")
    world.org.description = "Debt advice"
    world.other_org.description = "Youth counselling and advice"
    db.session.commit()
    return {"one": accredit(world, world.org, 1), "two": accredit(world, world.other_org, 2),
            "lapsed": accredit(world, lapsed, 3, days=-1), "lapsed_org": lapsed}


def test_results_show_the_level_and_until_when(client, world, levels):
    page = client.get("/organisations").get_data(as_text=True)
    two = levels["two"]
    assert f"{two.level.name}, until {long_date(two.expires_on)}" in page
    assert levels["one"].level.name in page
    assert levels["lapsed"].level.name not in page  # ran out yesterday


def test_filter_keeps_those_accredited_at_the_tier_or_above(client, world, levels):
    assert names(client.get("/organisations?tier=1")) == ["Hilltop Youth Trust",
                                                          "Riverside Advice Centre"]
    assert names(client.get("/organisations?tier=2")) == ["Hilltop Youth Trust"]
    # The tier 3 accreditation has run out: nobody is accredited at tier 3.
    assert names(client.get("/organisations?tier=3")) == []


def test_filter_works_with_search_text_and_other_filters(client, world, levels):
    assert names(client.get("/organisations?tier=1&q=counselling")) == ["Hilltop Youth Trust"]
    assert names(client.get("/organisations?tier=1&q=debt")) == ["Riverside Advice Centre"]
    assert names(client.get("/organisations?tier=1&income_band=small")) == [
        "Riverside Advice Centre"]
    assert names(client.get("/organisations?tier=2&q=debt")) == []


def test_filter_is_offered_with_counts_and_level_names(client, world, levels):
    page = client.get("/organisations").get_data(as_text=True)
    assert "Accredited at least at" in page
    one, two = levels["one"].level.name, levels["two"].level.name
    assert f"{one} (2)" in page and f"{two} (1)" in page
    assert 'name="tier" type="radio" value=""' in page or 'value="" checked' in page


def test_a_bad_tier_is_reported_and_left_out(client, world, levels):
    response = client.get("/organisations?tier=9")
    page = response.get_data(as_text=True)
    assert "Choose an accreditation level from the list" in page
    assert "Lapsed Lodge" in names(response)


def test_expiry_counts_from_the_day_even_before_the_lapse_is_recorded(client, world, levels,
                                                                       monkeypatch):
    later = date.today() + timedelta(days=301)

    class Later(date):
        @classmethod
        def today(cls):
            return later

    monkeypatch.setattr(search_index, "date", Later)
    monkeypatch.setattr(directory, "date", Later)
    assert names(client.get("/organisations?tier=1")) == []
    page = client.get(f"/organisations/{world.org.id}").get_data(as_text=True)
    assert "Not accredited" in page


def test_profile_shows_the_current_level_and_its_validity(client, world, levels):
    one = levels["one"]
    page = client.get(f"/organisations/{world.org.id}").get_data(as_text=True)
    assert (f"Accredited at {one.level.name} (tier 1) until {long_date(one.expires_on)}"
            in page)


def test_profile_of_an_expired_or_never_accredited_organisation_says_so(client, world, levels):
    page = client.get(f"/organisations/{levels['lapsed_org'].id}").get_data(as_text=True)
    assert "Not accredited" in page and levels["lapsed"].level.name not in page


def test_profile_keeps_the_contact_aside(client, world, levels):
    page = client.get(f"/organisations/{world.org.id}").get_data(as_text=True)
    assert 'id="contact-heading"' in page
