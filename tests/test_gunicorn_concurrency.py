"""Several web workers edit profiles at once; the search index loses no update.

The portal runs under gunicorn with 4 workers of 4 threads (production's threads per worker)
against a database of its own. Twenty people make 200 profile edits between them, 20 at a
time; every edit must succeed, and afterwards `flask search check` must report no drift
between the index and the database.
"""
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from config import BASE_DIR
from tests.production import Browser, Gunicorn, database_url, flask, portal_env  # noqa: F401

PEOPLE, EDITS_EACH, CONCURRENCY, WORKERS = 20, 10, 20, 4
PASSWORD = "correct horse battery staple"
SETUP = """
from portal import create_app
from portal.extensions import db
from portal.organisations.models import Organisation
from portal.accounts.models import User
from portal.core.mixins import utcnow
app = create_app()
with app.app_context():
    for n in range({people}):
        org = Organisation(name=f"Concurrent Trust {{n}}")
        org.set_type("vcse", "registered_charity")
        user = User(email=f"editor{{n}}@example.org", name=f"Editor {{n}}", organisation=org,
                    org_role="admin", email_verified_at=utcnow())
        user.set_password("{password}")
        db.session.add_all([org, user])
    db.session.commit()
    print(",".join(str(o.id) for o in db.session.query(Organisation).order_by(Organisation.id)))
"""


@pytest.fixture
def server(portal_env):
    assert flask(portal_env, "db", "upgrade", "heads").returncode == 0
    setup = subprocess.run([sys.executable, "-c", SETUP.format(people=PEOPLE, password=PASSWORD)],
                           cwd=BASE_DIR, env=portal_env, capture_output=True, text=True, timeout=120)
    assert setup.returncode == 0, setup.stderr
    org_ids = [int(i) for i in setup.stdout.strip().splitlines()[-1].split(",")]
    assert flask(portal_env, "search", "rebuild").returncode == 0
    gunicorn = Gunicorn(portal_env, workers=WORKERS, threads=4)
    yield gunicorn, org_ids
    gunicorn.stop()


def _person_edits(base, person, org_id):
    browser = Browser(base)
    status = browser.sign_in(f"editor{person}@example.org", PASSWORD)
    assert status == 302, f"sign-in gave {status}"
    results = []
    for edit in range(EDITS_EACH):
        path = f"/organisations/{org_id}/edit"
        results.append(browser.post(path, {
            "csrf_token": browser.token(path), "name": f"Concurrent Trust {person}",
            "legal_form": "registered_charity", "income_band": "",
            "description": f"Edit {edit} by person {person}: befriending and advice"}))
    return results


def test_concurrent_profile_edits_keep_the_index_in_step(server, portal_env):
    gunicorn, org_ids = server
    base = gunicorn.url
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        futures = [pool.submit(_person_edits, base, person, org_ids[person]) for person in range(PEOPLE)]
        statuses = [status for future in futures for status in future.result()]
    assert len(statuses) == PEOPLE * EDITS_EACH
    assert set(statuses) == {302}, {s: statuses.count(s) for s in set(statuses)}
    check = flask(portal_env, "search", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "missing: 0" in check.stdout and "stale: 0" in check.stdout
    assert not gunicorn.worker_deaths(), "\n".join(gunicorn.worker_deaths())
