"""Faults that need no server, on either database: a disk that fills up while an evidence file
is written, and a batch job started while another run of it holds its lock. (The same faults
against gunicorn on PostgreSQL, with a real full filesystem, are in tests/test_faults.py.)"""
import errno
import subprocess
import sys

from config import BASE_DIR
from portal.core import files
from portal.core.locks import job_lock
from portal.organisations import services as profiles
from portal.organisations.models import Credential

PDF = b"%PDF-1.4\n" + b"0" * 5000 + b"\n%%EOF\n"


class _FillsUp:
    """A file that takes the first 1,000 bytes and then reports the disk full."""

    def __init__(self, real):
        self.real = real

    def write(self, data):
        self.real.write(data[:1000])
        self.real.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.real.close()


def test_a_full_disk_leaves_no_partial_file_and_no_row(app, db, make_org, make_user, tmp_path,
                                                       monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path))
    org = make_org()
    user = make_user(org)
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: _FillsUp(real_open(*a, **k)))
    data = {"kind": "safeguarding", "title": "Safeguarding policy"}
    try:
        profiles.add_credential(org, data, user, ("policy.pdf", PDF))
    except files.StorageFull as error:
        message = error.message
    else:
        raise AssertionError("a full disk was not reported")
    monkeypatch.undo()
    assert "file store is full" in message
    assert list(tmp_path.iterdir()) == []
    assert db.session.query(Credential).count() == 0


LOCKED = """
import time
from portal import create_app
from portal.core.locks import job_lock
with create_app().app_context(), job_lock("{name}") as held:
    print(held, flush=True)
    time.sleep(30)
"""


def test_a_job_whose_lock_another_process_holds_does_nothing(app, ctx, tmp_path):
    import os
    env = {**os.environ, "PORTAL_ENV": "development",
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SEARCH_INDEX_DIR": str(tmp_path / "search")}
    holder = subprocess.Popen([sys.executable, "-c", LOCKED.format(name="fault-test-job")],
                              cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
        with job_lock("fault-test-job") as held:
            assert held is False
    finally:
        holder.kill()
        holder.wait()
    with job_lock("fault-test-job") as held:  # let go when the process holding it died
        assert held is True


def test_a_lost_database_gives_the_unavailable_page_and_other_database_errors_a_500(app):
    from sqlalchemy.exc import IntegrityError, OperationalError

    from config import TestingConfig
    from portal import create_app

    def lost():
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    def broken():
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))
    fresh = create_app(TestingConfig)
    fresh.add_url_rule("/_lost", "lost", lost)
    fresh.add_url_rule("/api/v1/_lost", "api_lost", lost)
    fresh.add_url_rule("/_broken", "broken", broken)
    client = fresh.test_client()
    page = client.get("/_lost")
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert "Sorry, the service is unavailable" in page.get_data(as_text=True)
    api = client.get("/api/v1/_lost")
    assert api.status_code == 503 and api.get_json()["status"] == 503
    assert client.get("/_broken").status_code == 500
