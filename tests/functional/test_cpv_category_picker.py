"""The category picker finds service categories by everyday words and shows the plain name
before the official CPV wording."""
import re

import pytest

from portal.organisations.models import Organisation


@pytest.fixture
def org(make_org):
    return make_org("Haven Wellbeing Trust", description="Mental health and carers support.")


@pytest.fixture
def org_admin(org, make_user, login):
    """Signed in as an administrator of `org`: only they (and site admins) change its profile."""
    user = make_user(org, role="admin")
    login(user)
    return user


def page(client, org, q):
    html = client.get(f"/organisations/{org.id}/categories", query_string={"q": q})
    return html.get_data(as_text=True)


def visible(html):
    """The page's words as a person reads them, tags and hidden spans left out."""
    html = re.sub(r'<span class="govuk-visually-hidden">.*?</span>', "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_mental_health_search_reads_plain_name_first(client, org, org_admin):
    text = visible(page(client, org, "mental health"))
    assert "3 results for ‘mental health’" in text
    assert "Mental health support — Community health services (85323000)" in text
    assert text.index("Mental health support") < text.index("Community health services")


def test_employment_search_offers_employment_support_before_benefits(client, org, org_admin):
    text = visible(page(client, org, "employment"))
    assert "Employment support — Vocational rehabilitation services" in text
    assert text.index("Vocational rehabilitation") < text.index("Unemployment compensation")


def test_domestic_abuse_and_wellbeing_searches_find_categories(client, org, org_admin):
    for q, label in (("domestic abuse", "Domestic abuse support"),
                     ("wellbeing", "Health and wellbeing")):
        text = visible(page(client, org, q))
        assert "No categories match" not in text and f"{label} —" in text


def test_add_button_names_the_plain_label_for_screen_readers(client, org, org_admin):
    html = page(client, org, "carers")
    assert re.search(r'Add<span class="govuk-visually-hidden"> Support for carers: 85312400 '
                     r"Welfare services not delivered through residential institutions</span>",
                     html)


def test_a_code_search_and_browsing_look_as_before(client, org, org_admin):
    html = page(client, org, "85312320")
    assert "Counselling services (85312320)" in visible(html)
    assert "app-picker__plain" not in html  # a code search offers no everyday name
    browse = visible(client.get(f"/organisations/{org.id}/categories?parent=85312300")
                     .get_data(as_text=True))
    assert "85312320 Counselling services" in browse


def test_a_plain_search_result_can_be_added(client, db, org, org_admin):
    response = client.post(f"/organisations/{org.id}/categories/add",
                           data={"code": "85323000", "q": "mental health"})
    assert response.status_code == 302
    db.session.expire_all()
    assert [c.code for c in db.session.get(Organisation, org.id).cpv_codes] == ["85323000"]
    text = visible(page(client, org, "mental health"))
    assert "Your categories (1)" in text and "Added" in text
