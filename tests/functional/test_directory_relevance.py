"""The directory's search: best match first whenever there is search text (also when the sort
menu still held the order of the page before), and a place named in the search read as an
area, so "mental health Tower Hamlets" lists mental health work in Tower Hamlets first."""
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.extensions import db
from portal.organisations import services
from portal.organisations.directory import read_search_text
from portal.reference.models import Area

TOWER_HAMLETS = "E09000030"
LONDON = "E12000007"
LEEDS = "E08000035"
READING = "E06000038"


def names(response):
    assert response.status_code == 200
    return [html.unescape(name) for name in re.findall(
        r'<h2 class="govuk-heading-m govuk-!-margin-bottom-1"><a [^>]*>([^<]+)</a>',
        response.get_data(as_text=True))]


def sort_menu(response):
    """[(value, selected?)] of the sort menu."""
    body = response.get_data(as_text=True)
    menu = re.search(r'<select[^>]*name="sort"[^>]*>(.*?)</select>', body, re.S).group(1)
    return [(value, bool(chosen)) for value, chosen in
            re.findall(r'<option value="([^"]*)"( selected)?', menu)]


def selected_sort(response):
    return [value for value, chosen in sort_menu(response) if chosen]


def redirected_args(response):
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/organisations"
    return parse_qs(location.query)


@pytest.fixture
def directory(make_org):
    def org(name, areas, description):
        made = make_org(name, description=description)
        for code in areas:
            services.add_area(made, code, None)
        return made

    def region_wide(name, code, description):
        """Listing the region itself (as imported profiles do), not each council in it."""
        made = make_org(name, description=description)
        made.areas = [db.session.get(Area, code)]
        db.session.commit()
        return made

    return {
        # Listed first by name, and nothing to do with the search.
        "cancer": org("1 In 3 Cancer Support Group", [LEEDS], "Cancer support in Leeds"),
        "leeds_mind": org("Aire Mental Health", [LEEDS], "Mental health recovery in Leeds"),
        "bow": org("Bow Wellbeing Project", [TOWER_HAMLETS],
                   "Mental health peer support and counselling"),
        "london": region_wide("City Minds Network", LONDON, "Mental health advice across London"),
        "sports": org("Stepney Youth Sports", [TOWER_HAMLETS], "Football and boxing clubs"),
        "books": org("Book Circle", [LEEDS], "Reading groups for adults learning English"),
        "thames": org("Thames Valley Advice", [READING], "Debt advice"),
    }


def test_directory_search_defaults_to_best_match(client, directory):
    response = client.get("/organisations?q=mental+health")
    assert names(response)[0] != "1 In 3 Cancer Support Group"
    assert set(names(response)) == {"Aire Mental Health", "Bow Wellbeing Project",
                                    "City Minds Network"}
    assert selected_sort(response) == ["relevance"]
    assert ("relevance", True) == sort_menu(response)[0]


def test_without_a_search_the_list_stays_by_name_and_best_match_is_not_offered(client,
                                                                              directory):
    response = client.get("/organisations")
    assert names(response)[0] == "1 In 3 Cancer Support Group"
    assert selected_sort(response) == ["name"]
    assert "relevance" not in [value for value, _chosen in sort_menu(response)]
    # A best-match order asked for without search text is the list by name.
    assert names(client.get("/organisations?sort=relevance")) == names(response)


def test_a_sort_kept_from_browsing_gives_way_to_best_match_for_a_new_search(client, directory):
    """The menu said "Name (A to Z)" on the page without search text; typing a search and
    applying the filters must not keep that order."""
    for earlier in ("name", "income"):
        submitted = client.get("/organisations", query_string={
            "q": "mental health Tower Hamlets", "type": "", "sort": earlier, "shown_q": "",
            "shown_sort": earlier})
        assert redirected_args(submitted) == {"q": ["mental health Tower Hamlets"]}
    shown = client.get(submitted.headers["Location"])
    assert selected_sort(shown) == ["relevance"]
    assert names(shown)[0] == "Bow Wellbeing Project"


def test_changing_the_search_again_goes_back_to_best_match(client, directory):
    submitted = client.get("/organisations", query_string={
        "q": "counselling", "sort": "name", "shown_q": "mental health", "shown_sort": "name"})
    assert redirected_args(submitted) == {"q": ["counselling"]}


def test_a_sort_chosen_with_the_search_is_kept(client, directory):
    # Chosen together with a new search.
    submitted = client.get("/organisations", query_string={
        "q": "mental health", "sort": "name_desc", "shown_q": "", "shown_sort": "name"})
    assert redirected_args(submitted) == {"q": ["mental health"], "sort": ["name_desc"]}
    shown = client.get(submitted.headers["Location"])
    assert names(shown) == ["City Minds Network", "Bow Wellbeing Project", "Aire Mental Health"]
    assert selected_sort(shown) == ["name_desc"]
    # Chosen for the same search.
    submitted = client.get("/organisations", query_string={
        "q": "mental health", "sort": "name", "shown_q": "mental health",
        "shown_sort": "relevance"})
    assert redirected_args(submitted) == {"q": ["mental health"], "sort": ["name"]}
    # The same search again with filters changed keeps the order chosen for it.
    submitted = client.get("/organisations", query_string={
        "q": "mental health", "type": "vcse", "sort": "name", "shown_q": "mental health",
        "shown_sort": "name"})
    assert redirected_args(submitted) == {"q": ["mental health"], "type": ["vcse"],
                                          "sort": ["name"]}


def test_clearing_the_search_goes_back_to_the_list_by_name(client, directory):
    submitted = client.get("/organisations", query_string={
        "q": "", "sort": "relevance", "shown_q": "mental health", "shown_sort": "relevance"})
    assert redirected_args(submitted) == {}


def test_a_link_with_an_order_is_shown_as_asked(client, directory):
    """Links (pages of results, bookmarks) carry no record of the form: their order stands."""
    response = client.get("/organisations?q=mental+health&sort=name")
    assert names(response) == ["Aire Mental Health", "Bow Wellbeing Project",
                               "City Minds Network"]
    assert selected_sort(response) == ["name"]


def test_the_form_remembers_what_the_page_showed(client, directory):
    body = client.get("/organisations?q=mental+health").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="shown_q"[^>]*value="mental health"', body)
    assert re.search(r'<input[^>]*name="shown_sort"[^>]*value="relevance"', body)


@pytest.mark.parametrize("typed", ["mental health Tower Hamlets", "mental health tower hamlets",
                                   "Mental health in the London Borough of Tower Hamlets"])
def test_mental_health_tower_hamlets_lists_local_mental_health_work_first(client, directory,
                                                                          typed):
    found = names(client.get("/organisations", query_string={"q": typed}))
    # Working in Tower Hamlets, then London-wide, then elsewhere; only mental health work.
    assert found == ["Bow Wellbeing Project", "City Minds Network", "Aire Mental Health"]


@pytest.mark.parametrize("typed", ["Tower Hamlets", "charities in Tower Hamlets"])
def test_a_place_alone_finds_the_organisations_working_there(client, directory, typed):
    found = names(client.get("/organisations", query_string={"q": typed}))
    assert found == ["Bow Wellbeing Project", "Stepney Youth Sports", "City Minds Network"]


def test_the_api_reads_places_the_same_way(client, directory):
    body = client.get("/api/v1/organisations?q=mental+health+Tower+Hamlets").get_json()
    assert [item["name"] for item in body["items"]] == [
        "Bow Wellbeing Project", "City Minds Network", "Aire Mental Health"]


def test_everyday_words_in_lower_case_stay_words(client, directory):
    assert names(client.get("/organisations?q=reading+groups")) == ["Book Circle"]
    # With a capital letter, the town.
    assert names(client.get("/organisations?q=Reading")) == ["Thames Valley Advice"]


def test_reading_places_out_of_search_text(app, db):
    read = read_search_text("Youth work St. Helens")
    assert read.words == "Youth work" and read.places == ("St. Helens",)
    assert read_search_text("carers in Brighton & Hove").words == "carers in"
    # A nation or more is no help in ordering results: the name stays a word ("Age UK").
    assert read_search_text("Age UK").words == "Age UK"
    assert read_search_text("befriend*").words == "befriend*"
    london = read_search_text("London")
    assert TOWER_HAMLETS in london.inside and LONDON in london.inside
    tower_hamlets = read_search_text("Tower Hamlets")
    assert tower_hamlets.inside == {TOWER_HAMLETS} and tower_hamlets.around == {LONDON}
