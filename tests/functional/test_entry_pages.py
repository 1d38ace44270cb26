"""A forward-plan entry is asked one page at a time: each page saves, a mistake keeps what was
typed, check-your-answers links back to every page, the main category is chosen from search
matches with or without JavaScript, and the dates say what the form accepts."""
import re
from datetime import date, timedelta

from sqlalchemy import select

from portal.core.audit import AuditEvent
from portal.pipeline import services
from portal.pipeline.models import Opportunity, uk_now
from tests.functional.test_pipeline import _entry, _field_error, login, people  # noqa: F401

PAGES = ("about", "categories", "areas", "value", "timetable", "route", "social-value",
         "contact")


def _page(entry_id, page, **query):
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return f"/forward-plan/manage/{entry_id}/entry/{page}{suffix}"


def _date(day):
    return [str(day.day), str(day.month), str(day.year)]


def _start(client, **data):
    """Send the first page; returns the new draft's id."""
    response = client.post("/forward-plan/manage/new/about",
                           data={"title": "Day opportunities", **data})
    assert response.status_code == 302, response.get_data(as_text=True)
    found = re.search(r"/forward-plan/manage/(\d+)/entry/categories$", response.location)
    assert found, response.location
    return int(found.group(1))


def _answers(publish_on):
    return {
        "categories": {"main_cpv_code": "85311000", "additional_cpv": "85312400",
                       "client_groups": []},
        "areas": {"areas": "Leeds, Bradford"},
        "value": {"value_min": "£1,200,000", "value_basis": "annual", "contract_months": "36",
                  "extension_months": "24"},
        "timetable": {"tender_publish_on": _date(publish_on),
                      "closing_date": _date(publish_on + timedelta(days=40)),
                      "closing_time": "2pm",
                      "contract_start_on": _date(publish_on + timedelta(days=150))},
        "route": {"procurement_route": "light_touch", "flags": ["suitable_vcse",
                                                                "consortium_welcome"],
                  "reservation": "", "accreditation_tier": "2",
                  "accreditation_requirement": "advisory"},
        "social-value": {"sv_wellbeing": "10", "sv_climate": "5"},
        "contact": {"contact_role": "Commissioning team"},
    }


def _actions(db):
    return db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "Opportunity").order_by(AuditEvent.id)).all()


# --- Walking the pages --------------------------------------------------------------------------

def test_the_old_addresses_lead_to_the_pages(client, login, people):
    login(people["officer"])
    assert client.get("/forward-plan/manage/new").location.endswith(
        "/forward-plan/manage/new/about")
    entry = _entry(people["leeds"], people["officer"], status="draft")
    assert client.get(f"/forward-plan/manage/{entry.id}/edit").location.endswith(
        f"/forward-plan/manage/{entry.id}/entry/check")
    manage = client.get(f"/forward-plan/manage/{entry.id}").get_data(as_text=True)
    assert f'href="/forward-plan/manage/{entry.id}/entry/check"' in manage


def test_each_page_saves_and_the_last_leads_to_check_your_answers(client, login, people, db):
    login(people["officer"])
    first = client.get("/forward-plan/manage/new/about").get_data(as_text=True)
    assert "page 1 of 8" in first and "What are you buying?" in first
    entry_id = _start(client, description="Activities for adults", outcomes="Friendships")
    entry = db.session.get(Opportunity, entry_id)
    assert (entry.status, entry.title, entry.description) == ("draft", "Day opportunities",
                                                              "Activities for adults")
    client_group = client.get(_page(entry_id, "categories")).get_data(as_text=True)
    group_id = re.search(r'name="client_groups" type="checkbox" value="(\d+)"', client_group)
    answers = _answers(uk_now().date() + timedelta(days=60))
    answers["categories"]["client_groups"] = [group_id.group(1)]
    for number, page in enumerate(PAGES[1:], start=1):
        response = client.post(_page(entry_id, page), data=answers[page])
        assert response.status_code == 302, (page, response.get_data(as_text=True))
        following = "check" if page == "contact" else PAGES[number + 1]
        assert response.location.endswith(_page(entry_id, following)), response.location
    db.session.expire_all()
    entry = db.session.get(Opportunity, entry_id)
    assert entry.main_cpv_code == "85311000" and [c.code for c in entry.additional_cpv] == [
        "85312400"]
    assert {a.name for a in entry.areas} == {"Leeds", "Bradford"}
    assert (entry.value_min, entry.value_basis, entry.contract_months) == (1_200_000, "annual", 36)
    assert entry.closing_at.hour == 14 and entry.suitable_vcse and entry.consortium_welcome
    assert entry.accreditation_tier == 2 and len(entry.client_groups) == 1
    assert sorted((p.theme, p.weighting) for p in entry.social_value) == [
        ("climate", 5), ("wellbeing", 10)]
    assert entry.contact_role == "Commissioning team"
    assert _actions(db) == ["opportunity.created"] + ["opportunity.updated"] * 7

    check = client.get(_page(entry_id, "check")).get_data(as_text=True)
    for shown in ("Day opportunities", "Activities for adults", "85311000", "Bradford, Leeds",
                  "£1,200,000 a year", "36 months, with up to 24 months of extensions",
                  "14:00 on", "Light touch contract", "Suitable for VCSEs",
                  "Tier 2 (established), recommended (advisory)", "Wellbeing: 10%",
                  "Commissioning team", "everything publishing needs"):
        assert shown in check, shown
    response = client.post(_page(entry_id, "check"))
    assert response.location.endswith(f"/forward-plan/manage/{entry_id}")
    page = client.get(response.location).get_data(as_text=True)
    assert "Draft saved" in page and "everything publishing needs" in page
    assert "still needs" not in page and "a main category" not in page


def test_stopping_halfway_keeps_a_draft_on_the_plan(client, login, people, db):
    login(people["officer"])
    entry_id = _start(client)
    response = client.post(_page(entry_id, "categories"),
                           data={"main_cpv_code": "85311000", "later": "1"})
    assert response.location.endswith(f"/forward-plan/manage/{entry_id}")
    page = client.get(response.location).get_data(as_text=True)
    assert "Your answers are saved" in page
    assert "still needs a description and at least one area" in page
    assert "Day opportunities" in client.get("/forward-plan/manage").get_data(as_text=True)
    assert db.session.get(Opportunity, entry_id).main_cpv_code == "85311000"


def test_the_first_page_keeps_what_was_typed_when_the_title_is_missing(client, login, people,
                                                                       db):
    login(people["officer"])
    response = client.post("/forward-plan/manage/new/about",
                           data={"title": "", "description": "Activities for adults"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Enter a title" in html
    assert 'href="#title"' in html and "Activities for adults" in html
    assert db.session.scalar(select(Opportunity.id)) is None


def test_a_mistake_keeps_every_typed_value_and_saves_nothing(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"], status="draft")
    login(people["officer"])
    response = client.post(_page(entry.id, "value"), data={
        "value_min": "lots", "contract_months": "36", "value_basis": "whole_life"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "govuk-error-summary" in html
    assert "Enter the estimated value in pounds" in html
    assert 'value="lots"' in html and 'value="36"' in html
    response = client.post(_page(entry.id, "areas"), data={"areas": "Leeds, Atlantis"})
    html = response.get_data(as_text=True)
    assert "could not find these areas: Atlantis" in html and "Leeds, Atlantis" in html
    response = client.post(_page(entry.id, "route"), data={
        "procurement_route": "open", "accreditation_tier": "2",
        "accreditation_requirement": "required", "flags": ["suitable_sme"]})
    html = response.get_data(as_text=True)
    assert "only be required for grant funding" in html
    assert re.search(r'value="suitable_sme"\s+checked', html)
    db.session.expire_all()
    entry = db.session.get(Opportunity, entry.id)
    assert entry.contract_months is None and [a.name for a in entry.areas] == ["Leeds"]
    assert entry.accreditation_tier is None and not entry.suitable_sme


def test_change_links_return_to_check_your_answers(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"], status="draft")
    login(people["officer"])
    check = client.get(_page(entry.id, "check")).get_data(as_text=True)
    for page in PAGES:
        assert f'href="{_page(entry.id, page, change=1)}"' in check, page
    form = client.get(_page(entry.id, "value", change=1)).get_data(as_text=True)
    assert f'href="{_page(entry.id, "check")}"' in form  # back to the answers
    response = client.post(_page(entry.id, "value", change=1), data={
        "value_min": "£500,000", "value_basis": "whole_life"})
    assert response.location.endswith(_page(entry.id, "check"))
    assert "£500,000 in total" in client.get(response.location).get_data(as_text=True)


def test_a_published_entry_is_changed_on_the_same_pages(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"])
    login(people["officer"])
    check = client.get(_page(entry.id, "check")).get_data(as_text=True)
    assert "Check your answers" in check and "Save draft" not in check
    assert "Back to the entry" in check
    response = client.post(_page(entry.id, "about", change=1), data={
        "title": "Carers support service", "description": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "A published entry needs a description" in html
    assert _field_error(html, "description")


def test_a_finished_entry_cannot_be_changed(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"])
    services.change_status(entry, "withdrawn", people["officer"], {"reason": "No longer needed"})
    login(people["officer"])
    response = client.get(_page(entry.id, "value"), follow_redirects=True)
    assert "can no longer be changed" in response.get_data(as_text=True)
    assert response.request.path == f"/forward-plan/manage/{entry.id}"


def test_another_organisations_draft_is_missing(client, login, people):
    entry = _entry(people["leeds"], people["officer"], status="draft")
    for person in ("york_officer", "volunteer"):
        login(people[person])
        for page in (*PAGES, "check"):
            assert client.get(_page(entry.id, page)).status_code == 404, (person, page)
            assert client.post(_page(entry.id, page), data={"title": "Taken"}).status_code == 404
    assert client.get("/forward-plan/manage/new/about").status_code == 404
    assert client.get("/forward-plan/manage/category-matches?q=carers").status_code == 404
    assert client.get(_page(entry.id, "nowhere")).status_code == 404


# --- The main category picker -------------------------------------------------------------------

def test_the_picker_finds_categories_by_words_without_javascript(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"], status="draft", main_cpv_code="")
    login(people["officer"])
    html = client.get(_page(entry.id, "categories")).get_data(as_text=True)
    assert html.count('name="main_cpv_code"') == 1  # only "choose it later" until a search
    assert 'data-module="app-cpv-picker"' in html and "js/cpv-picker.js" in html
    response = client.post(_page(entry.id, "categories"), data={
        "cpv_q": "carers", "search": "1", "additional_cpv": "85312000"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "govuk-error-summary" not in html
    assert "Support for carers" in html and 'value="85312400"' in html
    assert "85312000" in html  # what was typed elsewhere on the page stays
    db.session.expire_all()
    assert db.session.get(Opportunity, entry.id).main_cpv_code is None  # a search saves nothing
    response = client.post(_page(entry.id, "categories"), data={
        "cpv_q": "carers", "main_cpv_code": "85312400"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Opportunity, entry.id).main_cpv_code == "85312400"
    html = client.get(_page(entry.id, "categories")).get_data(as_text=True)
    assert re.search(r'value="85312400"\s+checked', html)  # the choice is shown chosen


def test_a_search_left_unchosen_asks_for_a_choice(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"], status="draft", main_cpv_code="")
    login(people["officer"])
    response = client.post(_page(entry.id, "categories"), data={"cpv_q": "mental health"})
    html = response.get_data(as_text=True)
    assert "Choose the main category from the matches" in html
    assert 'href="#main_cpv_code"' in html and 'id="main_cpv_code"' in html
    assert "Mental health support" in html
    response = client.post(_page(entry.id, "categories"), data={"cpv_q": "85323000"})
    assert response.status_code == 302  # a code typed in full is taken as it is
    db.session.expire_all()
    assert db.session.get(Opportunity, entry.id).main_cpv_code == "85323000"


def test_an_unknown_code_is_refused_on_the_picker(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"], status="draft")
    login(people["officer"])
    response = client.post(_page(entry.id, "categories"), data={"main_cpv_code": "12345678"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "not CPV codes we know" in html
    assert 'href="#main_cpv_code"' in html


def test_the_matches_follow_the_words_typed(client, login, people):
    login(people["officer"])
    response = client.get("/forward-plan/manage/category-matches",
                          query_string={"q": "mental health", "chosen": "85312000"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.index('value="85312000"') < html.index("Mental health support")
    assert re.search(r'value="85312000"\s+checked', html)
    assert re.search(r'data-picker-result="\d+ categories match ‘mental health’"', html)
    none = client.get("/forward-plan/manage/category-matches?q=zzzzqqq").get_data(as_text=True)
    assert "No categories match" in none and 'value=""' in none


# --- Dates --------------------------------------------------------------------------------------

def test_a_closing_date_before_publication_is_an_error_on_the_timetable(client, login, people,
                                                                        db):
    entry = _entry(people["leeds"], people["officer"], status="draft")
    login(people["officer"])
    response = client.post(_page(entry.id, "timetable"), data={
        "tender_publish_on": ["1", "3", "2031"], "closing_date": ["1", "2", "2031"]})
    html = response.get_data(as_text=True)
    message = "The closing date must be on or after the tender publication date"
    assert response.status_code == 200 and message in _field_error(html, "closing_date")
    assert f'<a href="#closing_date-day">{message}</a>' in html
    assert 'id="closing_date-day"' in html and 'id="closing_date-error"' in html
    assert 'value="2031"' in html
    db.session.expire_all()
    assert db.session.get(Opportunity, entry.id).closing_at is None


def test_a_date_that_is_not_real_keeps_what_was_typed(client, login, people):
    entry = _entry(people["leeds"], people["officer"], status="draft")
    login(people["officer"])
    html = client.post(_page(entry.id, "timetable"), data={
        "contract_start_on": ["31", "2", "2031"]}).get_data(as_text=True)
    assert "The contract start date must be a real date" in html
    assert 'href="#contract_start_on-day"' in html
    assert re.search(r'id="contract_start_on-day" name="contract_start_on" type="text"'
                     r'[^>]*value="31"', html)


def _example(html, field):
    hint = re.search(rf'id="{field}-hint"[^>]*>(.*?)</div>', html, re.S).group(1)
    day, month, year = re.search(r"For example, (\d+) (\d+) (\d{4})", hint).groups()
    return [day, month, year]


def test_every_example_date_on_the_timetable_is_accepted(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"], status="draft")
    login(people["officer"])
    html = client.get(_page(entry.id, "timetable")).get_data(as_text=True)
    fields = ("market_engagement_on", "tender_publish_on", "question_date", "closing_date",
              "contract_start_on")
    response = client.post(_page(entry.id, "timetable"),
                           data={field: _example(html, field) for field in fields})
    assert response.status_code == 302, response.get_data(as_text=True)


def _closed_entry(people, db):
    entry = _entry(people["leeds"], people["officer"], status="open")
    entry = db.session.get(Opportunity, entry.id)
    entry.tender_publish_on = (uk_now() - timedelta(days=30)).date()
    entry.closing_at = uk_now() - timedelta(days=1)
    db.session.commit()
    services.change_status(entry, "evaluation", people["officer"])
    return entry


def test_the_award_date_example_is_a_date_the_award_accepts(client, login, people, db):
    entry = _closed_entry(people, db)
    login(people["officer"])
    html = client.get(f"/forward-plan/manage/{entry.id}/award").get_data(as_text=True)
    assert "3 6 2027" not in html and "not in the future" in html
    response = client.post(f"/forward-plan/manage/{entry.id}/award", data={
        "awarded_on": _example(html, "awarded_on"), "winner_1_name": "Leeds Carers Trust"})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(entry)
    assert entry.status == "awarded" and entry.award.awarded_on == uk_now().date()


def test_opening_for_tenders_offers_a_closing_example_it_accepts(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"])
    login(people["officer"])
    html = client.get(f"/forward-plan/manage/{entry.id}/stage/open").get_data(as_text=True)
    response = client.post(f"/forward-plan/manage/{entry.id}/stage/open", data={
        "closing_date": _example(html, "closing_date"),
        "question_date": _example(html, "question_date"),
        "contract_start_on": _example(html, "contract_start_on")})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(entry)
    assert entry.status == "open"


def test_evaluation_before_the_closing_date_offers_to_change_it(client, login, people, db):
    closing = uk_now() + timedelta(days=20)
    entry = _entry(people["leeds"], people["officer"], status="open", closing_at=closing)
    login(people["officer"])
    html = client.get(f"/forward-plan/manage/{entry.id}/stage/evaluation").get_data(as_text=True)
    assert "Tenders closed" not in html and "still in the future" in html
    change = _page(entry.id, "timetable", then="close")
    assert f'href="{change}"' in html
    today = uk_now().date()
    response = client.post(change, data={
        "tender_publish_on": _date(today), "closing_date": _date(today),
        "closing_time": "00:00"})
    assert response.location.endswith(f"/forward-plan/manage/{entry.id}/stage/evaluation")
    html = client.get(response.location).get_data(as_text=True)
    assert "Start evaluation" in html and "Tenders closed at 00:00" in html


# --- Error summary links for dates, everywhere ----------------------------------------------------

def test_a_date_error_links_to_the_day_box_on_the_stage_pages(client, login, people):
    entry = _entry(people["leeds"], people["officer"])
    login(people["officer"])
    html = client.post(f"/forward-plan/manage/{entry.id}/stage/open", data={
        "closing_date": ["", "", ""]}).get_data(as_text=True)
    assert '<a href="#closing_date-day">Enter the closing date</a>' in html


def test_the_draft_page_does_not_ask_for_what_the_pages_filled_in(client, login, people):
    login(people["officer"])
    entry_id = _start(client, description="Activities for adults")
    answers = _answers(date(2031, 3, 1))
    for page in ("categories", "areas"):
        client.post(_page(entry_id, page), data=answers[page])
    html = client.get(f"/forward-plan/manage/{entry_id}").get_data(as_text=True)
    assert "everything publishing needs" in html and "still needs" not in html
    assert f'href="/forward-plan/{entry_id}/matches"' in html
