"""The load test (docs/loadtest.md) at a tiny scale: `flask bench loaddata` builds a valid
portal, and every simulated person's journey works on it through the app, page type by page
type, so a load run measures pages that answer rather than errors."""
import ast
import random
from pathlib import Path

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.bench import loadscenarios as scenarios
from portal.organisations.models import Organisation
from portal.pipeline.models import Opportunity

LOCUSTFILE = Path(__file__).resolve().parents[2] / "benchmarks" / "load" / "locustfile.py"
SIZE = ["--organisations", "200", "--entries", "20"]


def _browser(client, sent):
    """A simulated person whose requests go through the test client; every request must
    answer and pass its check."""
    def send(method, url, name, data, check):
        response = client.open(url, method=method, data=data, follow_redirects=True)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, (name, url, response.status_code)
        problem = check(page, response.request.path) if check else None
        assert problem is None, (name, url, problem)
        sent.append(name)
        return page
    return scenarios.Browser(send, random.Random(7))


def _run(browser, tasks, sent):
    """Each task, tried again (with other entries) until it has sent a request."""
    for action, _weight in tasks:
        for _ in range(5):
            before = len(sent)
            action(browser)
            if len(sent) > before:
                break


def test_generated_portal_serves_every_page_type(app, tmp_path):
    marker = tmp_path / "DATA_VERSION"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["bench", "loaddata", *SIZE, "--marker", str(marker)])
    assert result.exit_code == 0, result.output
    assert "organisations: 200" in result.stdout and "entries: 20" in result.stdout
    assert marker.read_text().startswith("version=")
    assert runner.invoke(args=["bench", "loaddata", *SIZE, "--marker", str(marker),
                               "--check"]).exit_code == 0
    assert runner.invoke(args=["bench", "loaddata", "--organisations", "300", "--entries",
                               "20", "--marker", str(marker), "--check"]).exit_code == 1
    with app.app_context():
        from portal.extensions import db
        assert db.session.scalar(select(func.count(Organisation.id))) == 200
        assert db.session.scalar(select(func.count(Opportunity.id))) == 20
        assert db.session.scalar(select(func.count(User.id)).where(
            User.email == scenarios.account_email("buyer", 0))) == 1

    app.config["WTF_CSRF_ENABLED"] = True  # forms are filled from the page, as a person would
    try:
        _journeys(app)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def _journeys(app):
    sent = []
    _run(_browser(app.test_client(), sent), scenarios.VISITOR_TASKS, sent)
    supplier = _browser(app.test_client(), sent)
    scenarios.sign_in(supplier, scenarios.account_email("supplier", 0), "/dashboard")
    _run(supplier, scenarios.SUPPLIER_TASKS, sent)
    scenarios.sign_in_again(supplier, scenarios.account_email("supplier", 0), "/dashboard")
    buyer = _browser(app.test_client(), sent)
    scenarios.sign_in(buyer, scenarios.account_email("buyer", 0), "/forward-plan/manage")
    _run(buyer, scenarios.BUYER_TASKS, sent)
    assert set(sent) == set(scenarios.PAGE_TYPES)


def test_generator_refuses_a_database_that_holds_organisations(app, make_org):
    make_org()
    result = app.test_cli_runner().invoke(args=["bench", "loaddata", *SIZE])
    assert result.exit_code == 1 and "already holds organisations" in result.output


def test_locustfile_sends_every_kind_of_person():
    """The locustfile needs locust, which only `make loadtest` installs: read it instead."""
    tree = ast.parse(LOCUSTFILE.read_text(encoding="utf-8"))
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    assert {"VISITOR_TASKS", "SUPPLIER_TASKS", "BUYER_TASKS", "sign_in", "sign_in_again",
            "target_ms"} <= names
    assert {"Visitor", "Supplier", "Buyer"} <= classes
    assert set(scenarios.WRITES) <= set(scenarios.PAGE_TYPES)
