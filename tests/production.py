"""The portal as it runs in production, for tests: gunicorn workers over a database of their own.

Fixtures (import them into a test module to use them): `database_url` (a fresh SQLite file or
PostgreSQL database, removed afterwards) and `portal_env` (the environment a worker sees). Helpers:
`flask()` runs a command against that environment, `Gunicorn` starts and stops the server and
reads its log, `Browser` keeps one person's cookies.
"""
import http.client
import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import BASE_DIR

BIN = Path(sys.executable).parent
# What the arbiter logs when a worker dies rather than exits.
WORKER_DEATHS = re.compile(r"was sent SIG|Segmentation fault|Fatal Python error|WORKER TIMEOUT"
                           r"|Worker \(pid:\d+\) exited with code")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def fresh_database(purpose):
    """The URL of an empty database of the kind TEST_DATABASE_URL names, removed afterwards."""
    base = make_url(os.environ["TEST_DATABASE_URL"])
    if base.get_backend_name() == "sqlite":
        folder = tempfile.mkdtemp(prefix=f"pathfinder-{purpose}-")
        try:
            yield f"sqlite:///{folder}/portal.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"{purpose}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url():
    with fresh_database("gunicorn") as url:
        yield url


@pytest.fixture
def portal_env(database_url):
    folder = tempfile.mkdtemp(prefix="pathfinder-gunicorn-index-")
    env = dict(os.environ)
    env.update({
        "PORTAL_ENV": "development", "DATABASE_URL": database_url,
        "SEARCH_INDEX_DIR": os.path.join(folder, "search"),
        "SECRET_KEY": "production-server-test", "SESSION_COOKIE_SECURE": "false",
        "LOGIN_LIMIT_PER_IP": "1000 per minute", "LOGIN_LIMIT_PER_ACCOUNT": "1000 per minute",
        "PYTHONFAULTHANDLER": "1",
    })
    env.pop("TEST_DATABASE_URL", None)
    yield env
    shutil.rmtree(folder, ignore_errors=True)


def flask(env, *args, timeout=300):
    return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=timeout)


class Gunicorn:
    """gunicorn serving wsgi:app on a free port as production does (`gunicorn -c
    gunicorn.conf.py wsgi:app`, sized through its environment variables), its log kept in a
    file to read afterwards."""

    def __init__(self, env, workers, threads=1):
        self.log_path = Path(tempfile.mkstemp(prefix="pathfinder-gunicorn-", suffix=".log")[1])
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {**env, "WEB_CONCURRENCY": str(workers), "GUNICORN_THREADS": str(threads),
               "PORT": str(port), "BIND_HOST": "127.0.0.1"}
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--no-control-socket",
                 "wsgi:app"],
                cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_up()

    def _wait_until_up(self):
        for _ in range(150):
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("gunicorn did not start:\n" + self.log())

    def log(self):
        return self.log_path.read_text(errors="replace")

    def worker_deaths(self):
        return [line for line in self.log().splitlines() if WORKER_DEATHS.search(line)]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log_path.unlink(missing_ok=True)


class Browser:
    """One person's visits: cookies kept, redirects not followed."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def get(self, path):
        """(status, body); status 0 when the server closed the connection without an answer."""
        try:
            with self.opener.open(self.base + path, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")
        except (ConnectionError, http.client.HTTPException):
            return 0, ""

    def post(self, path, fields):
        """The answer's status; where it redirects to is kept in `location`."""
        data = urllib.parse.urlencode(fields, doseq=True).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=60) as response:
                answer = response
        except urllib.error.HTTPError as error:
            answer = error
        except (ConnectionError, http.client.HTTPException):
            return 0
        self.location = answer.headers.get("Location")
        return answer.status

    def token(self, path):
        _status, html = self.get(path)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)

    def sign_in(self, email, password):
        return self.post("/sign-in", {"csrf_token": self.token("/sign-in"), "email": email,
                                      "password": password})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
