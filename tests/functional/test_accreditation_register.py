"""The public register, its CSV export, the suppliers API and the needs report."""
import csv
import io
from datetime import date, timedelta

import pytest

from portal.accreditation import register
from portal.accreditation.models import AccreditationRecord
from portal.extensions import db
from portal.reference.models import Area, CpvCode
from tests.functional.test_accreditation_support import (  # noqa: F401  (fixtures)
    complete_application, evidence_dir, world,
)


def _accredit(world, org, slug, rank, days=300, status="active"):
    scheme = world.scheme(slug)
    record = AccreditationRecord(
        organisation_id=org.id, scheme=scheme, level=scheme.current.level_by_rank(rank),
        starts_on=date.today() - timedelta(days=10),
        expires_on=date.today() + timedelta(days=days), status=status)
    db.session.add(record)
    db.session.commit()
    return record


@pytest.fixture
def listed(world, make_org):
    authority = db.session.scalar(db.select(Area).where(Area.kind == "authority",
                                                        Area.region_code.is_not(None)))
    care = db.session.get(CpvCode, "85311000") or db.session.scalar(
        db.select(CpvCode).where(CpvCode.code.like("853%")))
    world.org.areas = [authority]
    world.org.cpv_codes = [care]
    world.other_org.name = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    _accredit(world, world.org, "sliding-scale", 1)
    _accredit(world, world.other_org, "kite-mark", 1)
    lapsed = make_org("Expired Things")
    _accredit(world, lapsed, "sliding-scale", 3, days=-1)
    suspended = make_org("Suspended Things")
    _accredit(world, suspended, "sliding-scale", 3, status="suspended")
    return {"authority": authority, "care": care}


def test_register_lists_only_current_accreditations(client, listed):
    page = client.get("/accredited-providers")
    assert page.status_code == 200
    assert "Riverside Advice Centre" in page.text and "HYPERLINK" in page.text
    assert "Expired Things" not in page.text and "Suspended Things" not in page.text
    assert "2 accredited providers found" in page.text


def test_register_filters(client, listed):
    def names(**args):
        return {item["name"] for item in client.get("/api/v1/suppliers",
                                                    query_string=args).json["items"]}
    assert names(scheme="kite-mark") == {"=HYPERLINK(\"http://evil\")"}
    assert names(tier="2") == {"=HYPERLINK(\"http://evil\")"}
    assert names(tier="1") == {"Riverside Advice Centre", "=HYPERLINK(\"http://evil\")"}
    assert names(area=listed["authority"].region_code) == {"Riverside Advice Centre"}
    assert names(cpv="85000000") == {"Riverside Advice Centre"}
    assert names(area=listed["authority"].code, scheme="kite-mark") == set()


def test_register_page_reports_a_bad_filter_and_ignores_it(client, listed):
    page = client.get("/accredited-providers?tier=9&scheme=sliding-scale")
    assert "Choose tier 1, 2 or 3" in page.text
    assert "1 accredited provider found" in page.text


def test_register_paginates(client, world, make_org, app):
    for i in range(app.config["PER_PAGE"] + 3):
        _accredit(world, make_org(f"Provider {i:02d}"), "sliding-scale", 1)
    first = client.get("/accredited-providers")
    assert "showing 1 to 20" in first.text and "govuk-pagination" in first.text
    second = client.get("/accredited-providers?page=2")
    assert "Provider 22" in second.text and "Provider 00" not in second.text


def test_csv_export_escapes_formulas(client, listed):
    response = client.get("/accredited-providers.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["organisation"] for r in rows} == {"Riverside Advice Centre",
                                                 "'=HYPERLINK(\"http://evil\")"}
    riverside = next(r for r in rows if r["organisation"] == "Riverside Advice Centre")
    assert riverside["tier"] == "1" and riverside["largest_contract_value"] == "50000"


@pytest.mark.parametrize("value, safe", [("=1+1", "'=1+1"), ("+44", "'+44"), ("-2", "'-2"),
                                         ("@SUM(A1)", "'@SUM(A1)"), ("Plain", "Plain"),
                                         (None, ""), (5, "5")])
def test_csv_safe(value, safe):
    assert register.csv_safe(value) == safe


def test_suppliers_api_shape_and_pagination(client, listed):
    data = client.get("/api/v1/suppliers?per_page=1&sort=name").json
    assert data["total"] == 2 and data["pages"] == 2 and len(data["items"]) == 1
    item = client.get("/api/v1/suppliers?scheme=sliding-scale").json["items"][0]
    assert item["tier"] == 1 and item["accreditations"][0]["scheme"] == "sliding-scale"
    assert item["largest_contract_value"] == 50000
    assert item["links"]["profile"].endswith(f"/organisations/{item['id']}")


@pytest.mark.parametrize("args", ["tier=4", "scheme=nope", "area=X", "cpv=123", "page=0",
                                  "per_page=1000", "sort=random"])
def test_suppliers_api_rejects_bad_parameters(client, listed, args):
    response = client.get(f"/api/v1/suppliers?{args}")
    assert response.status_code == 400 and response.json["message"]


def test_suppliers_api_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").json
    operation = document["paths"]["/api/v1/suppliers"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"tier", "scheme", "area", "cpv", "q"}
    assert "SupplierList" in document["components"]["schemas"]


def test_needs_report_counts_standards_not_yet_met(world, ctx):
    complete_application(world, status="not_yet")
    complete_application(world, org=world.other_org, user=world.other_applicant, status="met")
    rows = register.standards_report(world.scheme("sliding-scale"))
    q1 = next(r for r in rows if r.code == "Q1")
    assert (q1.answered, q1.not_yet, q1.share_not_yet) == (2, 1, 50)
    assert register.standards_report(world.scheme("sliding-scale"), level_rank=3) == []


def test_scheme_pages_are_public(client, world):
    assert "Stage 3 – major provider" in client.get("/accreditation/schemes/sliding-scale").text
    assert client.get("/accreditation/schemes").status_code == 200
    assert client.get("/accreditation/schemes/nope").status_code == 404
