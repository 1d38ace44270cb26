"""The forward plan's search: ranked, best match first (BM25 over the title, worth most, the
description and the names of the categories), entries holding any of the words; a place named
in the search read as an area; an option to require every word; every filter, stage and
visibility rule still applied."""
import html
import os
import re
import shutil
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from whoosh import index as whoosh_index

from portal.extensions import db
from portal.pipeline import services as pipeline
from portal.pipeline.indexing import (
    OPPORTUNITY_SCHEMA, load_opportunities, opportunity_documents,
)
from portal.pipeline.models import Lot, Opportunity
from portal.reference.models import Area
from portal.search import services as search
from portal.search.analysis import terms
from portal.search.index import SearchIndex
from portal.search.opportunities import OpportunityIndex
from portal.search.schema import Schema

LONDON = "E12000007"

FIRE_SYSTEMS = (
    "The provision of the maintenance of the fire detection and extinguishing systems within "
    "the Association's housing stock located throughout Scotland. This includes fire alarms, "
    "fire extinguishers, sprinklers, dry risers, disable refuge, smoke control, hose reel and "
    "emergency lighting systems. The contract is being split into two lots.")


@pytest.fixture
def buyer(make_org, make_user):
    council = make_org("Northfield Borough Council", org_type="commissioner")
    return council, make_user(council, email="officer@northfield.example")


@pytest.fixture
def entry(buyer):
    council, officer = buyer

    def make(title, description="", status="planned", cpv="85312000", areas="Leeds", **more):
        made = pipeline.create_opportunity(council, {
            "title": title, "description": description, "main_cpv_code": cpv, "areas": areas,
            "value_min": 400_000, "value_basis": "whole_life", "suitable_vcse": True, **more},
            officer)
        for step in {"draft": [], "planned": ["planned"], "open": ["planned", "open"],
                     "withdrawn": ["planned", "withdrawn"]}[status]:
            extra = {"closing_at": pipeline.uk_now() + timedelta(days=30), "reason": "Not needed"}
            pipeline.change_status(made, step, officer, extra)
        return made
    return make


def titles(client, url, **args):
    response = client.get(url, query_string=args)
    assert response.status_code == 200
    return [html.unescape(title) for title in re.findall(
        r'<a class="govuk-link" href="/forward-plan/\d+">([^<]+)</a>',
        response.get_data(as_text=True))]


def listed(client, **args):
    return titles(client, "/forward-plan", **args)


def found_count(client, **args):
    body = client.get("/forward-plan", query_string=args).get_data(as_text=True)
    if "No entries found" in body:
        return 0
    return int(re.search(r"([\d,]+) entr(?:ies|y) found", body).group(1).replace(",", ""))


def selected_sort(client, **args):
    body = client.get("/forward-plan", query_string=args).get_data(as_text=True)
    menu = re.search(r'<select[^>]*name="sort"[^>]*>(.*?)</select>', body, re.S).group(1)
    return re.findall(r'<option value="([^"]*)" selected', menu), \
        re.findall(r'<option value="([^"]*)"', menu)


# --- Finding entries -----------------------------------------------------------------------------

def test_forward_plan_youth_employment_finds_entries(client, entry):
    """No entry holds both words: each holding one is still found, the title counting most."""
    entry("Youth clubs", "Evening sessions for teenagers")
    entry("Adult learning", "Courses leading to employment")
    entry("Employment support", "Job coaching for adults")
    entry("Road resurfacing", "Resurfacing roads")
    found = listed(client, q="youth employment")
    assert set(found) == {"Youth clubs", "Adult learning", "Employment support"}
    assert found.index("Employment support") < found.index("Adult learning")


def test_entries_holding_more_of_the_words_come_first(client, entry):
    entry("Youth clubs", "Evening sessions for teenagers")
    entry("Youth employment hub", "Routes into work for school leavers")
    entry("Employment support", "Job coaching for adults")
    assert listed(client, q="youth employment")[0] == "Youth employment hub"


def test_refuge_does_not_return_fire_systems_before_a_refuge(client, entry, buyer):
    """The fire contract is found by the word itself: "disable refuge" (a refuge point for
    evacuating disabled people), in its description and, as "disables refuges", in both lots.
    Neither stemming nor a category name brings it in; ranking puts the refuge first, though
    the fire contract was updated last (the list's order before there was a best match)."""
    entry("Domestic abuse refuge", "Safe accommodation and support for women and children "
          "escaping domestic abuse", cpv="85311000", areas="Bradford")
    entry("Refugee resettlement", "Housing and support for refugees")
    fire = entry("Fire Systems Maintenance Contract", FIRE_SYSTEMS, cpv="50413200",
                 areas="Glasgow City")
    for number in (1, 2):
        db.session.add(Lot(opportunity_id=fire.id, number=number,
                           title=f"Fire Systems Maintenance Contract - lot {number}",
                           description="This includes fire alarms, sprinklers, dry risers, "
                                       "disables refuges and emergency lighting systems."))
    db.session.commit()
    assert listed(client, q="refuge") == ["Domestic abuse refuge", "Fire Systems Maintenance "
                                                                   "Contract"]
    assert listed(client, q="domestic abuse refuge")[0] == "Domestic abuse refuge"
    # Why the fire contract matched: its own words, and "refuges" is the same word.
    assert terms("refuges") == terms("refuge") != terms("refugees")
    assert "refug" not in terms(db.session.get(Opportunity, fire.id).main_cpv.description)


def test_tower_hamlets_finds_the_entries_listed_there(client, entry):
    entry("Community cafe", "A cafe run with volunteers", areas="Tower Hamlets")
    entry("Carers breaks", "Short breaks for carers", areas="Leeds")
    entry("Advice hub", "Benefits advice at the Tower Hamlets library", areas="Newham")
    # Listed there first, then naming it in the text.
    assert listed(client, q="Tower Hamlets") == ["Community cafe", "Advice hub"]
    assert listed(client, q="tower hamlets") == ["Community cafe", "Advice hub"]


def test_a_place_in_the_search_ranks_the_entries_there_first(client, entry):
    entry("Youth employment in Leeds", "Youth employment routes", areas="Leeds")
    entry("Employment support", "Job coaching", areas="Tower Hamlets")
    wide = entry("London youth network", "Youth clubs across the capital", areas="Newham")
    wide = db.session.get(Opportunity, wide.id)
    wide.areas = [db.session.get(Area, LONDON)]  # the region itself, as imported notices list it
    db.session.commit()
    entry("Road resurfacing", "Resurfacing roads", areas="Tower Hamlets")
    # There first, then covering it from London, then elsewhere; the place's words are not
    # needed in the text, and an entry with none of the other words is not found.
    assert listed(client, q="youth employment Tower Hamlets") == [
        "Employment support", "London youth network", "Youth employment in Leeds"]


def test_category_names_are_searched(client, entry):
    entry("Community support", "Help at home", cpv="85312320")  # Counselling services
    entry("Counselling for carers", "Talking therapy", cpv="85312000")
    assert listed(client, q="counselling") == ["Counselling for carers", "Community support"]


def test_every_word_can_be_required(client, entry):
    entry("Youth clubs", "Evening sessions for teenagers")
    entry("Youth employment hub", "Routes into work for school leavers")
    entry("Employment support", "Job coaching for youth workers and adults")
    assert listed(client, q="youth employment", every_word="1") == [
        "Youth employment hub", "Employment support"]
    body = client.get("/forward-plan?q=youth+employment&every_word=1").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="every_word"[^>]*value="1"[^>]*checked', body)
    assert 'Only show entries containing every word' in body
    # A place must then be where the entry is, or be named in it.
    entry("Youth employment in Newham", "Youth employment routes", areas="Newham")
    assert listed(client, q="youth employment Newham", every_word="1") == [
        "Youth employment in Newham"]


def test_the_api_still_requires_every_word(client, entry):
    entry("Youth clubs", "Evening sessions for teenagers")
    entry("Employment support", "Job coaching for adults")
    assert client.get("/api/v1/opportunities?q=youth+employment").get_json()["total"] == 0
    assert client.get("/api/v1/opportunities?q=youth").get_json()["total"] == 1


# --- Order ---------------------------------------------------------------------------------------

def test_best_match_is_the_default_order_with_a_search(client, entry):
    entry("Employment support", "Job coaching")
    entry("Youth employment hub", "Youth employment routes")  # updated last
    entry("Zebra crossings", "Youth employment at the crossing")
    assert selected_sort(client, q="youth employment") == (
        ["relevance"], ["relevance", "updated", "closing", "publish", "value", "title"])
    assert listed(client, q="youth employment")[0] == "Youth employment hub"
    # Other orders are still there.
    assert listed(client, q="youth employment", sort="title") == [
        "Employment support", "Youth employment hub", "Zebra crossings"]
    # Without a search: the most recently updated first, and no best match on offer.
    assert selected_sort(client) == (["updated"], ["updated", "closing", "publish", "value",
                                                   "title"])
    assert listed(client)[0] == "Zebra crossings"


def test_a_sort_kept_from_browsing_gives_way_to_best_match(client, entry):
    entry("Employment support", "Job coaching")
    response = client.get("/forward-plan", query_string={
        "q": "employment", "sort": "updated", "shown_q": "", "shown_sort": "updated",
        "options": "vcse", "status": ""})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/forward-plan"
    assert parse_qs(location.query) == {"q": ["employment"], "options": ["vcse"]}
    response = client.get("/forward-plan", query_string={
        "q": "employment", "sort": "closing", "shown_q": "", "shown_sort": "updated"})
    assert parse_qs(urlsplit(response.headers["Location"]).query) == {
        "q": ["employment"], "sort": ["closing"]}


# --- Filters, stages, pages and counts -----------------------------------------------------------

def test_search_keeps_every_filter_and_never_shows_drafts(client, entry, login, buyer):
    entry("Youth employment draft", "Youth employment", status="draft")
    entry("Youth employment withdrawn", "Youth employment", status="withdrawn")
    entry("Youth employment open", "Youth employment", status="open")
    entry("Youth employment in Leeds", "Youth employment", areas="Leeds")
    entry("Youth employment in York", "Youth employment", areas="York")
    assert set(listed(client, q="youth employment")) == {
        "Youth employment open", "Youth employment in Leeds", "Youth employment in York"}
    assert listed(client, q="youth employment", status="open") == ["Youth employment open"]
    assert listed(client, q="youth employment", status="withdrawn") == [
        "Youth employment withdrawn"]
    assert listed(client, q="youth employment", area="E08000035") == [
        "Youth employment open", "Youth employment in Leeds"]
    # Not even to the buyer who wrote the draft, on the public list.
    login(buyer[1])
    assert "Youth employment draft" not in listed(client, q="youth employment draft")


def test_pages_and_counts_follow_the_ranked_search(client, entry):
    for n in range(23):
        entry(f"Employment project {n:02d}", "Employment " * (1 + n % 3))
    entry("Road resurfacing", "Resurfacing roads")
    assert found_count(client, q="employment") == 23
    first = listed(client, q="employment")
    second = listed(client, q="employment", page="2")
    assert len(first) == 20 and len(second) == 3 and not set(first) & set(second)
    body = client.get("/forward-plan?q=employment").get_data(as_text=True)
    assert "23 entries found, showing 1 to 20" in body and "Any current stage (23)" in body


def test_the_timeline_finds_what_the_list_finds(client, entry):
    entry("Youth clubs", "Evening sessions", tender_publish_on=(
        pipeline.uk_now() + timedelta(days=60)).date())
    entry("Road resurfacing", "Resurfacing roads", tender_publish_on=(
        pipeline.uk_now() + timedelta(days=60)).date())
    body = client.get("/forward-plan/timeline?q=youth+employment").get_data(as_text=True)
    assert "Youth clubs" in body and "Road resurfacing" not in body


# --- The index -----------------------------------------------------------------------------------

def _write_old_index(directory, documents):
    """A forward-plan index as written before the names of categories were searched."""
    old = Schema(**{name: OPPORTUNITY_SCHEMA[name] for name in OPPORTUNITY_SCHEMA.names()
                    if name != "categories" and not name.startswith("spell")})
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    writer = whoosh_index.create_in(directory, old, indexname="opportunities").writer()
    for document in documents:
        writer.add_document(**{k: v for k, v in document.items() if k in old.names()})
    writer.commit()


def test_an_index_built_before_categories_were_searched_is_rebuilt(app, db, entry, tmp_path):
    """An instance kept from before (`make run` again, which runs `flask search rebuild
    --if-needed`) finds its forward-plan index out of date, though it holds every entry, and
    rebuilds it."""
    made = entry("Community support", "Help at home", cpv="85312320")  # Counselling services
    directory = str(tmp_path / "search")
    originals = {name: app.extensions.get(name) for name in ("search_index", "opportunity_index")}
    try:
        app.extensions["search_index"] = SearchIndex(directory)
        app.extensions["opportunity_index"] = OpportunityIndex(directory)
        search.rebuild()
        _write_old_index(directory + "-opportunities",
                         opportunity_documents(load_opportunities(db.session)))
        app.extensions["opportunity_index"] = OpportunityIndex(directory)  # a new process
        result = app.test_cli_runner().invoke(args=["search", "rebuild", "--if-needed"])
        assert result.exit_code == 0 and "Indexed" in result.output
        assert search.rank_opportunity_ids("counselling") == [made.id]
        result = app.test_cli_runner().invoke(args=["search", "rebuild", "--if-needed"])
        assert "up to date" in result.output
    finally:
        for name, index in originals.items():
            if index is None:
                app.extensions.pop(name, None)
            else:
                app.extensions[name] = index
