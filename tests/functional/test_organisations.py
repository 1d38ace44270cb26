"""Organisation profile pages through the test client: viewing, editing and access control."""
from datetime import date
from html import unescape

import pytest
from sqlalchemy import select

from portal.core.audit import AuditEvent
from portal.organisations import services
from portal.organisations.models import Credential, Organisation, PastWork
from portal.reference.models import VocabularyTerm

NORTH_EAST = "E12000001"
NEWCASTLE = "E08000021"


@pytest.fixture
def org(make_org):
    return make_org("Riverside Community Trust", description="Advice and counselling.",
                    charity_number="1234567", postcode="NE1 4ST", contact_role="Contracts manager",
                    contact_email="contracts@riverside.example", latest_income=120_000,
                    income_band="medium")


@pytest.fixture
def org_admin(org, make_user, login):
    """Signed in as an administrator of `org`: only they (and site admins) change its profile."""
    user = make_user(org, role="admin")
    login(user)
    return user


def text(response):
    return response.get_data(as_text=True)


def fresh(db, org):
    db.session.expire_all()
    return db.session.get(Organisation, org.id)


# --- Public profile -----------------------------------------------------------------------------

def test_public_profile_shows_what_the_organisation_offers(client, db, org):
    services.add_category(org, "85312320", None)
    services.add_area(org, NORTH_EAST, None)
    services.add_credential(org, {"kind": "safeguarding", "title": "Safeguarding policy",
                                  "expires_on": date(2001, 1, 1)}, None)
    services.set_terms(org, [db.session.scalar(select(VocabularyTerm.id).where(
        VocabularyTerm.vocabulary == "client_group").limit(1))], None)
    db.session.add(PastWork(organisation_id=org.id, title="Befriending older people",
                            funder_name="Lloyds Bank Foundation", amount=45_000,
                            awarded_on=date(2014, 5, 1)))
    db.session.commit()
    response = client.get(f"/organisations/{org.id}")
    assert response.status_code == 200
    page = text(response)
    for expected in ("Riverside Community Trust", "1234567", "NE1 4ST", "£120,000",
                     "£100,000 to £1 million", "85312320", "Counselling services", "Social service",
                     "North East", "All 12 local authorities", "Safeguarding policy", "Expired",
                     "Contracts manager", "contracts@riverside.example", "Befriending older people",
                     "£45,000", "1 May 2014"):
        assert expected in page, expected
    assert f"/organisations/{org.id}/edit" not in page


def test_track_record_is_paginated(client, db, org):
    db.session.add_all([PastWork(organisation_id=org.id, title=f"Grant {n:02d}",
                                 awarded_on=date(2000 + n, 1, 1)) for n in range(12)])
    db.session.commit()
    first = text(client.get(f"/organisations/{org.id}"))
    assert "12 grants and contracts on record, showing 1 to 10" in first
    assert "Grant 11" in first and "Grant 01" not in first
    second = text(client.get(f"/organisations/{org.id}?page=2"))
    assert "Grant 01" in second and "Grant 00" in second and "Grant 11" not in second


def test_admins_see_edit_links(client, org, org_admin):
    page = text(client.get(f"/organisations/{org.id}"))
    for path in ("edit", "categories", "areas", "client-groups", "credentials"):
        assert f"/organisations/{org.id}/{path}" in page
    assert "Only your organisation's administrators" not in unescape(page)


def test_members_see_no_edit_links_and_whom_to_ask(client, org, make_user, login):
    make_user(org, role="admin", name="Ada Admin")
    login(make_user(org, role="member", name="Mo Member"))
    page = text(client.get(f"/organisations/{org.id}"))
    for path in ("edit", "categories", "areas", "client-groups", "credentials"):
        assert f"/organisations/{org.id}/{path}" not in page
    assert "Only your organisation's administrators can change" in unescape(page)
    assert "Ask: Ada Admin." in page and "Mo Member" not in page


def test_missing_and_suspended_organisations_are_not_found(client, make_org, make_user, login):
    suspended = make_org("Suspended org", status="suspended")
    assert client.get(f"/organisations/{suspended.id}").status_code == 404
    assert client.get("/organisations/999999").status_code == 404
    login(make_user(site_admin=True))
    response = client.get(f"/organisations/{suspended.id}")
    assert response.status_code == 200 and "suspended" in text(response)


# --- Main details -------------------------------------------------------------------------------

def profile_form(**overrides):
    data = {"name": "Riverside Trust", "other_names": "RCT", "legal_form": "cio",
            "charity_number": "sc012345", "company_number": "1234567", "address": "1 Quay Street",
            "postcode": "ne14st", "website": "www.riverside.example", "income_band": "",
            "latest_income": "£12,500", "staff_count": "3", "volunteer_count": "1,200",
            "description": "We help.", "contact_role": "Director",
            "contact_email": "Hello@Riverside.example"}
    data.update(overrides)
    return data


def test_edit_saves_and_normalises(client, db, org, org_admin):
    assert client.get(f"/organisations/{org.id}/edit").status_code == 200
    response = client.post(f"/organisations/{org.id}/edit", data=profile_form())
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/organisations/{org.id}")
    saved = fresh(db, org)
    assert (saved.name, saved.legal_form, saved.charity_number, saved.company_number) == (
        "Riverside Trust", "cio", "SC012345", "01234567")
    assert (saved.postcode, saved.website, saved.contact_email) == (
        "NE1 4ST", "https://www.riverside.example", "hello@riverside.example")
    assert (saved.latest_income, saved.income_band) == (12_500, "small")
    assert (saved.staff_count, saved.volunteer_count) == (3, 1200)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "organisation.updated"))
    assert "name" in event.details["fields"] and event.actor_id == org_admin.id
    assert "Organisation details saved" in text(client.get(response.headers["Location"]))


def test_edit_errors_keep_what_was_typed(client, db, org, org_admin):
    response = client.post(f"/organisations/{org.id}/edit", data=profile_form(
        charity_number="12", postcode="nowhere", latest_income="lots", staff_count="-4",
        website="not a website", contact_email="nobody", legal_form="council",
        name="Typed name"))
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page and page.count("govuk-error-message") >= 7
    for message in ("Enter a charity number in the correct format", "Enter a real postcode",
                    "Enter latest annual income as an amount in pounds",
                    "Enter the number of paid staff as a whole number",
                    "Enter a website address in the correct format",
                    "Enter an email address in the correct format", "Not a valid choice"):
        assert message in page, message
    for typed in ('value="Typed name"', 'value="12"', 'value="nowhere"', 'value="lots"',
                  'value="-4"', 'value="nobody"'):
        assert typed in page, typed
    assert fresh(db, org).name == "Riverside Community Trust"


WEBSITE_FORMAT = "Enter a website address in the correct format, like www.example.org.uk"


@pytest.mark.parametrize("typed, message", [
    ("http://[::1", WEBSITE_FORMAT),
    ("http://[::1]/x", WEBSITE_FORMAT),
    ("http://example.org:99999", WEBSITE_FORMAT),
    # A browser never sends a newline from a one-line input; the shared text check names it.
    ("http://example.org\nfoo", "Website must not contain control characters"),
])
def test_a_malformed_website_is_an_error_on_the_field_not_a_crash(client, db, org, org_admin,
                                                                    typed, message):
    response = client.post(f"/organisations/{org.id}/edit",
                           data=profile_form(website=typed, name="Typed name"))
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page and message in page
    assert 'href="#website"' in page
    assert f'id="website" name="website"' in page and f'value="{typed}"' in page
    assert 'value="Typed name"' in page
    saved = fresh(db, org)
    assert (saved.name, saved.website) == ("Riverside Community Trust", None)


@pytest.mark.parametrize("typed, stored", [
    ("www.example.org.uk", "https://www.example.org.uk"),
    ("http://example.org:8080/services?area=leeds", "http://example.org:8080/services?area=leeds"),
])
def test_a_good_website_still_saves(client, db, org, org_admin, typed, stored):
    response = client.post(f"/organisations/{org.id}/edit", data=profile_form(website=typed))
    assert response.status_code == 302
    assert fresh(db, org).website == stored


def test_missing_name_is_refused(client, org, org_admin):
    response = client.post(f"/organisations/{org.id}/edit", data=profile_form(name=""))
    assert "Enter the name of the organisation" in text(response)


# --- Category picker ----------------------------------------------------------------------------

def test_category_picker_search_browse_and_social(client, org, org_admin):
    top = text(client.get(f"/organisations/{org.id}/categories"))
    assert "All 45 divisions" in top and "85000000" in top
    browse = text(client.get(f"/organisations/{org.id}/categories?parent=85300000"))
    assert "85000000 Health and social work services" in browse  # breadcrumb
    assert "85310000" in browse and "Add this category" in browse
    found = text(client.get(f"/organisations/{org.id}/categories?q=counselling"))
    assert "85312320" in found and "Social service" in found
    social = text(client.get(f"/organisations/{org.id}/categories?social=1"))
    assert "These 115 codes" in social


def test_category_add_and_remove(client, db, org, org_admin):
    response = client.post(f"/organisations/{org.id}/categories/add",
                           data={"code": "85312320", "q": "counselling"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/organisations/{org.id}/categories?q=counselling")
    assert [c.code for c in fresh(db, org).cpv_codes] == ["85312320"]
    page = text(client.get(f"/organisations/{org.id}/categories"))
    assert "Added 85312320 Counselling services" in page and "Your categories (1)" in page
    client.post(f"/organisations/{org.id}/categories/remove", data={"code": "85312320"})
    assert fresh(db, org).cpv_codes == []


def test_unknown_category_is_reported(client, db, org, org_admin):
    response = client.post(f"/organisations/{org.id}/categories/add", data={"code": "12345678"},
                           follow_redirects=True)
    assert "Choose a category from the list" in text(response)
    assert fresh(db, org).cpv_codes == []


# --- Areas picker -------------------------------------------------------------------------------

def test_area_picker_search_add_region_and_remove(client, db, org, org_admin):
    shortcuts = text(client.get(f"/organisations/{org.id}/areas"))
    assert "Nations and regions" in shortcuts and "North East" in shortcuts
    found = text(client.get(f"/organisations/{org.id}/areas?q=newcastle"))
    assert "Newcastle upon Tyne" in found
    response = client.post(f"/organisations/{org.id}/areas/add", data={"code": NORTH_EAST})
    assert response.status_code == 302
    assert len(fresh(db, org).areas) == 12
    page = text(client.get(f"/organisations/{org.id}/areas"))
    assert "Added North East: 12 local authorities" in page and "Your areas (12)" in page
    client.post(f"/organisations/{org.id}/areas/remove", data={"code": NEWCASTLE})
    assert len(fresh(db, org).areas) == 11
    client.post(f"/organisations/{org.id}/areas/remove-all")
    assert fresh(db, org).areas == []


# --- Client groups and ways of working ----------------------------------------------------------

def test_terms_form_saves_both_lists(client, db, org, org_admin):
    terms = services.vocabulary_terms()
    group, way = terms["client_group"][1], terms["way_of_working"][2]
    page = text(client.get(f"/organisations/{org.id}/client-groups"))
    assert group.value in page and way.value in page
    assert client.get(f"/organisations/{org.id}/ways-of-working").status_code == 200
    response = client.post(f"/organisations/{org.id}/client-groups",
                           data={"client_groups": [str(group.id)], "ways_of_working": [str(way.id)]})
    assert response.status_code == 302
    saved = fresh(db, org)
    assert [t.id for t in saved.client_groups] == [group.id]
    assert [t.id for t in saved.ways_of_working] == [way.id]
    response = client.post(f"/organisations/{org.id}/client-groups",
                           data={"client_groups": [str(way.id)]})
    assert response.status_code == 200 and "Choose client groups from the list" in text(response)


# --- Credentials --------------------------------------------------------------------------------

def test_credentials_add_list_and_remove(client, db, org, org_admin):
    assert "Add a policy or certificate" in text(client.get(f"/organisations/{org.id}/credentials"))
    response = client.post(f"/organisations/{org.id}/credentials", data={
        "kind": "insurance", "title": "Public liability", "cover_amount": "£5,000,000",
        "expires_on": ["31", "3", "2031"]})
    assert response.status_code == 302
    [credential] = fresh(db, org).credentials
    assert (credential.cover_amount, credential.expires_on) == (5_000_000, date(2031, 3, 31))
    page = text(client.get(f"/organisations/{org.id}/credentials"))
    assert "Public liability" in page and "31 March 2031" in page
    confirm = client.get(f"/organisations/{org.id}/credentials/{credential.id}/remove")
    assert "Remove Public liability?" in text(confirm)
    response = client.post(f"/organisations/{org.id}/credentials/{credential.id}/remove")
    assert response.status_code == 302 and fresh(db, org).credentials == []


def test_insurance_without_cover_is_refused(client, db, org, org_admin):
    response = client.post(f"/organisations/{org.id}/credentials", data={
        "kind": "insurance", "title": "Employer's liability", "expires_on": ["", "", ""]})
    assert response.status_code == 200
    page = text(response)
    assert "Enter the amount of cover for insurance" in page
    assert 'value="Employer&#39;s liability"' in page or "Employer&#39;s liability" in page
    assert db.session.scalar(select(Credential.id)) is None


def test_credential_mistakes_are_shown_together(client, org, org_admin):
    page = text(client.post(f"/organisations/{org.id}/credentials", data={
        "kind": "insurance", "title": "", "cover_amount": "", "expires_on": ["31", "2", "2030"]}))
    for message in ("Enter the name of the policy or certificate",
                    "Enter the amount of cover for insurance", "The expiry date must be a real date"):
        assert message in page, message
    assert 'value="31"' in page and 'value="2030"' in page


@pytest.mark.parametrize("parts, message", [
    (["31", "2", "2030"], "The expiry date must be a real date"),
    (["", "2", "2030"], "The expiry date must include a day, month and year"),
    (["1"], "The expiry date must include a day, month and year"),
    (["1", "2", "2030", "9"], None),
])
def test_expiry_date_checks_and_crafted_posts(client, org, org_admin, parts, message):
    response = client.post(f"/organisations/{org.id}/credentials", data={
        "kind": "equality", "title": "Equality policy", "expires_on": parts})
    if message:
        assert response.status_code == 200 and message in text(response)
    else:
        assert response.status_code == 302


# --- Access control -----------------------------------------------------------------------------

def edit_routes(org_id, credential_id):
    base = f"/organisations/{org_id}"
    gets = [f"{base}/edit", f"{base}/categories", f"{base}/categories?q=care", f"{base}/areas",
            f"{base}/client-groups", f"{base}/ways-of-working", f"{base}/credentials",
            f"{base}/credentials/{credential_id}/remove"]
    posts = [(f"{base}/edit", profile_form(name="Hijacked")),
             (f"{base}/categories/add", {"code": "85312320"}),
             (f"{base}/categories/remove", {"code": "85312320"}),
             (f"{base}/areas/add", {"code": NORTH_EAST}),
             (f"{base}/areas/remove", {"code": NEWCASTLE}),
             (f"{base}/areas/remove-all", {}),
             (f"{base}/client-groups", {"client_groups": []}),
             (f"{base}/ways-of-working", {"ways_of_working": []}),
             (f"{base}/credentials", {"kind": "equality", "title": "Planted"}),
             (f"{base}/credentials/{credential_id}/remove", {})]
    return gets, posts


@pytest.fixture
def other_org(make_org):
    org_b = make_org("Organisation B")
    services.add_area(org_b, NEWCASTLE, None)
    services.add_category(org_b, "85312320", None)
    credential = services.add_credential(org_b, {"kind": "equality", "title": "B policy"}, None)
    return org_b, credential.id


def assert_b_unchanged(db, org_b):
    saved = fresh(db, org_b)
    assert saved.name == "Organisation B"
    assert [a.code for a in saved.areas] == [NEWCASTLE]
    assert [c.code for c in saved.cpv_codes] == ["85312320"]
    assert [c.title for c in saved.credentials] == ["B policy"]


def test_an_admin_of_another_organisation_gets_404_everywhere(client, db, org, org_admin, other_org):
    org_b, credential_id = other_org
    gets, posts = edit_routes(org_b.id, credential_id)
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url, data in posts:
        assert client.post(url, data=data).status_code == 404, url
    assert_b_unchanged(db, org_b)
    # A credential of B reached through A's own address is not found either.
    assert client.get(f"/organisations/{org.id}/credentials/{credential_id}/remove").status_code == 404
    assert client.post(f"/organisations/{org.id}/credentials/{credential_id}/remove").status_code == 404
    assert_b_unchanged(db, org_b)


def test_signed_out_visitors_are_sent_to_sign_in(client, db, other_org):
    org_b, credential_id = other_org
    gets, posts = edit_routes(org_b.id, credential_id)
    for url in gets:
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"], url
    for url, data in posts:
        response = client.post(url, data=data)
        assert response.status_code in (302, 404), url
        if response.status_code == 302:
            assert "/sign-in" in response.headers["Location"], url
    assert_b_unchanged(db, org_b)


def test_site_admin_can_edit_any_organisation(client, db, make_user, login, other_org):
    org_b, _ = other_org
    login(make_user(site_admin=True))
    assert client.get(f"/organisations/{org_b.id}/edit").status_code == 200
    response = client.post(f"/organisations/{org_b.id}/edit", data=profile_form(name="Renamed B"))
    assert response.status_code == 302 and fresh(db, org_b).name == "Renamed B"


# --- CSRF and unsafe data -----------------------------------------------------------------------

def test_every_edit_form_carries_a_working_csrf_token(app, client, db, org, org_admin, monkeypatch):
    from tests.conftest import csrf_token_from

    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    base = f"/organisations/{org.id}"
    assert client.post(f"{base}/categories/add", data={"code": "85312320"}).status_code == 400
    for page, action, data in [
        (f"{base}/categories?q=counselling", f"{base}/categories/add", {"code": "85312320"}),
        (f"{base}/areas", f"{base}/areas/add", {"code": NEWCASTLE}),
        (f"{base}/edit", f"{base}/edit", profile_form()),
        (f"{base}/client-groups", f"{base}/client-groups", {}),
        (f"{base}/credentials", f"{base}/credentials", {"kind": "equality", "title": "Policy"}),
    ]:
        token = csrf_token_from(text(client.get(page)))
        assert token, page
        response = client.post(action, data={**data, "csrf_token": token})
        assert response.status_code == 302, (action, text(response)[:500])
    saved = fresh(db, org)
    assert saved.cpv_codes and saved.areas and saved.credentials
    remove_page = f"{base}/credentials/{saved.credentials[0].id}/remove"
    token = csrf_token_from(text(client.get(remove_page)))
    assert client.post(remove_page, data={"csrf_token": token}).status_code == 302
    token = csrf_token_from(text(client.get(f"{base}/areas")))
    assert client.post(f"{base}/areas/remove-all", data={"csrf_token": token}).status_code == 302
    saved = fresh(db, org)
    assert saved.credentials == [] and saved.areas == []


def test_only_web_addresses_become_links(client, make_org):
    org = make_org("Odd data", website="javascript:alert(1)")
    page = text(client.get(f"/organisations/{org.id}"))
    assert 'href="javascript:' not in page
