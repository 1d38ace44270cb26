"""The index follower killed while it applies a large batch loses nothing.

A host's follower (`flask search follow`) writes a batch into the index, then its cursor. Killed
with SIGKILL part way through thousands of changes, it leaves the change log untouched and its
cursor at or behind what the index holds; started again, it applies the rest and the index
agrees with the database.

PostgreSQL only (the `postgres` mark leaves it out of the SQLite pass), as in production.
"""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from config import BASE_DIR
from tests.production import BIN, database_url, flask, portal_env  # noqa: F401

pytestmark = pytest.mark.postgres
PROFILES = 3000
# Adds profiles and logs each as changed, as commits through another host would: this process
# has no app context, so the change dispatcher leaves its commit alone.
ADD_PROFILES = """
from sqlalchemy.orm import Session
from portal import create_app
from portal.core import change_log
from portal.extensions import db
from portal.organisations.models import Organisation
app = create_app()
with app.app_context():
    engine = db.engine
with Session(engine) as session:
    orgs = []
    for n in range({count}):
        org = Organisation(name=f"Harbour Trust {{n}}",
                           description=f"Befriending, advice and lunch club number {{n}}")
        org.set_type("vcse", "registered_charity")
        orgs.append(org)
    session.add_all(orgs)
    session.flush()
    change_log.record(session, [("organisations", org.id) for org in orgs])
    session.commit()
"""


def _cursor(env):
    path = os.path.join(env["SEARCH_INDEX_DIR"], "changes-cursor.json")
    with open(path) as handle:
        return json.load(handle)


def _log_count(env):
    out = subprocess.run([sys.executable, "-c", (
        "from portal import create_app\nfrom portal.extensions import db\n"
        "from portal.core.change_log import IndexChange\napp = create_app()\n"
        "with app.app_context():\n"
        "    print(db.session.query(db.func.count(IndexChange.id)).scalar())")],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    return int(out.stdout.strip().splitlines()[-1])


def test_a_follower_killed_mid_batch_loses_nothing(portal_env):
    env = portal_env
    assert flask(env, "db", "upgrade", "heads").returncode == 0
    assert flask(env, "search", "rebuild").returncode == 0
    start = _cursor(env)["last"]
    added = subprocess.run([sys.executable, "-c", ADD_PROFILES.format(count=PROFILES)],
                           cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert added.returncode == 0, added.stderr

    follower = subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "search", "follow"],
                                cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while _cursor(env)["last"] == start:  # the first batch written, index then cursor
        assert follower.poll() is None, follower.stderr.read()
        assert time.monotonic() < deadline, "the follower wrote no batch"
        time.sleep(0.02)
    follower.send_signal(signal.SIGKILL)
    follower.wait(timeout=20)

    assert _cursor(env)["last"] < start + PROFILES, "killed too late: nothing left to apply"
    assert _log_count(env) == PROFILES  # the log still holds every change
    check = flask(env, "search", "check")
    assert check.returncode == 1 and "missing: 0" not in check.stdout  # some not yet applied

    again = flask(env, "search", "follow", "--once")
    assert again.returncode == 0, again.stderr
    check = flask(env, "search", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "organisations changes behind: 0" in check.stdout
