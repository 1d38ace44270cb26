"""Shared fixtures: one app per test session, clean tables per test, factories, sign-in helper."""
import atexit
import os
import re
import shutil
import tempfile

# A file, not ":memory:", so apps built with other settings in a test share the same database;
# removed when the run ends.
if "TEST_DATABASE_URL" not in os.environ:
    _FOLDER = tempfile.mkdtemp(prefix="pathfinder-test-")
    atexit.register(shutil.rmtree, _FOLDER, True)
    os.environ["TEST_DATABASE_URL"] = f"sqlite:///{_FOLDER}/test.db"

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from flask.globals import _cv_app
from flask.testing import FlaskClient

from config import TestingConfig
from portal import create_app
from portal.extensions import db as _db, limiter
from tests import factories

REFERENCE_TABLES = {"cpv_code", "area", "area_cover", "vocabulary_term"}
IN_CI = os.environ.get("CI", "").lower() == "true"


_skipped = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test hides a missing dependency, so it fails the run."""
    if IN_CI and _skipped and session.exitstatus == 0:
        print(f"\nCI: {len(_skipped)} test(s) skipped, which counts as a failure: {_skipped[:5]}")
        session.exitstatus = 1


ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` (two connections at once, which in-memory SQLite cannot hold)
    run in the PostgreSQL pass of the suite and are left out of the SQLite one."""
    if ON_POSTGRES:
        return
    left_out = [item for item in items if item.get_closest_marker("postgres")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("postgres")]


def skip_or_fail(reason):
    """Outside CI a missing dependency skips a test; in CI it is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (skips are failures in CI)")
    pytest.skip(reason)


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production.

    Without this, a request made while a test holds an app context would share its `g` (and
    Flask-Login's cached user) and its database session. Afterwards the test's session is expired
    so it sees what the request committed.
    """

    def open(self, *args, **kwargs):
        outer = _cv_app.get(None)
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)
            if outer is not None:
                _db.session.expire_all()


@pytest.fixture(scope="session")
def app():
    app = create_app(TestingConfig)
    app.test_client_class = IsolatedClient
    with app.app_context():
        _db.drop_all()
        _db.create_all()
        from portal.reference.loaders import load_reference
        load_reference()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()


@pytest.fixture(autouse=True)
def _clean_tables(request, app):
    yield
    if "app" not in request.fixturenames:
        return
    with app.app_context():
        _db.session.remove()
        tables = [t for t in reversed(_db.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
        with _db.engine.begin() as connection:
            for table in tables:
                connection.execute(table.delete())
        app.extensions["search_index"].rebuild([])
        if app.extensions.get("opportunity_index") is not None:
            app.extensions["opportunity_index"].rebuild([])


@pytest.fixture(autouse=True)
def _limiter_as_it_was():
    """The rate limiter is one object for every app, so building an app with limits on (to test
    them) switches them on for the tests that follow: switch it back."""
    enabled = limiter.enabled
    yield
    limiter.enabled = enabled


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        _db.session.remove()


@pytest.fixture
def db(ctx):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_org(ctx):
    return factories.make_org


@pytest.fixture
def make_user(ctx):
    return factories.make_user


def sign_in(client, email, password=factories.PASSWORD):
    response = client.post("/sign-in", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


@pytest.fixture
def login(client):
    def _login(user, password=factories.PASSWORD):
        return sign_in(client, user.email, password)
    return _login


def csrf_token_from(html):
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    return match.group(1) if match else None


@pytest.fixture
def conforms(client):
    """check(body, schema name): the body is valid against that schema of the OpenAPI
    document the app serves (`check.document` is the document)."""
    document = client.get("/api/v1/openapi.json").get_json()
    registry = Registry().with_resource(
        "urn:openapi", Resource.from_contents(document, default_specification=DRAFT202012))

    def check(body, name):
        validator = Draft202012Validator({"$ref": f"urn:openapi#/components/schemas/{name}"},
                                         registry=registry)
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
        assert not errors, errors
    check.document = document
    return check
