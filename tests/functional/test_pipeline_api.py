"""The forward plan's JSON API and OCDS: exports valid against the OCDS 1.1.5 schema (offline),
imports of real release packages, and responses that match the OpenAPI document."""
import gzip
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from sqlalchemy import event, func, select

from config import BASE_DIR
from portal.organisations.models import Organisation
from portal.pipeline import ocds, services
from portal.pipeline.models import Opportunity, uk_now

SCHEMAS = Path(__file__).resolve().parent.parent / "data" / "ocds-1.1.5"
SEED = BASE_DIR / "seed" / "procurement"
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(scope="module")
def ocds_validator():
    release = json.loads((SCHEMAS / "release-schema.json").read_text())
    package = json.loads((SCHEMAS / "release-package-schema.json").read_text())
    registry = Registry().with_resources([
        (release["id"], Resource.from_contents(release, default_specification=DRAFT4)),
        (package["id"], Resource.from_contents(package, default_specification=DRAFT4))])
    return Draft4Validator(package, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)


def assert_valid_ocds(validator, package):
    errors = [f"{list(e.absolute_path)}: {e.message[:300]}" for e in validator.iter_errors(package)]
    assert not errors, errors[:10]


@pytest.fixture
def plan(make_org, make_user, app, tmp_path, db):
    app.config["PIPELINE_UPLOAD_DIR"] = str(tmp_path)
    # The services send email with links, as they do when called from a page.
    with app.test_request_context():
        yield _build_plan(make_org, make_user, db)
    app.config.pop("PIPELINE_UPLOAD_DIR", None)


def _build_plan(make_org, make_user, db):
    council = make_org("Leeds City Council", org_type="commissioner")
    officer = make_user(council)
    charity = make_org("Leeds Carers Trust", org_type="vcse")
    volunteer = make_user(charity)
    base = {"description": "Advice and short breaks for carers", "main_cpv_code": "85312000",
            "additional_cpv": "85320000", "areas": "Leeds", "suitable_vcse": True,
            "suitable_sme": True, "value_basis": "annual", "contract_months": 36,
            "extension_months": 24, "outcomes": "Carers feel supported",
            "contact_role": "Commissioning team", "procurement_route": "light_touch",
            "social_value": {"wellbeing": 10}}
    rich = services.create_opportunity(council, {
        **base, "title": "Carers support", "value_min": 100_000, "value_max": 120_000,
        "market_engagement_on": (uk_now() - timedelta(days=60)).date(),
        "engagement_details": "Online briefing"}, officer)
    services.add_lot(rich, {"title": "North", "value_min": 50_000, "cpv_codes": "85312000",
                            "areas": "Leeds"}, officer)
    upload = type("Upload", (), {"filename": "spec.pdf", "stream": io.BytesIO(PDF)})()
    services.add_document(rich, upload, "Specification", officer)
    services.change_status(rich, "planned", officer)
    services.change_status(rich, "open", officer, {
        "closing_at": uk_now() + timedelta(days=10),
        "question_deadline": uk_now() + timedelta(days=5)})
    question = services.ask_question(rich, "Is TUPE likely?", volunteer)
    services.answer_question(rich, question.id, "Is TUPE likely?", "Yes.", officer)
    services.express_interest(rich, volunteer, "lead")
    rich = db.session.get(Opportunity, rich.id)
    rich.closing_at = uk_now() - timedelta(days=1)
    rich.tender_publish_on = (uk_now() - timedelta(days=30)).date()
    rich.question_deadline = uk_now() - timedelta(days=3)
    db.session.commit()
    services.change_status(rich, "evaluation", officer)
    services.record_award(rich, {"awarded_on": uk_now().date(), "value": 330_000, "winners": [
        {"name": "Leeds Carers Trust"}, {"name": "Small Firm Ltd", "is_sme": True}]}, officer)
    planned = services.create_opportunity(council, {**base, "title": "Day care", "value_min": 2_500_000,
                                                    "value_basis": "whole_life"}, officer)
    services.change_status(planned, "planned", officer)
    draft = services.create_opportunity(council, {"title": "Secret"}, officer)
    return {"awarded": rich, "planned": planned, "draft": draft, "council": council,
            "officer": officer}


def test_each_entry_exports_as_a_valid_ocds_release_package(client, plan, ocds_validator):
    for key in ("awarded", "planned"):
        response = client.get(f"/api/v1/opportunities/{plan[key].id}/ocds")
        assert response.status_code == 200
        assert_valid_ocds(ocds_validator, response.get_json())
    release = client.get(f"/api/v1/opportunities/{plan['awarded'].id}/ocds").get_json()[
        "releases"][0]
    tender = release["tender"]
    assert release["tag"] == ["award"] and tender["status"] == "complete"
    assert tender["suitability"] == {"vcse": True, "sme": True}
    assert tender["lots"][0]["title"] == "North" and tender["enquiries"][0]["answer"] == "Yes."
    assert tender["value"] == {"amount": 120_000, "currency": "GBP"}
    assert tender["classification"]["id"] == "85312000"
    assert tender["milestones"][0]["type"] == "engagement"
    assert [s["name"] for s in release["awards"][0]["suppliers"]] == ["Leeds Carers Trust",
                                                                       "Small Firm Ltd"]
    suppliers = [p for p in release["parties"] if "supplier" in p["roles"]]
    assert suppliers[0]["details"] == {"vcse": True}
    assert suppliers[1]["details"] == {"vcse": False, "scale": "sme"}
    assert client.get(f"/api/v1/opportunities/{plan['draft'].id}/ocds").status_code == 404


def test_the_whole_plan_exports_as_valid_packages(client, plan, ocds_validator):
    for query in ("", "?status=awarded", "?vcse=1"):
        package = client.get("/api/v1/ocds" + query).get_json()
        assert package["releases"], query
        assert_valid_ocds(ocds_validator, package)
        assert package["links"] == {}  # one page holds it all
    assert client.get("/api/v1/ocds?status=nonsense").status_code == 400


def _more_entries(plan, count):
    for number in range(count):
        entry = services.create_opportunity(plan["council"], {
            "title": f"Extra {number}", "description": "Befriending", "suitable_vcse": True,
            "main_cpv_code": "85312000", "areas": "Leeds", "value_min": 10_000},
            plan["officer"])
        services.change_status(entry, "planned", plan["officer"])


def _follow(client, url):
    """Every page from `url` on, following links.next."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        pages.append(response.get_json())
        url = pages[-1]["links"].get("next")
    return pages


def test_the_plan_comes_in_pages_that_join_to_the_whole(client, plan, db, ocds_validator):
    _more_entries(plan, 4)
    whole = client.get("/api/v1/ocds?per_page=1000").get_json()["releases"]
    assert len(whole) == 5  # the planned entry and the four extra ones; not the draft
    pages = _follow(client, "/api/v1/ocds?vcse=1&per_page=2")
    assert [len(page["releases"]) for page in pages] == [2, 2, 1]
    assert [r["ocid"] for page in pages for r in page["releases"]] == [r["ocid"] for r in whole]
    assert "vcse=1" in pages[0]["links"]["next"] and "page=2" in pages[0]["links"]["next"]
    assert "prev" not in pages[0]["links"] and "page=2" in pages[2]["links"]["prev"]
    for page in pages:
        assert_valid_ocds(ocds_validator, page)
    beyond = client.get("/api/v1/ocds?per_page=2&page=9").get_json()
    assert beyond["releases"] == [] and "page=3" in beyond["links"]["prev"]


class _Statements:
    """Counts the SQL statements run while it is open."""

    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def _count(self, *args):
        self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)


def test_a_page_is_cached_until_the_plan_changes(client, plan, db):
    first = client.get("/api/v1/ocds")
    with _Statements(db.engine) as statements:
        again = client.get("/api/v1/ocds")
    assert again.get_data() == first.get_data() and again.headers["ETag"] == first.headers["ETag"]
    assert statements.count <= 3  # the plan's version only; nothing is serialised again
    planned = db.session.get(Opportunity, plan["planned"].id)
    services.update_opportunity(planned, {"title": "Day care and respite"}, plan["officer"])
    db.session.commit()
    changed = client.get("/api/v1/ocds").get_json()
    assert changed["releases"][0]["tender"]["title"] == "Day care and respite"
    assert client.get("/api/v1/ocds").headers["ETag"] != first.headers["ETag"]


def test_a_renamed_buyer_or_a_new_entry_changes_the_cached_page(client, plan, db):
    before = client.get("/api/v1/ocds").get_json()
    council = db.session.get(Organisation, plan["council"].id)
    council.name = "Leeds City Council (Adults and Health)"
    db.session.commit()
    renamed = client.get("/api/v1/ocds").get_json()
    assert renamed["releases"][0]["buyer"]["name"] == council.name
    _more_entries(plan, 1)
    assert len(client.get("/api/v1/ocds").get_json()["releases"]) == len(before["releases"]) + 1


def test_an_unchanged_page_is_not_sent_again(client, plan):
    etag = client.get("/api/v1/ocds").headers["ETag"]
    response = client.get("/api/v1/ocds", headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.get_data() == b""


def _import_seed(name, **kwargs):
    return ocds.import_package(ocds.read_package(SEED / name), source_label=name, **kwargs)


def test_real_notices_import_and_every_export_is_valid(client, db, make_org, ocds_validator):
    make_org("Durham County Council", org_type="commissioner",
             source_ref="OCDS-BUYER-durhamcountycouncil")
    report = _import_seed("contracts_finder_2025_releases.json.gz", shift_dates=True)
    wales = _import_seed("sell2wales_releases.json.gz", shift_dates=True)
    assert report.created == 186 and len(report.skipped) == 4 and report.awards > 100
    # Sell2Wales posted two notices twice under new ocids; each is imported once.
    assert wales.created == 87 and len(wales.duplicates) == 2
    durham = db.session.scalars(select(Opportunity).join(Opportunity.organisation).where(
        Opportunity.organisation.has(source_ref="OCDS-BUYER-durhamcountycouncil"))).all()
    assert durham and all(o.ocid.startswith("ocds-b5fd17-") for o in durham)
    live = db.session.scalars(select(Opportunity).where(
        Opportunity.status.in_(("planned", "open")))).all()
    assert live and all((o.closing_at or uk_now()) >= uk_now() - timedelta(days=1) for o in live)
    assert db.session.scalar(select(func.count()).select_from(Opportunity).where(
        Opportunity.status == "awarded")) == report.awards
    with_lots = db.session.scalars(select(Opportunity).where(Opportunity.lots.any())).first()
    assert with_lots is not None
    for status in ("planned", "open", "awarded"):
        package = client.get(f"/api/v1/ocds?status={status}").get_json()
        if package["releases"]:
            assert_valid_ocds(ocds_validator, package)
    again = _import_seed("contracts_finder_2025_releases.json.gz", shift_dates=True)
    assert (again.created, again.updated) == (0, 186)
    assert db.session.scalar(select(func.count(Opportunity.id))) == 186 + 87


def test_the_import_command_reads_plain_and_gzipped_packages(app, db, tmp_path):
    package = json.loads(gzip.decompress((SEED / "sell2wales_releases.json.gz").read_bytes()))
    package["releases"] = package["releases"][:5]
    plain = tmp_path / "five.json"
    plain.write_text(json.dumps(package))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import", "ocds", str(plain)])
    assert result.exit_code == 0, result.output
    assert "5 created" in result.output
    result = runner.invoke(args=["import", "ocds", str(SEED / "sell2wales_releases.json.gz")])
    assert "82 created, 5 updated" in result.output
    broken = tmp_path / "broken.json"
    broken.write_text('{"not": "a package"}')
    result = runner.invoke(args=["import", "ocds", str(broken)])
    assert result.exit_code != 0 and "release package" in result.output


def test_the_list_filters_paginates_and_matches_its_schema(client, plan, conforms):
    body = client.get("/api/v1/opportunities").get_json()
    conforms(body, "OpportunityList")
    assert [item["title"] for item in body["items"]] == ["Day care"]  # live stages only
    body = client.get("/api/v1/opportunities?status=awarded").get_json()
    assert [item["title"] for item in body["items"]] == ["Carers support"]
    assert client.get("/api/v1/opportunities?value_band=2m_10m").get_json()["total"] == 1
    assert client.get("/api/v1/opportunities?q=day+CARE").get_json()["total"] == 1
    assert client.get("/api/v1/opportunities?q=nothing+like+this").get_json()["total"] == 0
    assert client.get("/api/v1/opportunities?area=E12000003&cpv=85000000").get_json()[
        "total"] == 1
    page = client.get("/api/v1/opportunities?per_page=1&page=2&status=planned").get_json()
    assert page["page"] == 2 and page["items"] == []


BAD_FILTERS = [
    ("status=draft", "status"), ("per_page=5000", "per_page"), ("page=0", "page"),
    ("cpv=123", "cpv"), ("cpv=", "cpv"), ("area=XYZ", "area"), ("area=", "area"),
    ("closing_within=3", "closing_within"),
    ("closing_within=", "closing_within"), ("vcse=maybe", "vcse"), ("vcse=true", "vcse"),
    ("consortium=", "consortium"), ("buyer=abc", "buyer"), ("buyer=0", "buyer"),
    ("buyer=18446744073709551621", "buyer"), ("buyer=" + "9" * 5000, "buyer"),
    ("q=" + "x" * 201, "q"), ("page=1&page=2", "page"), ("page=", "page"),
]


@pytest.mark.parametrize("path,query,field", [
    *[("/api/v1/opportunities", query, field) for query, field in BAD_FILTERS],
    *[("/api/v1/ocds", query, field) for query, field in BAD_FILTERS],
    ("/api/v1/opportunities", "sort=", "sort"), ("/api/v1/opportunities", "sort=x", "sort"),
])
def test_bad_parameters_are_json_errors_naming_the_parameter(client, path, query, field):
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == 400 and field.lower() in body["message"].lower(), body


@pytest.mark.parametrize("path", ["/api/v1/opportunities", "/api/v1/ocds"])
@pytest.mark.parametrize("query,field", [("cpv=99999999", "cpv"), ("area=E12999999", "area")])
def test_well_formed_codes_that_do_not_exist_are_404(client, path, query, field):
    response = client.get(f"{path}?{query}")
    assert response.status_code == 404 and response.get_json()["message"].startswith(field)


def test_one_entry_in_detail(client, plan, conforms):
    body = client.get(f"/api/v1/opportunities/{plan['awarded'].id}").get_json()
    conforms(body, "Opportunity")
    assert body["award"]["winners"][0]["name"] == "Leeds Carers Trust"
    assert body["questions"] == [{"question": "Is TUPE likely?", "answer": "Yes.",
                                  "answered_at": body["questions"][0]["answered_at"]}]
    assert body["lots"][0]["title"] == "North" and body["documents"][0]["title"] == "Specification"
    assert "asked_by" not in json.dumps(body) and "Leeds Carers Trust asks" not in json.dumps(body)
    missing = client.get("/api/v1/opportunities/999999")
    assert missing.status_code == 404 and missing.get_json()["status"] == 404
    assert client.get(f"/api/v1/opportunities/{plan['draft'].id}").status_code == 404


def test_the_openapi_document_describes_the_forward_plan(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/opportunities", "/api/v1/opportunities/{opportunity_id}",
                 "/api/v1/opportunities/{opportunity_id}/ocds", "/api/v1/ocds"):
        assert path in document["paths"]
    names = {p["name"] for p in document["paths"]["/api/v1/opportunities"]["get"]["parameters"]}
    assert {"q", "status", "cpv", "area", "value_band", "buyer", "route", "vcse", "consortium",
            "closing_within", "sort", "page", "per_page"} <= names


def test_dates_in_exports_carry_the_uk_offset(plan):
    assert ocds._iso(date(2027, 7, 1)) == "2027-07-01T00:00:00+01:00"
    assert ocds._iso(date(2027, 1, 1)) == "2027-01-01T00:00:00+00:00"
