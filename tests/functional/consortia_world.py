"""A small world for teaming and consortia tests: a buyer with a published entry, a prime
contractor that leads a bid, two VCSEs that could partner, and an outsider VCSE."""
from datetime import timedelta
from types import SimpleNamespace

from portal.organisations import services as organisations
from portal.pipeline import services as pipeline
from portal.pipeline.models import uk_now
from tests import factories

LEEDS, YORK = "E08000035", "E06000014"


def make_entry(buyer, user, status="planned", **data):
    values = {"title": "Carers support service",
              "description": "Advice, short breaks and peer support for unpaid carers in Leeds",
              "main_cpv_code": "85312000", "areas": "Leeds", "value_min": 600_000,
              "value_basis": "whole_life", "contract_months": 36, "suitable_vcse": True,
              "consortium_welcome": True, **data}
    entry = pipeline.create_opportunity(buyer, values, user)
    if status in ("planned", "open"):
        pipeline.change_status(entry, "planned", user)
    if status == "open":
        pipeline.change_status(entry, "open", user, {"closing_at": uk_now() + timedelta(days=30)})
    return entry


def make_supplier(name, org_type, description, area=LEEDS, cpv="85312000", income=None):
    org = factories.make_org(name, org_type=org_type, description=description)
    organisations.add_area(org, area, None)
    organisations.add_category(org, cpv, None)
    if income is not None:
        org.set_income(income)
    return org


def build_world():
    buyer = factories.make_org("Leeds City Council", org_type="commissioner")
    buyer_user = factories.make_user(buyer, email="buyer@leeds.example")
    prime = make_supplier("Northern Care Partnership Ltd", "prime",
                          "Prime contractor for adult social care contracts across Yorkshire",
                          income=20_000_000)
    carers = make_supplier("Leeds Carers Circle", "vcse",
                           "Short breaks, peer support groups and advice for unpaid carers in "
                           "Leeds", income=400_000)
    respite = make_supplier("Aire Valley Respite", "vcse",
                            "Respite breaks and befriending for unpaid carers and the people "
                            "they care for", income=250_000)
    outsider = make_supplier("York Allotment Society", "vcse",
                             "Allotment plots and gardening clubs", area=YORK, cpv="77300000")
    world = SimpleNamespace(
        buyer=buyer, buyer_user=buyer_user, prime=prime, carers=carers, respite=respite,
        outsider=outsider,
        prime_user=factories.make_user(prime, email="lead@northern.example"),
        carers_user=factories.make_user(carers, email="team@carerscircle.example"),
        respite_user=factories.make_user(respite, email="hello@airevalley.example"),
        outsider_user=factories.make_user(outsider, email="plots@allotments.example"),
    )
    world.entry = make_entry(buyer, buyer_user)
    return world
