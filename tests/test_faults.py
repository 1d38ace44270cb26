"""Faults while traffic runs, against the portal as production runs it: gunicorn with two workers
on PostgreSQL, rate limits in Redis, evidence on a small filesystem of its own.

- a web worker killed (SIGKILL) while people save their profiles: no edit is half written,
  each has its audit event, and retrying the same form works without doing it twice;
- the database unreachable for a few seconds (a proxy between the workers and PostgreSQL is
  cut; the shared server itself is left alone): clean 503 pages and JSON, no 500, no hang,
  and the portal recovers by itself when the database is back;
- the evidence store full: a clear error, no partial file, no row naming a missing file;
- `flask alerts send` and `flask matching refresh` started twice at once: no email sent
  twice, no entry refreshed twice;
- the sign-in limit per account holding across both workers.

One server serves all of them (about a minute in all). They need PostgreSQL (marked
`postgres`: the SQLite pass of the suite leaves them out), Redis on 127.0.0.1:6379 and the right
to mount a tmpfs (root); without Redis or the mount they are skipped, which fails CI.
"""
import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import BASE_DIR
from tests.conftest import skip_or_fail
from tests.production import BIN, Browser, Gunicorn, flask, fresh_database

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery staple"
PEOPLE, ENTRIES, SUBSCRIBERS = 8, 80, 12
REDIS = ("127.0.0.1", 6379)
REDIS_DB = 13  # the tests' own database number, emptied of this run's keys afterwards
ACCOUNT_LIMIT = 5
MAX_KILLS = 8
KILLS = 3
SETUP = """
from portal import create_app
from portal.extensions import db
from portal.organisations.models import Organisation
from portal.accounts.models import User
from portal.alerts import services as alerts
from portal.core.mixins import utcnow
from portal.pipeline import services as pipeline
app = create_app()
with app.app_context():
    def person(n, org):
        user = User(email=f"person{n}@example.org", name=f"Person {n}", organisation=org,
                    org_role="admin", email_verified_at=utcnow())
        user.set_password("%(password)s")
        db.session.add(user)
        return user
    orgs = []
    for n in range(%(people)d):
        org = Organisation(name=f"Fault Trust {n}", description="Carers support and advice")
        org.set_type("vcse", "registered_charity")
        db.session.add(org)
        orgs.append(org)
        person(n, org)
    council = Organisation(name="Leeds City Council")
    council.set_type("commissioner", "council")
    council.verify(None, "other", "Verified for the fault tests")
    officer = person("officer", council)
    readers = [person(f"reader{n}", orgs[n %% len(orgs)]) for n in range(%(subscribers)d)]
    db.session.commit()
    for reader in readers:
        alerts.subscribe(reader, "forward_plan", "Everything", {}, "instant")
    for n in range(%(entries)d):
        entry = pipeline.create_opportunity(council, {
            "title": f"Carers support service {n}", "description": "Advice and short breaks",
            "main_cpv_code": "85312000", "areas": "Leeds", "value_min": 400_000,
            "value_basis": "whole_life", "suitable_vcse": True}, officer)
        pipeline.change_status(entry, "planned", officer, {})
    print(",".join(str(o.id) for o in orgs))
"""


# --- the database behind a proxy that can be cut -------------------------------------------------

class CuttableProxy:
    """A TCP proxy to PostgreSQL that can be cut (every connection closed, new ones refused) and
    put back on the same port."""

    def __init__(self, target):
        self.target = target
        self.port = _free_port()
        self.connections = set()
        self.lock = threading.Lock()
        self.listener = None
        self.restore()

    def restore(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self):
        # shutdown wakes the thread waiting in accept(); close alone would leave it accepting.
        with self.lock:
            _close(self.listener)
            self.listener = None
            for sock in self.connections:
                _close(sock)
            self.connections.clear()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                if listener is not self.listener:  # cut meanwhile
                    _close(client)
                    _close(server)
                    return
                self.connections.update((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, a, b):
        pair = {a: b, b: a}
        try:
            while True:
                readable, _, _ = select.select(list(pair), [], [], 1)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        raise OSError
                    pair[sock].sendall(data)
        except (OSError, ValueError):
            pass
        finally:
            with self.lock:
                self.connections.difference_update((a, b))
            _close(a)
            _close(b)


def _close(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- Redis (a few commands over a socket, to check it is there and clean up) ---------------------

def _redis(*words):
    command = f"*{len(words)}\r\n" + "".join(f"${len(w)}\r\n{w}\r\n" for w in words)
    with socket.create_connection(REDIS, timeout=2) as sock:
        sock.sendall(command.encode())
        return sock.recv(65536).decode(errors="replace")


def _redis_clear(prefix):
    import redis
    client = redis.Redis(*REDIS, db=REDIS_DB)
    keys = list(client.scan_iter(match=f"*{prefix}*"))
    if keys:
        client.delete(*keys)
    return len(keys)


# --- the server --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world():
    try:
        _redis("PING")
    except OSError:
        skip_or_fail("These tests need Redis on 127.0.0.1:6379")
    evidence = tempfile.mkdtemp(prefix="pathfinder-faults-evidence-")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", evidence],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        os.rmdir(evidence)
        skip_or_fail(f"These tests mount a 1 MB tmpfs for the evidence store: {mounted.stderr}")
    try:
        with fresh_database("faults") as url:
            yield from _serve(url, evidence)
    finally:
        subprocess.run(["umount", evidence], capture_output=True)
        os.rmdir(evidence)


def _serve(url, evidence):
    folder = tempfile.mkdtemp(prefix="pathfinder-faults-")
    env = {**os.environ, "PORTAL_ENV": "development", "DATABASE_URL": url,
           "SEARCH_INDEX_DIR": os.path.join(folder, "search"), "EVIDENCE_DIR": evidence,
           "SECRET_KEY": "faults-test", "SESSION_COOKIE_SECURE": "false",
           "LOGIN_LIMIT_PER_IP": "1000 per minute",
           "LOGIN_LIMIT_PER_ACCOUNT": f"{ACCOUNT_LIMIT} per minute", "PYTHONFAULTHANDLER": "1"}
    env.pop("TEST_DATABASE_URL", None)
    for command in (("db", "upgrade", "heads"), ("seed", "reference")):
        done = flask(env, *command)
        assert done.returncode == 0, done.stdout + done.stderr
    setup = subprocess.run([sys.executable, "-c", SETUP % {
        "password": PASSWORD, "people": PEOPLE, "entries": ENTRIES, "subscribers": SUBSCRIBERS}],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert setup.returncode == 0, setup.stderr
    org_ids = [int(i) for i in setup.stdout.strip().splitlines()[-1].split(",")]
    assert flask(env, "search", "rebuild").returncode == 0
    database = make_url(url)
    proxy = CuttableProxy((database.host or "127.0.0.1", database.port or 5432))
    prefix = f"pathfinder-faults-{uuid.uuid4().hex[:8]}"
    served = {**env, "DATABASE_URL": database.set(port=proxy.port).render_as_string(False),
              "RATELIMIT_STORAGE_URI": f"redis://{REDIS[0]}:{REDIS[1]}/{REDIS_DB}",
              "RATELIMIT_KEY_PREFIX": prefix}
    gunicorn = Gunicorn(served, workers=2, threads=2)
    engine = create_engine(url)
    try:
        yield {"gunicorn": gunicorn, "proxy": proxy, "env": env, "org_ids": org_ids,
               "engine": engine, "evidence": Path(evidence), "prefix": prefix}
    finally:
        gunicorn.stop()
        engine.dispose()
        _redis_clear(prefix)
        shutil.rmtree(folder, ignore_errors=True)


def _workers(gunicorn):
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(gunicorn.process.pid)],
                           capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def _oldest(pids):
    """The worker that has been serving longest (not one still booting)."""
    return min(pids, key=lambda pid: int(Path(f"/proc/{pid}/stat").read_text().split()[21]))


def _rows(engine, sql, **params):
    with engine.connect() as connection:
        return connection.execute(text(sql), params).all()


# --- a client that retries what a dead worker did not answer --------------------------------------

class Person(Browser):
    """A browser whose requests are tried again when the connection dies without an answer,
    as a person would press the button again."""

    retries = 0
    cut_short = []  # one item per request sent again, by anyone

    def _try(self, action, attempts=40):
        for attempt in range(attempts):
            self.retries += 1 if attempt else 0
            if attempt:
                Person.cut_short.append(1)
            try:
                answer = action()
            except (OSError, urllib.error.URLError):
                answer = None
            if answer is not None and answer[0] != 0:
                return answer
            time.sleep(0.1)
        raise AssertionError("no answer after a worker was killed")

    def page(self, path):
        return self._try(lambda: self.get(path))

    def send(self, path, fields):
        """The same POST (same token and fields) until it is answered; (status, retries)."""
        tries = []

        def once():
            tries.append(1)
            return (self.post(path, fields),)
        return self._try(once)[0], len(tries) - 1

    def form_token(self, path):
        _status, html = self.page(path)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _editor(base, person, org_id, stop):
    """Sign in and save the profile again and again until `stop`; (edits, POSTs sent again,
    requests sent again)."""
    browser = Person(base)
    status, _ = browser.send("/sign-in", {"csrf_token": browser.form_token("/sign-in"),
                                          "email": f"person{person}@example.org",
                                          "password": PASSWORD})
    assert status == 302, f"sign-in gave {status}"
    path, retried, edits = f"/organisations/{org_id}/edit", 0, 0
    while not stop.is_set():
        status, retries = browser.send(path, {
            "csrf_token": browser.form_token(path), "name": f"Fault Trust {person}",
            "legal_form": "registered_charity", "income_band": "",
            "description": f"Edit {edits} by person {person}"})
        assert status == 302, f"edit {edits} of person {person} gave {status}"
        retried, edits = retried + retries, edits + 1
    return edits, retried, browser.retries


def test_a_killed_worker_leaves_no_half_written_edit_and_a_retry_works(world):
    gunicorn, engine, org_ids = world["gunicorn"], world["engine"], world["org_ids"]
    stop, killed, started = threading.Event(), [], time.monotonic()
    with ThreadPoolExecutor(max_workers=PEOPLE) as pool:
        futures = [pool.submit(_editor, gunicorn.url, n, org_ids[n], stop) for n in range(PEOPLE)]
        # At least KILLS rounds, and more (up to MAX_KILLS) until one has cut a request short:
        # a request still waiting in the listening socket's queue survives a kill.
        Person.cut_short.clear()
        for round_ in range(MAX_KILLS):
            if round_ >= KILLS and Person.cut_short:
                break
            time.sleep(3)  # time for a replaced worker to boot and take requests
            # Every worker at once, so the kill always lands on requests in flight.
            for victim in _workers(gunicorn):
                os.kill(victim, 9)
                killed.append(victim)
        time.sleep(3)
        stop.set()
        answers = [future.result() for future in futures]
    edits = [made for made, _r, _a in answers]
    retried, all_retries = sum(a[1] for a in answers), sum(a[2] for a in answers)
    print(f"\nworkers killed: {len(killed)}; POSTs sent again after no answer: {retried} "
          f"(all requests: {all_retries}); {sum(edits)} edits in "
          f"{time.monotonic() - started:.1f} s")
    assert len(_workers(gunicorn)) == 2, "the master did not replace the killed workers"
    assert all_retries, "no request was cut short by a kill: the test showed nothing"
    for n, org_id in enumerate(org_ids):
        (description,), = _rows(engine, "SELECT description FROM organisation WHERE id = :id",
                                id=org_id)
        assert description == f"Edit {edits[n] - 1} by person {n}"
        # Every edit landed once: one audit event each, none without its change or twice.
        events = _rows(engine, "SELECT count(*) FROM audit_event WHERE action = "
                               "'organisation.updated' AND object_id = :id", id=org_id)
        assert events[0][0] == edits[n], f"person {n}: {events[0][0]} audit events for {edits[n]} edits"


# --- the database unreachable --------------------------------------------------------------------

PROBES = ("/organisations", "/forward-plan", "/api/v1/organisations?q=carers", "/healthz")


def _probe(base, path):
    started = time.monotonic()
    request = urllib.request.Request(base + path)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, body, kind = response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as error:
        status, body, kind = error.code, error.read().decode(errors="replace"), error.headers
    return path, status, body, kind.get("Content-Type", ""), time.monotonic() - started


def _traffic(base, stop, results):
    while not stop.is_set():
        for path in PROBES:
            results.append((time.monotonic(), *_probe(base, path)))


def _tracebacks(log):
    """The server's error lines, to say why a request failed."""
    start = log.find("Traceback")
    return log[start:start + 3000] if start >= 0 else log[-3000:]


def test_the_database_unreachable_gives_503_pages_and_the_portal_recovers(world):
    gunicorn, proxy = world["gunicorn"], world["proxy"]
    stop, results = threading.Event(), []
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = [pool.submit(_traffic, gunicorn.url, stop, results) for _ in range(4)]
        time.sleep(1.5)
        cut_at = time.monotonic()
        proxy.cut()
        time.sleep(4)
        back_at = time.monotonic()
        proxy.restore()
        time.sleep(3)
        stop.set()
        for run in runs:
            run.result()
    statuses = {status for *_, status, _b, _k, _s in [(r[0], r[1], r[2], r[3], r[4], r[5])
                                                        for r in results]}
    during = [r for r in results if cut_at + 0.5 < r[0] and r[0] + r[5] < back_at]
    after = [r for r in results if r[0] > back_at + 1.5]
    summary = {}
    for _at, path, status, _body, _kind, _seconds in results:
        summary[(path, status)] = summary.get((path, status), 0) + 1
    print(f"\nanswers (path, status): count: {summary}; slowest "
          f"{max(r[5] for r in results):.2f} s")
    assert statuses <= {200, 503}, (summary, _tracebacks(gunicorn.log()))
    assert max(r[5] for r in results) < 10, "a request hung while the database was away"
    # Healthz and anything that reads the database answer 503 while it is cut (a page served
    # from the search index alone may still answer).
    down = {(r[1], r[2]) for r in during}
    print(f"while cut: {sorted(down)}")
    assert during and ("/healthz", 200) not in down and ("/healthz", 503) in down
    assert {path for path, status in down if status == 503} >= {"/healthz", "/organisations"}
    for _at, path, status, body, kind, _seconds in during:
        if path.startswith("/api/") or path == "/healthz":
            assert kind.startswith("application/json") and json.loads(body)["status"] in (503, "error")
        else:
            assert kind.startswith("text/html") and "Sorry, the service is unavailable" in body
    assert after and {r[2] for r in after} == {200}, "the portal did not recover by itself"
    assert not gunicorn.worker_deaths() or "was sent SIGKILL" in gunicorn.log()


# --- the evidence store full ---------------------------------------------------------------------

def _pdf(size):
    head, tail = b"%PDF-1.4\n", b"\n%%EOF\n"
    return head + b"0" * (size - len(head) - len(tail)) + tail


def _multipart(fields, files):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    for name, (filename, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
                     + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _upload(browser, path, title, data):
    token = browser.form_token(path)
    body, kind = _multipart({"csrf_token": token, "kind": "safeguarding", "title": title,
                             "reference": ""},
                            {"file": ("policy.pdf", data)})
    request = urllib.request.Request(browser.base + path, data=body,
                                     headers={"Content-Type": kind})
    try:
        with browser.opener.open(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def _credentials(engine, org_id):
    return _rows(engine, "SELECT title, stored_name FROM credential WHERE organisation_id = :id "
                         "ORDER BY id", id=org_id)


def test_a_full_evidence_store_gives_a_clear_error_and_loses_nothing(world):
    gunicorn, engine, folder = world["gunicorn"], world["engine"], world["evidence"]
    org_id, path = world["org_ids"][0], f"/organisations/{world['org_ids'][0]}/credentials"
    browser = Person(gunicorn.url)
    browser.send("/sign-in", {"csrf_token": browser.form_token("/sign-in"),
                              "email": "person0@example.org", "password": PASSWORD})
    status, _html = _upload(browser, path, "Safeguarding policy", _pdf(300_000))
    assert status == 302
    kept = _credentials(engine, org_id)
    assert len(kept) == 1 and (folder / kept[0][1]).stat().st_size == 300_000
    filler = folder / "filler"
    free = shutil.disk_usage(folder).free
    with filler.open("wb") as handle:  # leave about 200 KB free
        handle.write(b"0" * max(free - 200_000, 0))
    try:
        status, html = _upload(browser, path, "Equality policy", _pdf(400_000))
        files_left = sorted(p.name for p in folder.iterdir())
    finally:
        filler.unlink()
    print(f"\nfull store: status {status}; files left: {len(files_left)} (the first and the filler)")
    assert status == 200 and "file store is full" in html
    assert files_left == sorted([kept[0][1], "filler"]), "a partial file was left behind"
    assert _credentials(engine, org_id) == kept, "a row was written for a file not stored"
    assert (folder / kept[0][1]).stat().st_size == 300_000
    status, _html = _upload(browser, path, "Equality policy", _pdf(400_000))
    assert status == 302, "the same upload did not work once there was room"
    rows = _credentials(engine, org_id)
    assert [title for title, _ in rows] == ["Safeguarding policy", "Equality policy"]
    assert all((folder / stored).stat().st_size > 0 for _, stored in rows)


# --- batch jobs started twice at once ------------------------------------------------------------

def _twice(env, *command):
    runs = [subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", *command], cwd=BASE_DIR,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    return [out for out, _err in outputs]


def test_alerts_send_twice_at_once_sends_each_email_once(world):
    engine, env = world["engine"], world["env"]
    outputs = _twice(env, "alerts", "send")
    print("\n" + "\n".join(" / ".join(out.splitlines()) for out in outputs))
    deliveries = _rows(engine, "SELECT d.id, d.item_count, count(i.id) FROM alert_delivery d "
                               "LEFT JOIN alert_item i ON i.delivery_id = d.id GROUP BY d.id")
    emails = _rows(engine, "SELECT count(*) FROM outbox_message WHERE subject LIKE '%new for%'")
    assert deliveries, "nothing was sent"
    assert all(count == items for _id, items, count in deliveries), "an email's matches were sent again"
    assert emails[0][0] == len(deliveries)
    pairs = _rows(engine, "SELECT subscription_id, object_id, count(*) FROM alert_item "
                          "GROUP BY subscription_id, object_type, object_id, version HAVING count(*) > 1")
    assert not pairs


def test_matching_refresh_twice_at_once_refreshes_each_entry_once(world):
    engine, env = world["engine"], world["env"]
    with engine.begin() as connection:
        connection.execute(text("UPDATE opportunity_match_refresh SET stale = true"))
    stale = ENTRIES  # every entry is planned, so takes interest
    outputs = _twice(env, "matching", "refresh", "--stale")
    print("\n" + "\n".join(" / ".join(out.splitlines()) for out in outputs))
    refreshed = [int(m) for out in outputs for m in re.findall(r"^entries: (\d+)", out, re.M)]
    assert sum(refreshed) == stale, f"{stale} stale entries, refreshed {refreshed}"
    assert any("already running" in out for out in outputs) or 0 in refreshed


# --- sign-in limits across workers ---------------------------------------------------------------

def test_the_sign_in_limit_per_account_holds_across_both_workers(world):
    gunicorn, prefix = world["gunicorn"], world["prefix"]
    statuses, workers = [], set()
    for _ in range(ACCOUNT_LIMIT + 3):
        browser = Person(gunicorn.url)  # a new connection each time, shared out between workers
        status, _ = browser.send("/sign-in", {"csrf_token": browser.form_token("/sign-in"),
                                              "email": "personofficer@example.org",
                                              "password": "not the password"})
        statuses.append(status)
    import redis
    keys = list(redis.Redis(*REDIS, db=REDIS_DB).scan_iter(match=f"*{prefix}*"))
    print(f"\nwrong passwords for one account, in turn: {statuses}; Redis keys: {len(keys)}")
    assert statuses[:ACCOUNT_LIMIT] == [200] * ACCOUNT_LIMIT
    assert statuses[ACCOUNT_LIMIT:] == [429] * 3
    assert keys, "the limits were not counted in Redis"
