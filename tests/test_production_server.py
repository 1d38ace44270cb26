"""The production recipe holds: gunicorn with two workers and threads serves 2,000 requests over
the demo data (forward plan, directory, searches, profiles, entries, the API and profile edits)
with every answer a success and no worker dying.

Workers once died with a segmentation fault every few dozen requests here: Python 3.11 frees an
object's attribute values twice when the garbage collector runs SQLAlchemy's clean-up callback
while that object's attribute dict is being made (see tests/test_interpreter.py). Nothing else
served enough requests in one worker to show it.
"""
import itertools
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from portal.organisations.demo import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD
from tests.production import Browser, Gunicorn, database_url, flask, portal_env  # noqa: F401

REQUESTS, CLIENTS, WORKERS, THREADS = 2000, 8, 2, 4
EDIT_EVERY = 25  # one request in this many is a profile edit
SEARCHES = ("/forward-plan", "/forward-plan?q=support+services", "/forward-plan?page=2",
            "/forward-plan/timeline", "/organisations", "/organisations?q=mental+health",
            "/organisations?q=youth+hackney&page=2", "/api/v1/opportunities?q=care",
            "/api/v1/organisations?q=advice")


@pytest.fixture
def demo_server(portal_env):
    for command in (("db", "upgrade", "heads"), ("seed", "reference"), ("seed", "demo")):
        done = flask(portal_env, *command, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    gunicorn = Gunicorn(portal_env, workers=WORKERS, threads=THREADS)
    yield gunicorn
    gunicorn.stop()


def _pages(base):
    """Every search page, and the profiles and entries their first pages link to."""
    browser = Browser(base)
    profiles = set(re.findall(r'href="(/organisations/\d+)"', browser.get("/organisations")[1]))
    entries = set(re.findall(r'href="(/forward-plan/\d+)"', browser.get("/forward-plan")[1]))
    assert profiles and entries
    return list(SEARCHES) + sorted(profiles)[:20] + sorted(entries)[:20]


def _editor(base):
    """The demo VCSE admin, signed in, and the path of the profile it may edit."""
    browser = Browser(base)
    assert browser.sign_in(f"vcse.admin@{DEMO_EMAIL_DOMAIN}", DEMO_PASSWORD) == 302
    landing = browser.get(browser.location.removeprefix(base))[1]  # the VCSE's dashboard
    own = re.search(r'href="/organisations/(\d+)"', landing).group(1)  # "Your organisation"
    return browser, f"/organisations/{own}/edit"


def _edit(browser, path, n):
    return browser.post(path, {
        "csrf_token": browser.token(path), "name": "Demo VCSE", "legal_form": "registered_charity",
        "income_band": "", "description": f"Edit {n}: befriending, advice and youth work"})


def _client(base, pages, share, editor):
    """One client's share of the requests: (path, status) for each."""
    browser, edit_path = editor
    visitor = Browser(base)
    results = []
    for n, page in share:
        if n % EDIT_EVERY == 0:
            results.append((edit_path, _edit(browser, edit_path, n)))
        else:
            results.append((page, visitor.get(page)[0]))
    return results


def test_gunicorn_serves_two_thousand_requests_without_a_worker_dying(demo_server):
    base = demo_server.url
    pages = _pages(base)
    numbered = list(zip(range(1, REQUESTS + 1), itertools.cycle(pages)))
    shares = [numbered[i::CLIENTS] for i in range(CLIENTS)]
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [pool.submit(_client, base, pages, share, _editor(base)) for share in shares]
        results = [result for future in futures for result in future.result()]
    assert len(results) == REQUESTS
    failures = Counter((path, status) for path, status in results if status not in (200, 302))
    assert not failures, failures.most_common(10)
    assert not demo_server.worker_deaths(), "\n".join(demo_server.worker_deaths())
