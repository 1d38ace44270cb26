"""`flask db upgrade` on an empty database builds exactly what the models describe."""
import os
import tempfile
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from config import TestingConfig
from portal import create_app
from portal.extensions import db


@pytest.fixture
def empty_database_url():
    base = make_url(os.environ["TEST_DATABASE_URL"])
    if base.get_backend_name() == "sqlite":
        yield f"sqlite:///{tempfile.mkdtemp(prefix='pathfinder-migrations-')}/empty.db"
        return
    name = f"migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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
