"""`flask bench insight`: how fast the commissioner's insight pages answer at national scale.

A temporary database is filled as `flask bench search` fills it (real charity objects and grant
texts recombined into N organisations and M forward-plan entries, all entries one buyer's: the
worst case for its dashboard), then given awards, interest, questions and accreditations. Each
page is requested through the app as a signed-in user would, several times; the first request
(warming caches) is not counted."""
import random
import statistics
import time
from datetime import date, datetime, timedelta

from sqlalchemy import insert

PAGES = (("dashboard", "/insight/"), ("dashboard filtered", "/insight/?year_from={year}"),
         ("report", "/insight/report"), ("market map", "/insight/market"),
         ("market map, one region", "/insight/market?region=E12000007"),
         ("transparency", "/commissioners/{buyer}/transparency"),
         ("transparency API", "/api/v1/commissioners/{buyer}/insight"),
         ("site-wide dashboard", "/insight/?scope=all"))
REPEATS = 5
AWARDED_SHARE = 0.4
ACCREDITED_SHARE = 0.05
PASSWORD = "bench-password-2026"


def _levels():
    from portal.accreditation.models import Level, Scheme, SchemeVersion
    from portal.extensions import db

    scheme = Scheme(slug="bench", name="Bench scheme")
    version = SchemeVersion(scheme=scheme, number=1, name="Bench", source={})
    levels = [Level(version=version, rank=t, tier=t, name=f"Tier {t}", validity_months=24)
              for t in (1, 2, 3)]
    db.session.add_all([scheme, version, *levels])
    db.session.commit()
    return scheme.id, [level.id for level in levels]


def _awards(opportunity_ids, supplier_ids, rng):
    from portal.pipeline.models import Award, AwardWinner

    awards, winners = [], []
    for entry_id in opportunity_ids:
        if rng.random() < AWARDED_SHARE:
            awards.append({"id": entry_id, "opportunity_id": entry_id,
                           "awarded_on": date(rng.randint(2021, 2026), rng.randint(1, 12), 1),
                           "value": rng.choice((40_000, 150_000, 900_000)),
                           "created_at": datetime(2026, 1, 1), "updated_at": datetime(2026, 1, 1)})
            vcse = rng.random() < 0.3
            winners.append({"award_id": entry_id, "organisation_id": rng.choice(supplier_ids),
                            "name": "Winner", "is_vcse": vcse, "is_sme": vcse or rng.random() < .4})
    return [(Award, awards), (AwardWinner, winners)]


def _engagement(opportunity_ids, supplier_ids, rng):
    from portal.pipeline.models import Interest, Question

    interests, questions, seen = [], [], set()
    for entry_id in opportunity_ids:
        for org_id in rng.sample(supplier_ids, 3):
            if (entry_id, org_id) not in seen:
                seen.add((entry_id, org_id))
                moment = datetime(2026, 1, 1) + timedelta(days=rng.randint(0, 300))
                interests.append({"opportunity_id": entry_id, "organisation_id": org_id,
                                  "kind": "sole", "created_at": moment, "updated_at": moment})
        questions.append({"opportunity_id": entry_id, "organisation_id": rng.choice(supplier_ids),
                          "question": "When?", "status": "pending",
                          "asked_at": datetime(2026, 2, 1)})
    return [(Interest, interests), (Question, questions)]


def _accreditations(supplier_ids, rng):
    from portal.accreditation.models import AccreditationRecord

    scheme_id, level_ids = _levels()
    today = date.today()
    rows = [{"organisation_id": org_id, "scheme_id": scheme_id, "level_id": rng.choice(level_ids),
             "status": "active", "starts_on": today, "expires_on": today + timedelta(days=400),
             "created_at": datetime(2026, 1, 1), "updated_at": datetime(2026, 1, 1)}
            for org_id in supplier_ids if rng.random() < ACCREDITED_SHARE]
    return [(AccreditationRecord, rows)]


def fill(opportunity_ids, supplier_ids, rng, progress):
    """Add awards, engagement and accreditations to the generated corpus."""
    from portal.extensions import db

    for model, rows in (*_awards(opportunity_ids, supplier_ids, rng),
                        *_engagement(opportunity_ids, supplier_ids, rng),
                        *_accreditations(supplier_ids, rng)):
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(model), rows[start:start + 5000])
        progress(f"stored {len(rows)} {model.__tablename__} rows")
    db.session.commit()


def _users(buyer_id):
    from portal.accounts.models import User
    from portal.core.mixins import utcnow
    from portal.extensions import db

    people = []
    for email, site_admin in (("buyer@bench.example", False), ("admin@bench.example", True)):
        user = User(email=email, name="Bench", organisation_id=None if site_admin else buyer_id,
                    org_role="admin", is_site_admin=site_admin, email_verified_at=utcnow())
        user.set_password(PASSWORD)
        people.append(user)
    db.session.add_all(people)
    db.session.commit()


def _time_page(client, path):
    client.get(path)
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    return statistics.median(times), max(times)


def measure(app, buyer_id):
    """(page, median ms, slowest ms) per page, as the buyer (site-wide pages as an admin)."""
    results = []
    for email in ("buyer@bench.example", "admin@bench.example"):
        client = app.test_client()
        client.post("/sign-in", data={"email": email, "password": PASSWORD})
        for name, path in PAGES:
            if (name == "site-wide dashboard") == (email == "admin@bench.example"):
                url = path.format(buyer=buyer_id, year=date.today().year - 2)
                results.append((name, *_time_page(client, url)))
    return results


def run(suppliers, opportunities, progress):
    """Build the temporary portal, measure, and return the output lines."""
    from portal.bench.matching import temporary_portal
    from portal.bench.search import generate

    with temporary_portal() as app:
        app.config.update(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
        supplier_ids, opportunity_ids, _, _ = generate(suppliers, opportunities, progress)
        rng = random.Random(7)
        fill(opportunity_ids, supplier_ids, rng, progress)
        _users(suppliers + 1)
        results = measure(app, suppliers + 1)
    return [f"{name}: median {median:.0f} ms, slowest {slowest:.0f} ms"
            for name, median, slowest in results]
