"""The public JSON API, checked against its own OpenAPI document."""
import json
import re
from datetime import date, datetime

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from portal.accounts.models import User
from portal.api.formats import day, uk_moment, utc_moment
from portal.api.params import SUPPORTED_KEYWORDS
from portal.organisations import services
from portal.organisations.models import PastWork

NORTH_EAST = "E12000001"
NEWCASTLE = "E08000021"
LEEDS = "E08000035"


@pytest.fixture
def openapi(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True))


@pytest.fixture
def conforms(openapi):
    """Assert that a response body matches a named schema in the OpenAPI document."""
    registry = Registry().with_resource(
        "urn:openapi", Resource.from_contents(openapi, default_specification=DRAFT202012))

    def check(body, schema_name):
        validator = Draft202012Validator({"$ref": f"urn:openapi#/components/schemas/{schema_name}"},
                                         registry=registry)
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
        assert not errors, errors
    return check


@pytest.fixture
def orgs(make_org, make_user, db):
    tyneside = make_org("Tyneside Advice", description="Debt advice", latest_income=50_000,
                        income_band="small", contact_email="advice@tyneside.example")
    services.add_area(tyneside, NEWCASTLE, None)
    services.add_category(tyneside, "85312310", None)
    services.add_credential(tyneside, {"kind": "insurance", "title": "Public liability",
                                       "cover_amount": 1_000_000, "expires_on": date(2001, 1, 1)},
                            None)
    db.session.add(PastWork(organisation_id=tyneside.id, title="Advice project", amount=10_000,
                            awarded_on=date(2015, 1, 1)))
    db.session.commit()
    leeds = make_org("Leeds Counselling", description="Counselling", income_band="large",
                     latest_income=2_000_000)
    services.add_area(leeds, LEEDS, None)
    services.add_category(leeds, "85312320", None)
    council = make_org("Leeds City Council", org_type="commissioner")
    make_user(tyneside, email="private.person@tyneside.example")
    hidden = make_org("Hidden", status="suspended")
    return {"tyneside": tyneside, "leeds": leeds, "council": council, "hidden": hidden}


def get_json(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def item_names(body):
    return [item["name"] for item in body["items"]]


def test_list_pages_and_totals(client, orgs, conforms):
    body = get_json(client, "/api/v1/organisations")
    conforms(body, "OrganisationList")
    assert item_names(body) == ["Leeds City Council", "Leeds Counselling", "Tyneside Advice"]
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 20, 3, 1)
    body = get_json(client, "/api/v1/organisations?per_page=2&page=2")
    assert item_names(body) == ["Tyneside Advice"]
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (2, 2, 3, 2)
    assert get_json(client, "/api/v1/organisations?page=9")["items"] == []


@pytest.mark.parametrize("query, expected", [
    ("type=commissioner", ["Leeds City Council"]),
    (f"area={NORTH_EAST}", ["Tyneside Advice"]),
    ("area=E92000001", ["Leeds Counselling", "Tyneside Advice"]),
    ("cpv=85300000", ["Leeds Counselling", "Tyneside Advice"]),
    ("cpv=85312320", ["Leeds Counselling"]),
    ("income_band=small", ["Tyneside Advice"]),
    ("q=counselling", ["Leeds Counselling"]),
    ("sort=name_desc", ["Tyneside Advice", "Leeds Counselling", "Leeds City Council"]),
    ("sort=income", ["Leeds Counselling", "Tyneside Advice", "Leeds City Council"]),
])
def test_list_filters(client, orgs, query, expected):
    assert item_names(get_json(client, f"/api/v1/organisations?{query}")) == expected


def test_list_items_summarise(client, orgs):
    [item] = get_json(client, f"/api/v1/organisations?area={NORTH_EAST}")["items"]
    assert item["cpv_codes"] == [{"code": "85312310", "description": "Guidance services",
                                  "is_social_service": True}]
    assert item["areas_summary"] == ["Newcastle upon Tyne"]
    assert item["links"]["self"].endswith(f"/api/v1/organisations/{orgs['tyneside'].id}")


def test_detail_is_the_full_public_profile(client, orgs, conforms):
    body = get_json(client, f"/api/v1/organisations/{orgs['tyneside'].id}")
    conforms(body, "Organisation")
    assert body["name"] == "Tyneside Advice"
    assert body["areas"] == [{"code": NEWCASTLE, "name": "Newcastle upon Tyne", "kind": "authority"}]
    assert body["credentials"][0]["expired"] is True
    assert body["credentials"][0]["cover_amount"] == 1_000_000
    assert body["past_work_total"] == 1 and body["past_work"][0]["title"] == "Advice project"
    assert body["contact"]["email"] == "advice@tyneside.example"


def test_no_personal_data(client, orgs, db):
    raw = client.get(f"/api/v1/organisations/{orgs['tyneside'].id}").get_data(as_text=True)
    raw += client.get("/api/v1/organisations?per_page=100").get_data(as_text=True)
    for user in db.session.query(User).all():
        assert user.email not in raw and user.name not in raw


def test_missing_and_suspended_are_json_404(client, orgs, conforms):
    for org_id in (orgs["hidden"].id, 999_999):
        body = get_json(client, f"/api/v1/organisations/{org_id}", status=404)
        conforms(body, "Error")
        assert body["status"] == 404


@pytest.mark.parametrize("query", [
    "type=pirate", "area=XYZ", "cpv=1234", "income_band=huge", "sort=random",
    "page=0", "page=abc", "page=-1", "per_page=101", "per_page=0", "page=99999999999999999999",
    "cpv=", "sort=", "type=", "area=", "page=", "page=1&page=2", "q=" + "x" * 201,
])
def test_bad_parameters_are_json_400_naming_the_parameter(client, orgs, conforms, query):
    body = get_json(client, f"/api/v1/organisations?{query}", status=400)
    conforms(body, "Error")
    assert body["status"] == 400 and body["error"]
    assert body["message"].startswith(query.split("=")[0] + " "), body["message"]


@pytest.mark.parametrize("query", ["cpv=99999999", "area=E06999999"])
def test_codes_that_do_not_exist_are_json_404(client, orgs, conforms, query):
    body = get_json(client, f"/api/v1/organisations?{query}", status=404)
    conforms(body, "Error")
    assert body["message"].startswith(query.split("=")[0] + ": there is no")


def test_unknown_parameters_are_ignored(client, orgs):
    assert len(get_json(client, "/api/v1/organisations?utm_source=x&_=123")["items"]) == 3


def test_openapi_document_describes_the_api(openapi):
    assert openapi["openapi"].startswith("3.1")
    assert {"/api/v1/organisations", "/api/v1/organisations/{id}", "/api/v1/openapi.json",
            "/healthz"} <= set(openapi["paths"])
    schemas = openapi["components"]["schemas"]
    assert {"Organisation", "OrganisationList", "Error"} <= set(schemas)
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)
    params = {p["name"] for p in openapi["paths"]["/api/v1/organisations"]["get"]["parameters"]}
    assert params == {"q", "type", "area", "cpv", "income_band", "tier", "sort", "page", "per_page"}


def test_every_reference_in_the_document_resolves(openapi):
    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(openapi):
        target = openapi
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        assert isinstance(target, dict), ref


def test_health_check_matches_its_description(client, conforms):
    body = get_json(client, "/healthz")
    conforms(body, "Health")


def test_a_wrong_method_is_405_with_allow_and_json(client):
    response = client.open("/api/v1/organisations", method="TRACE")
    assert response.status_code == 405 and response.mimetype == "application/json"
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_every_api_route_is_described_and_checked_by_the_document(app, openapi):
    """params.py checks requests against the document, so every route must be in it, with
    parameter schemas it knows how to check."""
    documented = {re.sub(r"\{[^}]+\}", "{}", path) for path in openapi["paths"]}
    routes = {re.sub(r"<[^>]+>", "{}", rule.rule) for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("api.")}
    assert routes <= documented, routes - documented
    schemas = openapi["components"]["schemas"]
    for item in openapi["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                schema = schemas[schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema else schema
                assert set(schema) <= SUPPORTED_KEYWORDS, (parameter["name"], set(schema))


@pytest.mark.parametrize("org_id", [0, 2**31, 2**63 - 1, 2**64 + 5])
def test_ids_no_row_can_have_are_json_404(client, org_id):
    body = get_json(client, f"/api/v1/organisations/{org_id}", status=404)
    assert body["status"] == 404


def test_times_carry_their_offset():
    assert utc_moment(datetime(2027, 7, 1, 9, 30, 15, 12345)) == "2027-07-01T09:30:15Z"
    assert uk_moment(datetime(2027, 7, 1, 12)) == "2027-07-01T12:00:00+01:00"
    assert uk_moment(datetime(2027, 1, 1, 12)) == "2027-01-01T12:00:00+00:00"
    assert day(datetime(2027, 1, 1, 12)) == "2027-01-01" and utc_moment(None) is None


def test_the_profile_says_when_it_changed_in_utc(client, orgs):
    body = get_json(client, f"/api/v1/organisations/{orgs['tyneside'].id}")
    assert body["updated_at"].endswith("Z")
    assert datetime.fromisoformat(body["updated_at"]).tzinfo is not None
