"""Shared fixtures: one app per test session, clean tables per test, factories, sign-in helper."""
import os
import re

import pytest
from sqlalchemy import text

from config import TestingConfig
from portal import create_app
from portal.extensions import db as _db
from tests import factories

REFERENCE_TABLES = {"cpv_code", "area", "vocabulary_term"}
IN_CI = os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason):
    """Outside CI a missing dependency skips a test; in CI it is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (skips are failures in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def app():
    app = create_app(TestingConfig)
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
