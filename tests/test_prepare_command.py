"""`flask prepare`, which `make run` runs before serving: on an empty database it migrates, loads
the reference data and builds the indexes; run again it finds everything done and changes
nothing, in one process. (The production configuration is used, which loads no demo data.)"""
import pytest

from tests.production import database_url, flask, portal_env  # noqa: F401


@pytest.fixture
def production_env(portal_env):
    return {**portal_env, "PORTAL_ENV": "production",
            "SECRET_KEY": "prepare-command-test-secret-key-0123456789"}


def test_prepare_sets_everything_up_once_and_then_only_checks(production_env):
    first = flask(production_env, "prepare")
    assert first.returncode == 0, first.stderr[-2000:]
    assert "Running upgrade" in first.stderr and "Indexed 0 organisations" in first.stdout
    again = flask(production_env, "prepare")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "Running upgrade" not in again.stderr
    assert "Search index is up to date" in again.stdout
