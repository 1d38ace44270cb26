"""The National Procurement Strategy self-assessment: the framework file, ratings and their
history, suggestions from the buyer's own data, the pages and who may see them."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.core.audit import AuditEvent
from portal.core.exceptions import DomainError, NotFound
from portal.insight import maturity
from portal.insight.maturity_demo import seed_demo_ratings
from portal.insight.models import MATURITY_LEVELS, MaturityRating
from portal.pipeline.models import (
    Award, AwardWinner, Lot, Opportunity, SocialValuePriority,
)
from tests.functional.test_fieldset_legends import legends

TODAY = date(2026, 6, 1)
RATE = "/insight/self-assessment/vcse.procurement/rate"
HISTORY = "/insight/self-assessment/vcse.procurement/history"
OVERVIEW = "/insight/self-assessment"
REQUIRED_AREAS = {"vcse", "social_value", "sme", "contracts", "strategic_suppliers", "partners",
                  "councillors"}


@pytest.fixture
def login(client, login):
    """Sign in as someone else, signing out whoever was signed in."""
    def switch(user):
        client.post("/sign-out")
        return login(user)
    return switch


@pytest.fixture
def people(make_org, make_user):
    leeds = make_org("Leeds City Council", org_type="commissioner")
    york = make_org("City of York Council", org_type="commissioner")
    charity = make_org("Leeds Carers Trust", org_type="vcse")
    return {
        "leeds": leeds, "york": york,
        "officer": make_user(leeds, email="officer@leeds.example", name="Pat Officer"),
        "york_officer": make_user(york, email="officer@york.example"),
        "volunteer": make_user(charity, email="manager@carers.example"),
        "admin": make_user(None, email="admin@portal.example", site_admin=True),
    }


def _rating_form(current="2", target="3", **extra):
    return {"current_level": current, "target_level": target, "notes": "", "evidence_url": "",
            **extra}


# --- The framework ------------------------------------------------------------------------------

def test_the_framework_has_five_levels_in_every_sub_area_and_unique_keys():
    found = maturity.read_framework()
    assert [(level.rank, level.name) for level in found.levels] == list(MATURITY_LEVELS.items())
    keys = [sub.key for area in found.key_areas for sub in area.sub_areas]
    assert len(keys) == len(set(keys)) == len(found.sub_areas)
    assert REQUIRED_AREAS <= {area.key for area in found.key_areas}
    for area in found.key_areas:
        assert area.summary and area.sub_areas
        for sub in area.sub_areas:
            assert sub.key.startswith(area.key + ".") and len(sub.key) <= 60
            assert len(sub.descriptors) == 5 and all(len(d) > 20 for d in sub.descriptors)
            assert len(set(sub.descriptors)) == 5, sub.key


def test_a_framework_with_a_repeated_key_or_a_missing_level_is_refused(tmp_path):
    text = maturity.FRAMEWORK_PATH.read_text(encoding="utf-8")
    repeated = tmp_path / "repeated.yaml"
    repeated.write_text(text.replace("key: vcse.measurement", "key: vcse.policy_scope"))
    with pytest.raises(maturity.FrameworkError, match="vcse.policy_scope"):
        maturity.read_framework(repeated)
    missing = tmp_path / "missing.yaml"
    missing.write_text(text.replace(
        "              minimum: Not a priority beyond meeting the law.\n", "", 1))
    with pytest.raises(maturity.FrameworkError, match="risk.fraud"):
        maturity.read_framework(missing)


# --- Rating and history -------------------------------------------------------------------------

def test_a_rating_is_saved_and_the_history_keeps_every_one(client, login, people, db):
    login(people["officer"])
    page = client.get(RATE).get_data(as_text=True)
    assert legends(page) == ["Which level best describes where you are now?",
                             "Which level do you aim to reach?"]
    for descriptor in maturity.framework().sub_area("vcse.procurement").descriptors:
        assert descriptor.replace("'", "&#39;") in page
    response = client.post(RATE, data=_rating_form("1", "3", notes="First look"))
    assert response.status_code == 302 and "#area-vcse" in response.location
    response = client.post(RATE, data=_rating_form(
        "2", "4", evidence_url="www.leeds.example/procurement-strategy"))
    assert response.status_code == 302

    ratings = db.session.scalars(select(MaturityRating).order_by(MaturityRating.id)).all()
    assert [(r.current_level, r.target_level) for r in ratings] == [(1, 3), (2, 4)]
    assert ratings[1].evidence_url == "https://www.leeds.example/procurement-strategy"
    assert maturity.current_profile(people["leeds"])["vcse.procurement"].id == ratings[1].id
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "maturity.rated")) == 2

    history = client.get(HISTORY).get_data(as_text=True)
    assert history.count("Pat Officer") == 2 and "First look" in history
    assert "1. Minimum" in history and "4. Leader" in history
    overview = client.get(OVERVIEW).get_data(as_text=True)
    assert 'id="maturity-profile"' in overview and "Developing" in overview and "Leader" in overview
    assert "Start with" not in overview


def test_the_rating_page_starts_from_the_latest_rating(client, login, people):
    login(people["officer"])
    client.post(RATE, data=_rating_form("3", "5", notes="Kept notes"))
    page = client.get(RATE).get_data(as_text=True)
    assert 'value="3" checked' in page and 'value="5" checked' in page
    assert "Kept notes" in page and "Last rated" in page


def test_a_target_below_the_current_level_is_refused_on_the_field(client, login, people, db):
    login(people["officer"])
    response = client.post(RATE, data=_rating_form("4", "2"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The target cannot be below the current level" in page
    assert 'href="#target_level"' in page and 'id="target_level-error"' in page
    assert db.session.scalar(select(func.count(MaturityRating.id))) == 0


def test_a_low_target_is_refused_by_the_service_as_well(people, db):
    with pytest.raises(DomainError) as refused:
        maturity.record_rating(people["leeds"], people["officer"], "vcse.procurement", 4, 2)
    assert refused.value.field == "target_level"
    assert db.session.scalar(select(func.count(MaturityRating.id))) == 0


@pytest.mark.parametrize("data, message", [
    (_rating_form(evidence_url="not a web address"), "Enter a web address for the evidence"),
    (_rating_form(evidence_url="javascript:alert(1)"), "Enter a web address for the evidence"),
    (_rating_form(current=""), "Choose the level that best describes where you are now"),
    (_rating_form(target="9"), "Choose the level you aim to reach"),
    (_rating_form(notes="x" * 5001), "Notes must be 5,000 characters or fewer"),
    (_rating_form("4", "2", evidence_url="bad link"), "The target cannot be below"),
    (_rating_form("4", "2", evidence_url="bad link"), "Enter a web address for the evidence"),
])
def test_bad_answers_are_refused_without_storing_anything(client, login, people, db, data,
                                                          message):
    login(people["officer"])
    response = client.post(RATE, data=data)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(MaturityRating.id))) == 0


def test_the_service_refuses_someone_outside_the_organisation(people, db):
    with pytest.raises(NotFound):
        maturity.record_rating(people["leeds"], people["york_officer"], "vcse.procurement", 1, 2)
    with pytest.raises(NotFound):
        maturity.record_rating(people["leeds"], people["officer"], "vcse.nothing", 1, 2)
    assert db.session.scalar(select(func.count(MaturityRating.id))) == 0


def test_area_summary_averages_the_latest_ratings(people, db):
    leeds, officer = people["leeds"], people["officer"]
    maturity.record_rating(leeds, officer, "vcse.procurement", 1, 2)
    maturity.record_rating(leeds, officer, "vcse.procurement", 3, 4)
    maturity.record_rating(leeds, officer, "vcse.governance", 2, 5)
    summaries = {s.area.key: s for s in maturity.area_summary(leeds)}
    assert (summaries["vcse"].current, summaries["vcse"].target) == (2.5, 4.5)
    assert summaries["vcse"].rated and not summaries["sme"].rated
    assert summaries["sme"].current is None
    assert maturity.history(leeds, "vcse.procurement").total == 2


# --- The overview -------------------------------------------------------------------------------

def test_an_organisation_that_has_rated_nothing_is_asked_to_start_with_vcse(client, login,
                                                                           people):
    login(people["officer"])
    page = client.get(OVERVIEW).get_data(as_text=True)
    assert "Start with Enabling VCSE engagement" in page
    assert "/insight/self-assessment/vcse.policy_scope/rate" in page
    assert 'id="maturity-profile"' not in page


# --- Suggestions --------------------------------------------------------------------------------

def _entry(org, title, status="planned", published=None, tender=None, **fields):
    entry = Opportunity(organisation_id=org.id, reference=title, title=title, _status=status,
                        published_at=published, tender_publish_on=tender, **fields)
    return entry


def _plan(db, org):
    """Five live entries with tender dates: two give three months' notice or more."""
    published = datetime(2026, 3, 1, 9, 0)
    entries = [
        _entry(org, "Enough notice", published=published, tender=date(2026, 6, 1),
               suitable_vcse=True, market_engagement_on=date(2026, 4, 1)),
        _entry(org, "Plenty of notice", published=published, tender=date(2026, 9, 1),
               suitable_vcse=True, market_engagement_on=date(2026, 4, 1)),
        _entry(org, "Short by a day", published=published, tender=date(2026, 5, 31),
               suitable_vcse=True, market_engagement_on=date(2026, 4, 1)),
        _entry(org, "Two weeks' notice", published=published, tender=date(2026, 3, 15),
               whole_life_value=2_000_000),
        _entry(org, "Same day", published=published, tender=date(2026, 3, 1),
               whole_life_value=5_000_000),
        # Left out of the notice count: a draft, a withdrawn entry, an old tender, no tender date.
        _entry(org, "Draft", status="draft", tender=date(2026, 7, 1)),
        _entry(org, "Withdrawn", status="withdrawn", published=published, tender=date(2026, 4, 1)),
        _entry(org, "Old tender", status="awarded", published=datetime(2024, 1, 1),
               tender=date(2024, 2, 1)),
    ]
    db.session.add_all(entries)
    db.session.flush()
    entries[0].social_value = [SocialValuePriority(theme="wellbeing", weighting=10)]
    entries[1].social_value = [SocialValuePriority(theme="climate", weighting=5)]
    entries[3].lots = [Lot(number=1, title="North")]
    db.session.commit()
    return entries


def _awards(db, org, vcse=False, sme=True):
    for number, awarded_on in enumerate((date(2025, 9, 1), date(2026, 2, 1), date(2024, 1, 1))):
        entry = _entry(org, f"Awarded {number}", status="awarded",
                       published=datetime(2023, 1, 1))
        entry.award = Award(awarded_on=awarded_on, winners=[
            AwardWinner(name="Big Care Ltd", is_vcse=False, is_sme=sme),
            AwardWinner(name="Small Charity", is_vcse=vcse and number == 2, is_sme=False)])
        db.session.add(entry)
    db.session.commit()


def test_suggestions_count_the_buyers_own_entries(people, db):
    _plan(db, people["leeds"])
    _plan(db, people["york"])  # another buyer's entries never count
    _awards(db, people["leeds"], vcse=True)  # its only VCSE win is more than a year ago
    found = {s.key: s for s in maturity.suggestions(people["leeds"], today=TODAY)}

    notice = found["short-notice"]
    assert (notice.count, notice.total) == (3, 5)
    assert notice.text.startswith("3 of your 5 entries with a tender date give less than "
                                  "three months' notice")
    assert notice.sub_area.key == "vcse.procurement" and notice.area.key == "vcse"
    assert (found["no-social-value"].count, found["no-social-value"].total) == (3, 5)
    assert found["no-social-value"].text == "3 of your 5 live entries have no social value priority"
    assert found["no-lots"].text.startswith("1 of your 2 live entries worth £1,000,000 or more")
    assert found["not-vcse-suitable"].count == 2
    assert found["no-engagement"].count == 2
    assert found["no-vcse-awards"].text == "None of your 2 awards in the last year went to a VCSE"
    assert found["no-vcse-awards"].sub_area.key == "vcse.governance"
    assert "no-sme-awards" not in found  # every award had an SME among its winners
    assert all(s.sub_area.key in maturity.framework().sub_areas for s in found.values())


@pytest.mark.parametrize("count, total, expected", [
    (3, 5, "3 of your 5 live entries have no social value priority"),
    (1, 5, "1 of your 5 live entries has no social value priority"),
    (4, 4, "All 4 of your live entries have no social value priority"),
    (1, 1, "Your only live entry has no social value priority"),
])
def test_suggestions_read_well_for_any_count(count, total, expected):
    assert maturity.RULES_BY_KEY["no-social-value"].sentence(count, total) == expected


def test_awards_are_only_suggested_about_when_none_went_to_a_vcse():
    sentence = maturity.RULES_BY_KEY["no-vcse-awards"].sentence
    assert sentence(1, 1) == "Your only award in the last year did not go to a VCSE"
    assert sentence(2, 3) is None


def test_a_vcse_win_in_the_last_year_removes_the_suggestion(people, db):
    _awards(db, people["leeds"], vcse=True)
    keys = {s.key for s in maturity.suggestions(people["leeds"], today=date(2024, 6, 1))}
    assert "no-vcse-awards" not in keys


def test_a_buyer_with_no_entries_gets_no_suggestions(client, login, people):
    assert maturity.suggestions(people["leeds"], today=TODAY) == []
    login(people["officer"])
    assert "Nothing to suggest" in client.get(OVERVIEW).get_data(as_text=True)


def test_the_suggestion_links_to_the_entries_behind_it(client, login, people, db):
    _plan(db, people["leeds"])
    login(people["officer"])
    overview = client.get(OVERVIEW).get_data(as_text=True)
    assert "/insight/self-assessment/suggestions/no-social-value" in overview
    page = client.get("/insight/self-assessment/suggestions/no-social-value")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    for title in ("Short by a day", "Two weeks&#39; notice", "Same day"):
        assert title in text
    assert "Enough notice" not in text and "Plenty of notice" not in text
    assert "/forward-plan/manage/" in text
    assert client.get("/insight/self-assessment/suggestions/nonsense").status_code == 404


# --- Who may see what ---------------------------------------------------------------------------

def _pages(org_id):
    return [f"{OVERVIEW}?organisation={org_id}", f"{RATE}?organisation={org_id}",
            f"{HISTORY}?organisation={org_id}",
            f"/insight/self-assessment/suggestions/short-notice?organisation={org_id}"]


def test_another_commissioner_is_told_there_is_nothing_there(client, login, people):
    maturity.record_rating(people["leeds"], people["officer"], "vcse.procurement", 2, 3)
    login(people["york_officer"])
    for page in _pages(people["leeds"].id):
        assert client.get(page).status_code == 404, page
    assert client.post(f"{RATE}?organisation={people['leeds'].id}",
                       data=_rating_form()).status_code == 404
    own = client.get(OVERVIEW)
    assert own.status_code == 200 and "Start with" in own.get_data(as_text=True)


def test_a_vcse_user_gets_a_404_everywhere(client, login, people):
    login(people["volunteer"])
    for page in (OVERVIEW, RATE, HISTORY, "/insight/self-assessment/suggestions/short-notice"):
        assert client.get(page).status_code == 404, page
    assert client.post(RATE, data=_rating_form()).status_code == 404


def test_visitors_are_sent_to_sign_in(client, people):
    for page in (OVERVIEW, RATE, HISTORY):
        response = client.get(page)
        assert response.status_code == 302 and "/sign-in" in response.location


def test_a_site_admin_reads_but_does_not_rate(client, login, people):
    maturity.record_rating(people["leeds"], people["officer"], "vcse.procurement", 2, 3)
    login(people["admin"])
    leeds = people["leeds"].id
    page = client.get(f"{OVERVIEW}?organisation={leeds}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Leeds City Council" in text
    assert "/rate" not in text and f"history?organisation={leeds}" in text
    assert client.get(f"{HISTORY}?organisation={leeds}").status_code == 200
    assert client.get(f"{RATE}?organisation={leeds}").status_code == 404
    assert client.get(OVERVIEW).status_code == 404  # no buyer of its own
    assert client.get(f"{OVERVIEW}?organisation={people['volunteer'].organisation_id}"
                      ).status_code == 404


def test_an_unknown_sub_area_is_a_404(client, login, people):
    login(people["officer"])
    for page in ("/insight/self-assessment/vcse.nothing/rate",
                 "/insight/self-assessment/nothing/history"):
        assert client.get(page).status_code == 404


# --- The demo -----------------------------------------------------------------------------------

def test_the_demo_gives_two_rounds_a_year_apart(people, db):
    added = seed_demo_ratings(people["leeds"], people["officer"])
    assert added > 20 and added % 2 == 0
    dates = sorted({r.recorded_at.date() for r in db.session.scalars(select(MaturityRating))})
    assert len(dates) == 2 and (dates[1] - dates[0]) >= timedelta(days=365)
    profile = maturity.current_profile(people["leeds"])
    assert all(r.recorded_at.date() == dates[1] for r in profile.values())
    assert maturity.history(people["leeds"], "vcse.procurement").total == 2
    assert seed_demo_ratings(people["leeds"]) == 0
