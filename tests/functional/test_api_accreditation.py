"""The API's organisation resource carries the current accreditation, and the list filters by
readiness tier as the directory does."""
import pytest

from tests.functional.test_accreditation_support import evidence_dir, world  # noqa: F401
from tests.functional.test_directory_accreditation import accredit, levels  # noqa: F401


@pytest.fixture
def schema(client):
    return client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]


def names(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    return sorted(item["name"] for item in response.get_json()["items"])


def test_detail_carries_tier_level_and_last_day(client, world, levels):
    two = levels["two"]
    body = client.get(f"/api/v1/organisations/{world.other_org.id}").get_json()
    assert body["accreditation"] == {"tier": 2, "level": two.level.name,
                                     "valid_until": two.expires_on.isoformat()}


def test_expired_and_never_accredited_are_null(client, world, levels):
    items = client.get("/api/v1/organisations?per_page=50").get_json()["items"]
    by_name = {item["name"]: item["accreditation"] for item in items}
    assert by_name["Lapsed Lodge"] is None and by_name["Unaccredited Union"] is None
    assert by_name["Riverside Advice Centre"]["tier"] == 1


def test_list_filters_by_tier_and_leaves_out_expired(client, world, levels):
    assert names(client, "/api/v1/organisations?tier=1") == ["Hilltop Youth Trust",
                                                             "Riverside Advice Centre"]
    assert names(client, "/api/v1/organisations?tier=02") == ["Hilltop Youth Trust"]
    assert names(client, "/api/v1/organisations?tier=3") == []
    assert names(client, "/api/v1/organisations?tier=1&q=debt") == ["Riverside Advice Centre"]


@pytest.mark.parametrize("tier", ["0", "4", "two"])
def test_a_bad_tier_is_a_400_naming_it(client, world, levels, tier):
    response = client.get(f"/api/v1/organisations?tier={tier}")
    assert response.status_code == 400 and "tier" in response.get_data(as_text=True)


def test_the_schema_describes_it(client, schema):
    summary = schema["OrganisationSummary"]
    assert "accreditation" in summary["required"]
    assert schema["CurrentAccreditation"]["required"] == ["tier", "level", "valid_until"]
    assert "accreditation" in schema["Organisation"]["properties"]
    params = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/organisations"]
    tier = next(p for p in params["get"]["parameters"] if p["name"] == "tier")
    assert tier["schema"] == {"type": "integer", "minimum": 1, "maximum": 3}
