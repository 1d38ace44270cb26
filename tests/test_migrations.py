"""`flask db upgrade` on an empty database builds exactly what the models describe."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from config import TestingConfig
from portal import create_app
from portal.extensions import db
from tests.production import fresh_database


@pytest.fixture
def empty_database_url():
    with fresh_database("migrations") as url:
        yield url


def _app_for(url):
    config = type("MigrationTesting", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    return create_app(config)


def test_upgrade_matches_models(empty_database_url):
    app = _app_for(empty_database_url)
    with app.app_context():
        upgrade(revision="heads")
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        assert differences == [], differences
        db.engine.dispose()


def test_downgrade_to_base_and_up_again(empty_database_url):
    app = _app_for(empty_database_url)
    with app.app_context():
        upgrade(revision="heads")
        downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade(revision="heads")
        assert "organisation" in inspect(db.engine).get_table_names()
        db.engine.dispose()
