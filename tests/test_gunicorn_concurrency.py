"""Several web workers edit profiles at once; the search index loses no update.

The portal runs under gunicorn with 4 workers against a database of its own. Twenty people make
200 profile edits between them, 20 at a time; every edit must succeed, and afterwards
`flask search check` must report no drift between the index and the database.
"""
import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import BASE_DIR

PEOPLE, EDITS_EACH, CONCURRENCY, WORKERS = 20, 10, 20, 4
PASSWORD = "correct horse battery staple"
BIN = Path(sys.executable).parent
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


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def database_url():
    base = make_url(os.environ["TEST_DATABASE_URL"])
    if base.get_backend_name() == "sqlite":
        yield f"sqlite:///{tempfile.mkdtemp(prefix='pathfinder-gunicorn-')}/portal.db"
        return
    name = f"gunicorn_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def portal_env(database_url):
    env = dict(os.environ)
    env.update({
        "PORTAL_ENV": "development", "DATABASE_URL": database_url,
        "SEARCH_INDEX_DIR": tempfile.mkdtemp(prefix="pathfinder-gunicorn-index-"),
        "SECRET_KEY": "concurrency-test", "SESSION_COOKIE_SECURE": "false",
        "LOGIN_LIMIT_PER_IP": "1000 per minute", "LOGIN_LIMIT_PER_ACCOUNT": "1000 per minute",
    })
    env.pop("TEST_DATABASE_URL", None)
    return env


def _flask(env, *args):
    return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def server(portal_env):
    assert _flask(portal_env, "db", "upgrade", "heads").returncode == 0
    setup = subprocess.run([sys.executable, "-c", SETUP.format(people=PEOPLE, password=PASSWORD)],
                           cwd=BASE_DIR, env=portal_env, capture_output=True, text=True, timeout=120)
    assert setup.returncode == 0, setup.stderr
    org_ids = [int(i) for i in setup.stdout.strip().splitlines()[-1].split(",")]
    assert _flask(portal_env, "search", "rebuild").returncode == 0
    port = _free_port()
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
         "--timeout", "60", "wsgi:app"], cwd=BASE_DIR, env=portal_env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    yield url, org_ids
    process.terminate()
    process.wait(timeout=20)


class Browser:
    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def get(self, path):
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.status, response.read().decode()

    def post(self, path, fields):
        data = urllib.parse.urlencode(fields).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def token(self, path):
        _status, html = self.get(path)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _person_edits(base, person, org_id):
    browser = Browser(base)
    status = browser.post("/sign-in", {"csrf_token": browser.token("/sign-in"),
                                       "email": f"editor{person}@example.org", "password": PASSWORD})
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
    base, org_ids = server
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        futures = [pool.submit(_person_edits, base, person, org_ids[person]) for person in range(PEOPLE)]
        statuses = [status for future in futures for status in future.result()]
    assert len(statuses) == PEOPLE * EDITS_EACH
    assert set(statuses) == {302}, {s: statuses.count(s) for s in set(statuses)}
    check = _flask(portal_env, "search", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "missing: 0" in check.stdout and "stale: 0" in check.stdout
