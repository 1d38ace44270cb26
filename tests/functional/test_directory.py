"""The public directory page: filters, sorting, search and pagination."""
import re

import pytest

from portal.organisations import directory, services

NORTH_EAST = "E12000001"
NEWCASTLE = "E08000021"
LEEDS = "E08000035"


def names(response):
    assert response.status_code == 200
    return re.findall(r'<h2 class="govuk-heading-m govuk-!-margin-bottom-1"><a [^>]*>([^<]+)</a>',
                      response.get_data(as_text=True))


@pytest.fixture
def orgs(make_org):
    newcastle = make_org("Tyneside Advice", description="Debt and benefits advice in Newcastle",
                         latest_income=50_000, income_band="small")
    services.add_area(newcastle, NEWCASTLE, None)
    services.add_category(newcastle, "85312310", None)
    leeds = make_org("Leeds Counselling", description="Counselling for young people",
                     latest_income=2_500_000, income_band="large")
    services.add_area(leeds, LEEDS, None)
    services.add_category(leeds, "85312320", None)
    council = make_org("Leeds City Council", org_type="commissioner",
                       description="Commissioner of adult social care")
    services.add_area(council, LEEDS, None)
    make_org("Closed charity", status="suspended", description="Counselling")
    return newcastle, leeds, council


def test_directory_lists_active_organisations_by_name(client, orgs):
    response = client.get("/organisations")
    assert names(response) == ["Leeds City Council", "Leeds Counselling", "Tyneside Advice"]
    page = response.get_data(as_text=True)
    assert "3 organisations found" in page
    assert "<dd>Newcastle upon Tyne</dd>" in page and "<dd>Guidance services</dd>" in page


def test_filter_by_type(client, orgs):
    assert names(client.get("/organisations?type=commissioner")) == ["Leeds City Council"]


def test_filter_by_region_expands_to_authorities(client, orgs):
    assert names(client.get(f"/organisations?area={NORTH_EAST}")) == ["Tyneside Advice"]
    assert names(client.get(f"/organisations?area={LEEDS}")) == ["Leeds City Council",
                                                                  "Leeds Counselling"]


def test_filter_by_category_includes_more_specific_codes(client, orgs):
    assert names(client.get("/organisations?cpv=85312000")) == ["Leeds Counselling",
                                                                "Tyneside Advice"]
    assert names(client.get("/organisations?cpv=85312320")) == ["Leeds Counselling"]
    response = client.get("/organisations?cpv=85312320")
    assert 'value="85312320" selected' in response.get_data(as_text=True)


def test_filter_by_income_band(client, orgs):
    assert names(client.get("/organisations?income_band=large")) == ["Leeds Counselling"]


def test_free_text_with_filters(client, orgs):
    assert names(client.get("/organisations?q=counselling")) == ["Leeds Counselling"]
    assert names(client.get("/organisations?q=leeds&type=commissioner")) == ["Leeds City Council"]


def test_sorting(client, orgs):
    assert names(client.get("/organisations?sort=name_desc")) == [
        "Tyneside Advice", "Leeds Counselling", "Leeds City Council"]
    assert names(client.get("/organisations?sort=income")) == [
        "Leeds Counselling", "Tyneside Advice", "Leeds City Council"]


def test_empty_state(client, orgs):
    response = client.get("/organisations?q=zebra+husbandry")
    page = response.get_data(as_text=True)
    assert names(response) == [] and "No organisations found" in page
    assert "There are no organisations that match your search" in page


def test_bad_filters_are_reported_and_left_out(client, orgs):
    response = client.get("/organisations?type=pirates&income_band=huge")
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and "Choose a type of organisation from the list" in page
    assert "Choose an income band from the list" in page
    assert len(names(response)) == 3
    response = client.get("/organisations?type=commissioner&cpv=00000001")
    assert "Enter an 8-digit CPV code" in response.get_data(as_text=True)
    assert names(response) == ["Leeds City Council"]


def test_pagination_keeps_filters(client, make_org):
    for n in range(45):
        make_org(f"Group {n:02d}", org_type="vcse")
    make_org("A council", org_type="commissioner")
    first = client.get("/organisations?type=vcse")
    assert names(first)[:2] == ["Group 00", "Group 01"] and len(names(first)) == 20
    page = first.get_data(as_text=True)
    assert "45 organisations found, showing 1 to 20" in page
    assert "govuk-pagination" in page and "type=vcse" in page and "page=2" in page
    third = client.get("/organisations?type=vcse&page=3")
    assert names(third) == ["Group 40", "Group 41", "Group 42", "Group 43", "Group 44"]
    assert names(client.get("/organisations?type=vcse&page=99")) == []
    assert names(client.get("/organisations?type=vcse&page=abc"))[0] == "Group 00"


def test_search_results_page_in_relevance_order(client, make_org):
    for n in range(25):
        make_org(f"Food project {n:02d}", description="Community food bank " * (1 + n % 3))
    first = names(client.get("/organisations?q=food+bank"))
    second = names(client.get("/organisations?q=food+bank&page=2"))
    assert len(first) == 20 and len(second) == 5 and not set(first) & set(second)


def test_home_page_counts_and_links(client, orgs):
    page = client.get("/").get_data(as_text=True)
    assert "/organisations?type=vcse" in page and "/register" in page and "/sign-in" in page
    assert re.search(r'app-count__number">2<', page)
    assert re.search(r'app-count__number">1<', page)


@pytest.mark.parametrize("path, expected", [
    ("/about-the-data", "Open Government Licence"),
    ("/accessibility", "Accessibility statement"),
])
def test_information_pages(client, path, expected):
    response = client.get(path)
    assert response.status_code == 200 and expected in response.get_data(as_text=True)


def test_facet_counts_follow_a_new_organisation_at_once(app, db, make_org):
    make_org(name="Counted Once Trust")

    def vcse_count():
        with app.test_request_context():
            page = directory.browse_directory({})
        return next(o.count for o in page.facets["type"] if o.value == "vcse")

    before = vcse_count()
    assert vcse_count() == before  # the second look comes from the cache
    make_org(name="Counted Twice Trust")
    assert vcse_count() == before + 1
