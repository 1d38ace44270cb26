"""Model rules and services for organisation profiles, pickers and the directory."""
from datetime import date

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from portal.core.audit import AuditEvent
from portal.core.exceptions import AdminOnly, DomainError, NotFound
from portal.extensions import db as _db
from portal.organisations import directory, services
from portal.organisations.forms import parse_pounds
from portal.organisations.models import (
    Organisation, income_band_for, normalise_charity_number, normalise_company_number,
    normalise_postcode, normalise_website,
)
from portal.reference.models import Area

NORTH_EAST = "E12000001"
KENT = "E10000016"
NEWCASTLE = "E08000021"
LEEDS = "E08000035"


def authorities_in(column, code):
    return set(_db.session.scalars(
        select(Area.code).where(Area.kind == "authority", column == code)))


def audit_events(action):
    return _db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


# --- Model rules ----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("1234567", "1234567"), (" 123456 ", "123456"), ("1234567-1", "1234567-1"),
    ("sc012345", "SC012345"), ("NIC 100002", "NIC100002"), ("", None), (None, None),
])
def test_charity_number_formats(raw, expected):
    assert normalise_charity_number(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "12345678", "SC12345", "ABC", "NIC1000021"])
def test_bad_charity_numbers_are_refused(raw):
    with pytest.raises(DomainError) as error:
        normalise_charity_number(raw)
    assert error.value.field == "charity_number"


@pytest.mark.parametrize("raw, expected", [
    ("1234567", "01234567"), ("01234567", "01234567"), ("sc123456", "SC123456"),
    ("OC 301234", "OC301234"), ("", None),
])
def test_company_number_formats(raw, expected):
    assert normalise_company_number(raw) == expected


@pytest.mark.parametrize("raw", ["123456789", "XX123456", "SC12345", "ABCDEFGH"])
def test_bad_company_numbers_are_refused(raw):
    with pytest.raises(DomainError) as error:
        normalise_company_number(raw)
    assert error.value.field == "company_number"


@pytest.mark.parametrize("raw, expected", [
    ("sw1a1aa", "SW1A 1AA"), ("BT1  5GS", "BT1 5GS"), ("m1 1ae", "M1 1AE"), ("", None),
])
def test_postcode_formats(raw, expected):
    assert normalise_postcode(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "SW1A", "not a postcode", "SW1A 1A"])
def test_bad_postcodes_are_refused(raw):
    with pytest.raises(DomainError) as error:
        normalise_postcode(raw)
    assert error.value.field == "postcode"


@pytest.mark.parametrize("raw, expected", [
    ("www.example.org.uk", "https://www.example.org.uk"),
    (" http://example.org:8080/a?b=1#c ", "http://example.org:8080/a?b=1#c"),
    ("https://cymru.llyw.example/ŵ", "https://cymru.llyw.example/ŵ"),
    ("münchen.example", "https://münchen.example"), ("", None), (None, None),
])
def test_website_formats(raw, expected):
    assert normalise_website(raw) == expected


@pytest.mark.parametrize("raw", [
    "http://[::1", "http://ex[ample.org", "http://[::1]", "http://example.org\nfoo",
    "http://example.org\x00", "http://example.org:99999", "http://example.org:0",
    "http://example.org:port", "not a website", "javascript:alert(1)", "ftp://example.org",
    "http://localhost", "http://-bad-.example", "http://a..example", "http://you@example.org",
    "http://exa\u202emple.org", "www.example.org/" + "a" * 300,
])
def test_bad_websites_are_refused_not_crashed_on(raw):
    with pytest.raises(DomainError) as error:
        normalise_website(raw)
    assert error.value.field == "website"


def test_update_profile_refuses_a_bad_website(ctx, make_org):
    org = make_org("Riverside", website="https://riverside.example")
    with pytest.raises(DomainError) as error:
        services.update_profile(org, {"website": "http://[::1"}, None)
    assert error.value.field == "website"
    assert _db.session.get(Organisation, org.id).website == "https://riverside.example"


@pytest.mark.parametrize("amount, band", [
    (0, "micro"), (9_999, "micro"), (10_000, "small"), (99_999, "small"), (100_000, "medium"),
    (999_999, "medium"), (1_000_000, "large"), (10_000_000, "major"), (250_000_000, "major"),
])
def test_income_band_is_derived_from_income(amount, band):
    assert income_band_for(amount) == band


def test_set_income_band_follows_the_figure():
    org = Organisation(name="x")
    org.set_income(50_000, "major")
    assert org.income_band == "small"
    org.set_income(None, "medium")
    assert (org.latest_income, org.income_band) == (None, "medium")
    with pytest.raises(DomainError):
        org.set_income(-1)
    with pytest.raises(DomainError):
        org.set_income(None, "enormous")


def test_legal_form_must_fit_the_type():
    org = Organisation(name="x")
    org.set_type("vcse", "cio")
    assert org.legal_form == "cio"
    with pytest.raises(DomainError) as error:
        org.set_type("vcse", "council")
    assert error.value.field == "legal_form"
    assert org.legal_form == "cio"


@pytest.mark.parametrize("text, pounds", [
    ("£12,500", 12_500), ("12500", 12_500), (" £ 1,000,000 ", 1_000_000), ("12500.99", 12_500),
    ("", None), (None, None),
])
def test_parse_pounds_accepts_common_ways_of_writing_money(text, pounds):
    assert parse_pounds(text) == pounds


@pytest.mark.parametrize("text", ["twelve", "-5", "£12.5.0", "1e6", "12,50p", "10000000000000"])
def test_parse_pounds_refuses_anything_else(text):
    with pytest.raises(ValueError):
        parse_pounds(text)


# --- Access -------------------------------------------------------------------------------------

def test_only_the_organisation_s_admins_and_site_admins_can_edit(make_org, make_user):
    org, other = make_org(), make_org()
    org_admin, outsider = make_user(org, role="admin", name="Ada Admin"), make_user(other)
    member = make_user(org, role="member")
    admin = make_user(site_admin=True)
    assert services.get_editable_organisation(org.id, org_admin) is org
    assert services.get_editable_organisation(org.id, admin) is org
    with pytest.raises(AdminOnly) as refused:
        services.get_editable_organisation(org.id, member)
    assert refused.value.admin_names == ["Ada Admin"]
    with pytest.raises(NotFound):
        services.get_editable_organisation(org.id, outsider)
    with pytest.raises(NotFound):
        services.get_editable_organisation(org.id + 999, admin)


def test_suspended_organisations_are_hidden_except_from_site_admins(make_org, make_user):
    org = make_org(status="suspended")
    with pytest.raises(NotFound):
        services.get_public_organisation(org.id)
    assert services.get_public_organisation(org.id, make_user(site_admin=True)) is org


# --- Main details -------------------------------------------------------------------------------

def test_update_profile_normalises_and_records_changed_fields(make_org, make_user):
    org = make_org("Old name")
    user = make_user(org)
    changed = services.update_profile(org, {
        "name": "  New name ", "charity_number": "sc012345", "postcode": "ls11ur",
        "latest_income": 250_000, "income_band": "micro", "staff_count": 4, "legal_form": "cio",
    }, user)
    assert org.name == "New name"
    assert (org.charity_number, org.postcode) == ("SC012345", "LS1 1UR")
    assert (org.latest_income, org.income_band) == (250_000, "medium")
    [event] = audit_events("organisation.updated")
    assert set(event.details["fields"]) == set(changed) == {
        "name", "charity_number", "postcode", "latest_income", "income_band", "staff_count",
        "legal_form"}
    assert event.actor_id == user.id and event.organisation_id == org.id


def test_update_profile_without_changes_records_nothing(make_org, make_user):
    org = make_org("Same")
    assert services.update_profile(org, {"name": "Same"}, make_user(org)) == []
    assert audit_events("organisation.updated") == []


@pytest.mark.parametrize("data, field", [
    ({"charity_number": "12"}, "charity_number"),
    ({"company_number": "ZZ999999"}, "company_number"),
    ({"postcode": "nowhere"}, "postcode"),
    ({"legal_form": "council"}, "legal_form"),
    ({"name": "   "}, "name"),
    ({"staff_count": -3}, "staff_count"),
    ({"latest_income": -10}, "latest_income"),
])
def test_update_profile_refuses_broken_rules_and_changes_nothing(make_org, make_user, db, data, field):
    org = make_org("Unchanged", charity_number="1234567")
    with pytest.raises(DomainError) as error:
        services.update_profile(org, {"name": "Changed", **data}, make_user(org))
    assert error.value.field == field
    fresh = db.session.get(Organisation, org.id)
    assert (fresh.name, fresh.charity_number) == ("Unchanged", "1234567")
    assert audit_events("organisation.updated") == []


# --- Categories ---------------------------------------------------------------------------------

def test_add_and_remove_category(make_org, make_user):
    org = make_org()
    user = make_user(org)
    before = org.updated_at
    cpv, added = services.add_category(org, "85311000", user)
    assert added and [c.code for c in org.cpv_codes] == ["85311000"]
    assert org.updated_at >= before
    assert services.add_category(org, "85311000", user)[1] is False
    assert services.remove_category(org, "85311000", user)[1] is True
    assert org.cpv_codes == []
    assert [e.details["code"] for e in audit_events("organisation.category_added")] == ["85311000"]
    with pytest.raises(DomainError):
        services.add_category(org, "99999999", user)


def test_category_picker_browses_the_hierarchy(make_org):
    org = make_org()
    top = services.category_picker(org)
    assert len(top.results) == 45 and top.parent is None
    group = services.category_picker(org, parent="85300000")
    assert group.parent.code == "85300000"
    assert [c.code for c in group.breadcrumbs] == ["85000000"]
    assert {c.code for c in group.results} >= {"85310000", "85320000"}
    assert group.child_counts["85310000"] > 0
    social = services.category_picker(org, social=True)
    assert len(social.results) == 115 and all(c.is_social_service for c in social.results)
    found = services.category_picker(org, q="counselling")
    assert found.mode == "search" and "85312320" in {c.code for c in found.results}


# --- Areas --------------------------------------------------------------------------------------

def test_adding_a_region_adds_each_of_its_authorities(make_org, make_user):
    org = make_org()
    area, count = services.add_area(org, NORTH_EAST, make_user(org))
    expected = authorities_in(Area.region_code, NORTH_EAST)
    assert count == len(expected) == 12
    assert {a.code for a in org.areas} == expected
    assert services.add_area(org, NEWCASTLE, None)[1] == 0
    [event] = audit_events("organisation.areas_added")
    assert event.details["via"] == NORTH_EAST and len(event.details["codes"]) == 12


def test_adding_a_county_or_authority(make_org):
    org = make_org()
    _, count = services.add_area(org, KENT, None)
    assert count == len(authorities_in(Area.county_code, KENT)) > 5
    _, count = services.add_area(org, LEEDS, None)
    assert count == 1
    with pytest.raises(DomainError):
        services.add_area(org, "X99999999", None)


def test_removing_a_region_keeps_other_areas(make_org):
    org = make_org()
    services.add_area(org, NORTH_EAST, None)
    services.add_area(org, LEEDS, None)
    _, removed = services.remove_area(org, NORTH_EAST, None)
    assert removed == 12 and [a.code for a in org.areas] == [LEEDS]
    assert services.remove_all_areas(org, None) == 1 and org.areas == []


def test_area_groups_note_whole_regions(make_org):
    org = make_org()
    services.add_area(org, NORTH_EAST, None)
    services.add_area(org, LEEDS, None)
    groups = {g.name: g for g in services.group_areas(org.areas)}
    assert groups["North East"].complete
    assert not groups["Yorkshire and The Humber"].complete
    assert services.area_labels(org.areas) == ["North East", "Leeds"]


def test_area_labels_name_a_whole_nation(make_org):
    org = make_org()
    services.add_area(org, "W92000004", None)
    assert services.area_labels(org.areas) == ["Wales"]


# --- Client groups and ways of working ----------------------------------------------------------

def test_set_terms_replaces_both_lists(make_org):
    org = make_org()
    vocab = services.vocabulary_terms()
    chosen = [vocab["client_group"][0].id, vocab["way_of_working"][0].id]
    assert services.set_terms(org, chosen, None) is True
    assert [t.id for t in org.client_groups] == chosen[:1]
    assert [t.id for t in org.ways_of_working] == chosen[1:]
    assert services.set_terms(org, chosen, None) is False
    with pytest.raises(DomainError):
        services.set_terms(org, [999_999], None)


# --- Credentials --------------------------------------------------------------------------------

def test_insurance_needs_cover(make_org, db):
    org = make_org()
    with pytest.raises(DomainError) as error:
        services.add_credential(org, {"kind": "insurance", "title": "Public liability"}, None)
    assert error.value.field == "cover_amount"
    credential = services.add_credential(org, {
        "kind": "insurance", "title": "Public liability", "cover_amount": 5_000_000,
        "expires_on": date(2000, 1, 1)}, None)
    assert credential.is_expired
    assert [c.title for c in db.session.get(Organisation, org.id).credentials] == ["Public liability"]


def test_credentials_of_another_organisation_are_not_found(make_org):
    org, other = make_org(), make_org()
    credential = services.add_credential(other, {"kind": "equality", "title": "Equality"}, None)
    with pytest.raises(NotFound):
        services.remove_credential(org, credential.id, None)
    services.remove_credential(other, credential.id, None)
    assert [e.action for e in audit_events("credential.removed")] == ["credential.removed"]


# --- Directory ----------------------------------------------------------------------------------

def directory_names(**args):
    query = directory.parse_directory_query(MultiDict(args))
    return [org.name for org in directory.search_directory(query, 1, 100).items]


def test_category_filter_includes_descendants_only(make_org):
    counselling = make_org("Counselling")
    services.add_category(counselling, "85312320", None)
    teaching = make_org("Teaching")
    services.add_category(teaching, "80100000", None)
    assert directory_names(cpv="85300000") == ["Counselling"]
    assert directory_names(cpv="85000000") == ["Counselling"]
    # 80000000 shares a first digit with 85…, but is a different division.
    assert directory_names(cpv="80000000") == ["Teaching"]
    assert directory_names(cpv="85312320") == ["Counselling"]
    assert directory_names(cpv="85320000") == []


def test_area_filter_expands_regions_and_counties(make_org):
    newcastle = make_org("Newcastle group")
    services.add_area(newcastle, NEWCASTLE, None)
    leeds = make_org("Leeds group")
    services.add_area(leeds, LEEDS, None)
    assert directory_names(area=NORTH_EAST) == ["Newcastle group"]
    assert directory_names(area="E92000001") == ["Leeds group", "Newcastle group"]
    assert directory_names(area=LEEDS) == ["Leeds group"]
    assert directory_names(area=KENT) == []


def test_directory_sorts_and_hides_suspended(make_org):
    make_org("beta", latest_income=5_000)
    make_org("Alpha", latest_income=2_000_000)
    make_org("Gamma")
    make_org("Hidden", status="suspended")
    assert directory_names() == ["Alpha", "beta", "Gamma"]
    assert directory_names(sort="name_desc") == ["Gamma", "beta", "Alpha"]
    assert directory_names(sort="income") == ["Alpha", "beta", "Gamma"]


def test_free_text_keeps_search_order_within_sql_filters(make_org):
    make_org("Riverside food bank", description="Food bank and food parcels for families")
    make_org("Hilltop youth club", description="Youth club with a small food bank")
    make_org("Food bank commissioner", org_type="commissioner", description="Buys food bank services")
    names = directory_names(q="food bank", type="vcse")
    assert set(names) == {"Riverside food bank", "Hilltop youth club"}
    assert names[0] == "Riverside food bank"
    assert directory_names(q="food bank", type="vcse", sort="name") == [
        "Hilltop youth club", "Riverside food bank"]


@pytest.mark.parametrize("args, field", [
    ({"type": "pirate"}, "type"), ({"income_band": "huge"}, "income_band"),
    ({"sort": "random"}, "sort"), ({"area": "E99999999"}, "area"), ({"cpv": "1234"}, "cpv"),
    ({"q": "x" * 201}, "q"),
])
def test_parse_directory_query_names_the_bad_filter(ctx, args, field):
    with pytest.raises(DomainError) as error:
        directory.parse_directory_query(MultiDict(args))
    assert error.value.field == field


def test_directory_counts_by_type(make_org):
    make_org(org_type="vcse")
    make_org(org_type="commissioner")
    make_org(org_type="vcse", status="suspended")
    counts = directory.directory_counts()
    assert counts["vcse"] == 1 and counts["commissioner"] == 1 and counts["prime"] == 0


def test_ranked_pagination_pages_in_order(make_org, db):
    orgs = [make_org(f"Org {i}") for i in range(5)]
    ids = [o.id for o in reversed(orgs)]
    page = directory.RankedPagination(page=2, per_page=2, error_out=False, max_per_page=None,
                                      ids=ids)
    assert [o.id for o in page.items] == ids[2:4]
    assert (page.total, page.pages) == (5, 3)
    assert db.session.scalar(select(func.count(Organisation.id))) == 5
