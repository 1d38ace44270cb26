"""`flask bench pages`: what each page costs one person, on the database the app points at.

Each demo person (the accounts `flask seed demo` makes) signs in through the app's own sign-in
form with the Flask test client and asks for a fixed list of pages meant to stand for everything
they use: lists with and without search and filters, one entry, one profile, queues, dashboards
and the JSON API. Every page is asked for once to warm caches (that request is not counted), then
`repeats` times; the table gives the median and 95th-percentile time and the SQL statements each
request sent (counted with a `before_cursor_execute` listener on the engine). Nothing is written
by the pages measured, so the database is left as it was, apart from the sign-ins' own records.

One client, one request at a time, in this process: the figures are the page's own cost, not
what it costs under load (that is the load test's subject)."""
import json
import statistics
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from sqlalchemy import event, select

DEMO_DOMAIN = "demo.pathfinder.test"
DEMO_PASSWORD = "pathfinder-demo-2026"

# (person, page name, address). Addresses take ids found in the database by `page_ids`:
# {own_org} the person's organisation, {entry} a published entry of the demo buyer's,
# {profile} a supplier's profile, {record} an accreditation record, {buyer} the demo buyer.
PAGES = (
    ("vcse.admin", "home", "/"),
    ("vcse.admin", "supplier dashboard", "/dashboard"),
    ("vcse.admin", "recommendations", "/recommendations"),
    ("vcse.admin", "forward plan", "/forward-plan"),
    ("vcse.admin", "forward plan, search", "/forward-plan?q=mental+health"),
    ("vcse.admin", "forward plan, filters",
     "/forward-plan?status=planned&value_band=100k_500k&sort=closing"),
    ("vcse.admin", "forward plan, search and filters",
     "/forward-plan?q=support&status=market_engagement&vcse=1"),
    ("vcse.admin", "entry page", "/forward-plan/{entry}"),
    ("vcse.admin", "my interests", "/forward-plan/my-interests"),
    ("vcse.admin", "directory", "/organisations"),
    ("vcse.admin", "directory, search", "/organisations?q=youth+mentoring"),
    ("vcse.admin", "directory, filter", "/organisations?type=vcse&sort=name"),
    ("vcse.admin", "profile", "/organisations/{profile}"),
    ("vcse.admin", "own profile", "/organisations/{own_org}"),
    ("vcse.admin", "consortia board", "/consortia"),
    ("vcse.admin", "accreditation", "/accreditation"),
    ("vcse.admin", "accredited providers", "/accredited-providers"),
    ("vcse.admin", "API opportunities", "/api/v1/opportunities"),
    ("vcse.admin", "API organisations", "/api/v1/organisations"),
    ("vcse.admin", "API suppliers", "/api/v1/suppliers"),
    ("vcse.admin", "API teaming posts", "/api/v1/teaming-posts"),
    ("vcse.member", "home", "/"),
    ("vcse.member", "forward plan", "/forward-plan"),
    ("vcse.member", "recommendations", "/recommendations"),
    ("commissioner", "home", "/"),
    ("commissioner", "my plan", "/forward-plan/manage"),
    ("commissioner", "timeline", "/forward-plan/timeline"),
    ("commissioner", "manage entry", "/forward-plan/manage/{entry}"),
    ("commissioner", "entry interest", "/forward-plan/manage/{entry}/interest"),
    ("commissioner", "entry questions", "/forward-plan/manage/{entry}/questions"),
    ("commissioner", "entry matches", "/forward-plan/{entry}/matches"),
    ("commissioner", "insight dashboard", "/insight/"),
    ("commissioner", "insight report", "/insight/report"),
    ("commissioner", "market map", "/insight/market"),
    ("commissioner", "contracts register", "/insight/contracts"),
    ("commissioner", "social value", "/insight/social-value"),
    ("commissioner", "transparency", "/commissioners/{buyer}/transparency"),
    ("commissioner", "API commissioner contracts", "/api/v1/commissioners/{buyer}/contracts"),
    ("prime", "home", "/"),
    ("prime", "consortia board", "/consortia"),
    ("prime", "subcontracts", "/subcontracts"),
    ("prime", "supply chain", "/supply-chain"),
    ("prime", "API subcontract packages", "/api/v1/subcontract-packages"),
    ("assessor", "home", "/"),
    ("assessor", "accreditation queue", "/accreditation/assess"),
    ("assessor", "accreditation records", "/accreditation/assess/records"),
    ("assessor", "accreditation record", "/accreditation/assess/records/{record}"),
    ("assessor", "accredited providers", "/accredited-providers"),
    ("assessor", "accreditation report", "/accreditation/report"),
    ("site.admin", "admin home", "/admin/"),
    ("site.admin", "admin organisations", "/admin/organisations"),
    ("site.admin", "admin users", "/admin/users"),
    ("site.admin", "admin audit", "/admin/audit"),
    ("site.admin", "admin verification", "/admin/verification"),
    ("site.admin", "site-wide insight", "/insight/?scope=all"),
    ("partner", "home", "/"),
    ("partner", "consortia board", "/consortia"),
    ("partner", "consortium teams", "/consortia/teams"),
)


class PagesBenchError(Exception):
    """Something the person running the benchmark must fix (such as missing demo data)."""


@dataclass
class PageCost:
    person: str
    page: str
    path: str
    status: int
    median_ms: float
    p95_ms: float
    queries: float

    def row(self):
        return (f"{self.person:<13} {self.page:<34} {self.median_ms:>8.1f} {self.p95_ms:>8.1f} "
                f"{self.queries:>7g}  {self.status}")


HEADER = f"{'person':<13} {'page':<34} {'median':>8} {'p95':>8} {'queries':>7}  status"


class QueryCounter:
    """Counts the statements the engine sends while `counting`."""

    def __init__(self, engine):
        self.engine, self.count, self.active = engine, 0, False

    def _seen(self, *_args, **_kwargs):
        if self.active:
            self.count += 1

    @contextmanager
    def counting(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        self.active, self.count = True, 0
        try:
            yield self
        finally:
            self.active = False
            event.remove(self.engine, "before_cursor_execute", self._seen)


def page_ids(session):
    """The ids the page addresses need, read from the demo data (None where there is none)."""
    from portal.accounts.models import User
    from portal.accreditation.models import AccreditationRecord
    from portal.organisations.models import Organisation
    from portal.pipeline.models import Opportunity

    buyer = session.scalar(select(User.organisation_id)
                           .where(User.email == f"commissioner@{DEMO_DOMAIN}"))
    entry = session.scalar(select(Opportunity.id).where(
        Opportunity.organisation_id == buyer, Opportunity.status != "draft")
        .order_by(Opportunity.id))
    profile = session.scalar(select(Organisation.id).where(
        Organisation.org_type == "vcse", Organisation.status == "active")
        .order_by(Organisation.id))
    record = session.scalar(select(AccreditationRecord.id).order_by(AccreditationRecord.id))
    return {"buyer": buyer, "entry": entry, "profile": profile, "record": record}


def _own_organisation(session, person):
    from portal.accounts.models import User

    return session.scalar(select(User.organisation_id)
                          .where(User.email == f"{person}@{DEMO_DOMAIN}"))


def sign_in(app, person, password=DEMO_PASSWORD):
    """A test client signed in as one demo person (the sign-in form, as a browser uses it)."""
    client = app.test_client()
    response = client.post("/sign-in", data={"email": f"{person}@{DEMO_DOMAIN}",
                                             "password": password})
    if response.status_code != 302:
        raise PagesBenchError(f"{person} could not sign in as {person}@{DEMO_DOMAIN} "
                              f"(status {response.status_code}): load the demo data with "
                              "`flask prepare` on an empty database")
    return client


def _percentile(times, share):
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def time_page(client, counter, person, name, path, repeats):
    """Ask once to warm up (not counted), then `repeats` times; the page's PageCost."""
    client.get(path)
    times, counts, status = [], [], 200
    for _ in range(repeats):
        with counter.counting():
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        counts.append(counter.count)
        status = response.status_code
    return PageCost(person, name, path, status, statistics.median(times),
                    _percentile(times, 0.95), statistics.median(counts))


def _setting_up(app, people):
    """The engine, the page ids and each person's organisation, read in an app context of
    their own: requests made inside one would share its database session, and so find rows
    already loaded by earlier requests and send fewer queries than a real request sends."""
    from portal.extensions import db

    with app.app_context():
        ids = page_ids(db.session)
        own = {person: _own_organisation(db.session, person) for person in people}
        db.session.remove()
        return db.engine, ids, own


@contextmanager
def outside_app_context():
    """Set the current app context aside (the `flask` command pushes one) and restore it."""
    from flask.globals import _cv_app

    context = _cv_app.get(None)
    if context is not None:
        context.pop()
    try:
        yield
    finally:
        if context is not None:
            context.push()


def measure(app, repeats=10, people=None, pages=PAGES, progress=None):
    """Every listed page's cost, person by person; pages whose ids are missing are skipped.
    Any app context is set aside meanwhile (see `_setting_up`)."""
    chosen = [p for p in dict.fromkeys(p for p, _, _ in pages) if not people or p in people]
    with outside_app_context():
        return _measure(app, repeats, chosen, pages, progress)


def _measure(app, repeats, chosen, pages, progress):
    engine, ids, own = _setting_up(app, chosen)
    counter, results = QueryCounter(engine), []
    for person in chosen:
        ids["own_org"] = own[person]
        client = sign_in(app, person)
        for who, name, template in pages:
            if who != person:
                continue
            try:
                path = template.format(**ids)
            except KeyError:
                continue
            if "None" in path:
                continue
            results.append(time_page(client, counter, person, name, path, repeats))
            if progress:
                progress(results[-1].row())
    return results


def table(results, repeats):
    """The printed table, with how it was measured."""
    lines = [f"{len(results)} pages, {repeats} timed requests each after one warm-up request "
             "(not counted); times in ms, queries = SQL statements per request (median)",
             HEADER]
    lines += [r.row() for r in results]
    slow = [r for r in results if r.median_ms >= 50]
    lines.append(f"pages with a median of 50 ms or more: {len(slow)}")
    failed = [r for r in results if r.status >= 400]
    if failed:
        lines.append("pages that did not answer 2xx/3xx: "
                     + ", ".join(f"{r.person} {r.page} ({r.status})" for r in failed))
    return lines


def write_json(results, repeats, path):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"repeats": repeats, "warm_up_requests_excluded": 1,
                   "pages": [asdict(r) for r in results]}, handle, indent=2)


@contextmanager
def bench_settings(app):
    """Sign-in by password without CSRF or the rate limiter, for the duration of the run."""
    from portal.extensions import limiter

    saved = {k: app.config.get(k) for k in ("WTF_CSRF_ENABLED", "RATELIMIT_ENABLED")}
    enabled = limiter.enabled
    app.config.update(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    limiter.enabled = False
    try:
        yield
    finally:
        app.config.update(saved)
        limiter.enabled = enabled
