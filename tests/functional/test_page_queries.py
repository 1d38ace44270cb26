"""The list pages send as many SQL statements for a page of many rows as for a page of few:
what each row shows is read for the whole page at once, never one query a row.

Each test builds a few rows, counts the statements of one request (after a warm-up request),
builds twice as many more (every row still on the first page), and counts again."""
import pytest
from flask import current_app

from portal.accreditation import services as accreditation
from portal.bench.pages import QueryCounter
from portal.extensions import db
from portal.pipeline import services as pipeline
from tests import factories
from tests.conftest import sign_in
from tests.functional.consortia_world import make_entry, make_supplier
from tests.functional.test_accreditation_support import (  # noqa: F401  (fixtures)
    complete_application, evidence_dir, world,
)

FEW = 3


def statements(client, path):
    """SQL statements sent by one request for `path` (after one that warms caches)."""
    assert client.get(path).status_code == 200
    counter = QueryCounter(db.engine)
    with counter.counting():
        response = client.get(path)
    assert response.status_code == 200
    return counter.count


def grows_not(client, paths, add_rows):
    """Each path's statement count with FEW rows and with 3 * FEW rows, asserted equal (the
    rows are built once for every path: building them is most of the test's time)."""
    add_rows(0, FEW)
    few = {path: statements(client, path) for path in paths}
    add_rows(FEW, 3 * FEW)
    many = {path: statements(client, path) for path in paths}
    grew = {path: (few[path], many[path]) for path in paths if many[path] != few[path]}
    assert not grew, f"statements for {FEW} rows and for {3 * FEW}: {grew}"


@pytest.fixture
def buyer(ctx):
    org = factories.make_org("Leeds City Council", org_type="commissioner")
    return org, factories.make_user(org, email="buyer@leeds.example")


def _entries(buyer):
    """Entries in Leeds or across its region, each with a supplier's question and interest."""
    org, user = buyer

    def add(start, stop):
        for i in range(start, stop):
            entry = make_entry(org, user, title=f"Carers support service {i}",
                               areas="Leeds" if i % 2 else "Yorkshire and The Humber")
            supplier = factories.make_user(factories.make_org(f"Carers Trust {i}"),
                                           email=f"supplier{i}@example.org")
            with current_app.test_request_context():  # the buyer is emailed a link
                pipeline.ask_question(entry, "When will the tender be published?", supplier)
                pipeline.express_interest(entry, supplier, "sole")
    return add


def test_the_forward_plan_lists_do_not_query_per_entry(app, client, buyer):
    sign_in(client, "buyer@leeds.example")
    grows_not(client, ["/forward-plan", "/forward-plan?q=carers",
                       "/forward-plan?status=planned&area=E12000003", "/forward-plan/timeline",
                       "/api/v1/opportunities", "/forward-plan/manage"], _entries(buyer))


def _suppliers(start, stop):
    for i in range(start, stop):
        org = make_supplier(f"Riverside Carers {i}", "vcse", "Support for unpaid carers")
        factories.make_user(org, email=f"admin{i}@riverside.example")


def test_the_directory_and_admin_lists_do_not_query_per_organisation(app, client, ctx):
    factories.make_user(None, email="admin@site.example", site_admin=True)
    sign_in(client, "admin@site.example")
    grows_not(client, ["/organisations", "/organisations?q=carers",
                       "/organisations?type=vcse&area=E12000003", "/api/v1/organisations",
                       "/admin/organisations", "/admin/users"], _suppliers)


def test_the_accreditation_queue_does_not_query_per_application(app, client, world):
    def add(start, stop):
        for i in range(start, stop):
            org = factories.make_org(f"Applicant {i}", income_band="small")
            user = factories.make_user(org, email=f"applicant{i}@example.org")
            application = complete_application(world, org=org, user=user)
            accreditation.submit_application(application, user)
            if i % 2:
                accreditation.assign_assessors(application, [world.assessor.id], world.board)

    sign_in(client, world.board.email)
    grows_not(client, ["/accreditation/assess"], add)
