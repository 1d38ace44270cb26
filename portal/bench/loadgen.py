"""`flask bench loaddata`: a national-scale portal for the load test (docs/loadtest.md).

The database it is pointed at (an empty one, never the portal's own) is filled with generated
but realistic data: supplier profiles from the objects of real (removed) Scottish charities and
the descriptions of real 360Giving grants, buyers named after the buyers in real contract
notices, and forward-plan entries from the titles and descriptions of those notices,
recombined deterministically from a seed until there are as many as asked for. Accounts for the
simulated users join the first suppliers and every buyer. Rows are written in bulk, a batch a
statement, so 100,000 organisations take minutes; the search indexes are then rebuilt by
`flask search rebuild`, which indexes a directory this size in several processes.
"""
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from portal.accounts.models import User
from portal.bench.loadscenarios import PASSWORD, account_email
from portal.bench.search import _fill_matches, _read_texts, _reference
from portal.extensions import db
from portal.organisations.demo import _buyer_name, scrub
from portal.organisations.models import Organisation, PastWork, organisation_area
from portal.organisations.models import organisation_cpv
from portal.pipeline.models import ROUTES, Interest, Opportunity, Question, opportunity_area
from portal.reference.loaders import read_seed_csv

# Raise it whenever what is generated changes: `make loadtest` builds the data again when the
# version it finds beside the index differs.
DATA_VERSION = 1
BATCH = 5000
LEGAL_FORMS = ("registered_charity", "cio", "company_limited_by_guarantee", "cic",
               "community_benefit_society")
SUFFIXES = ("Trust", "Project", "Network", "Partnership", "Community Interest Company",
            "Association", "Forum", "Foundation", "Collective", "Alliance")
# Most of a plan is coming up or taking tenders; a few entries are still drafts.
STATUSES = (("planned", 40), ("market_engagement", 15), ("open", 35), ("evaluation", 5),
            ("draft", 5))


class LoadDataError(Exception):
    """The database cannot take the load-test data (it already holds organisations)."""


@dataclass(frozen=True)
class Scale:
    organisations: int
    entries: int
    supplier_accounts: int = 500
    buyers: int = 300
    seed: int = 2026

    @property
    def buyer_count(self):
        """About one buyer for ten entries, as many as asked for at most."""
        return min(self.buyers, max(1, self.entries // 10), self.organisations - 1)

    @property
    def marker(self):
        """What `make loadtest` keeps beside the index to know the data need not be built."""
        return (f"version={DATA_VERSION} organisations={self.organisations} "
                f"entries={self.entries} seed={self.seed}")


@dataclass
class Texts:
    names: list
    objects: list
    grant_titles: list
    grant_texts: list
    entry_titles: list
    entry_texts: list
    buyer_names: list


def read_texts():
    """Real texts from seed/: charity names and objects, grant titles and descriptions, and
    the titles, descriptions and buyers of contract notices."""
    names, objects, grant_titles, grant_texts = _read_texts()
    entry_titles, entry_texts, buyers = [], [], {}
    for notice in read_seed_csv("procurement/notices_flat.csv.gz"):
        title, text = scrub(notice["title"])[:300], scrub(notice["description"])
        if title:
            entry_titles.append(title)
        if len(text) > 40:
            entry_texts.append(text[:3000])
        buyer = _buyer_name(notice["buyer_name"])
        if buyer:
            buyers.setdefault(buyer.lower(), buyer[:150])
    return Texts(names, objects, grant_titles, grant_texts, entry_titles, entry_texts,
                 sorted(buyers.values()))


def generate(scale, progress=lambda message: None):
    """Fill an empty database; return {what: how many rows}."""
    if db.session.scalar(select(Organisation.id).limit(1)) is not None:
        raise LoadDataError("The database already holds organisations: the load-test data go "
                            "into an empty one")
    rng = random.Random(scale.seed)
    texts = read_texts()
    authorities, cpv = _reference()
    progress(f"read {len(texts.objects)} charity objects, {len(texts.grant_texts)} grant texts, "
             f"{len(texts.entry_titles)} notice titles, {len(texts.buyer_names)} buyers")
    buyer_ids = _buyers(scale, texts, authorities, cpv, rng)
    supplier_ids = _suppliers(scale, texts, authorities, cpv, rng, progress)
    entry_ids = _entries(scale, texts, buyer_ids, authorities, cpv, rng, progress)
    counts = _engagement(entry_ids, supplier_ids, rng)
    _fill_matches(entry_ids, supplier_ids, rng)
    progress("stored the top matches of every entry")
    counts["accounts"] = _accounts(scale, supplier_ids, buyer_ids)
    _after_bulk_load()
    counts.update(organisations=len(buyer_ids) + len(supplier_ids), entries=len(entry_ids))
    return counts


def _write(model_or_table, rows):
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(model_or_table), rows[start:start + BATCH])


def _next_id(model):
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def _buyers(scale, texts, authorities, cpv, rng):
    """Buyers named after real ones, each verified as a bulk load records it."""
    first, now = _next_id(Organisation), datetime(2026, 1, 5)
    buyers = scale.buyer_count
    rows, areas = [], []
    for number in range(first, first + buyers):
        name = texts.buyer_names[(number - first) % len(texts.buyer_names)]
        rows.append({"id": number, "org_type": "commissioner", "legal_form": "council",
                     "status": "active", "name": f"{name} {number}"[:200],
                     "description": f"Buys {rng.choice(texts.entry_titles).lower()}"[:400],
                     "verified_at": now, "verification_basis": "other",
                     "verification_note": "Load-test data"})
        areas.append({"organisation_id": number, "area_code": rng.choice(authorities).code})
    _write(Organisation, rows)
    _write(organisation_area, areas)
    db.session.commit()
    return list(range(first, first + buyers))


def _suppliers(scale, texts, authorities, cpv, rng, progress):
    """VCSE profiles: two real texts each, real areas and CPV codes, some past work."""
    first = _next_id(Organisation)
    last = first + scale.organisations - scale.buyer_count
    for start in range(first, last, BATCH):
        orgs, works, areas, codes = [], [], [], []
        for number in range(start, min(start + BATCH, last)):
            area = rng.choice(authorities)
            orgs.append({"id": number, "org_type": "vcse", "status": "active",
                         "legal_form": rng.choice(LEGAL_FORMS),
                         "name": f"{rng.choice(texts.names)} {rng.choice(SUFFIXES)} {number}"[:200],
                         "description": f"{rng.choice(texts.objects)}\n"
                                        f"{rng.choice(texts.grant_texts)}"})
            works += [{"organisation_id": number, "title": rng.choice(texts.grant_titles),
                       "description": rng.choice(texts.grant_texts), "kind": "grant",
                       "awarded_on": date(rng.randint(2015, 2025), rng.randint(1, 12), 1)}
                      for _ in range(rng.randint(0, 3))]
            areas.append({"organisation_id": number, "area_code": area.code})
            if rng.random() < 0.3 and area.county_code:
                areas.append({"organisation_id": number, "area_code": area.county_code})
            codes += [{"organisation_id": number, "cpv_code": code}
                      for code in sorted(set(rng.sample(cpv, rng.randint(1, 3))))]
        for target, rows in ((Organisation, orgs), (PastWork, works),
                             (organisation_area, areas), (organisation_cpv, codes)):
            _write(target, rows)
        db.session.commit()
        progress(f"stored {min(start + BATCH, last) - first} suppliers")
    return list(range(first, last))


def _entries(scale, texts, buyer_ids, authorities, cpv, rng, progress):
    """Forward-plan entries from real notice titles and descriptions, spread over the buyers."""
    first, base = _next_id(Opportunity), datetime(2026, 9, 1)
    statuses = [s for s, weight in STATUSES for _ in range(weight)]
    rows, areas = [], []
    for number in range(first, first + scale.entries):
        status, start = rng.choice(statuses), base + timedelta(days=rng.randint(-200, 500))
        value = rng.choice((25_000, 80_000, 120_000, 600_000, 2_500_000, 9_000_000))
        rows.append({
            "id": number, "organisation_id": buyer_ids[number % len(buyer_ids)],
            "reference": f"LOAD-{number}", "_status": status,
            "published_at": None if status == "draft" else start - timedelta(days=120),
            "title": rng.choice(texts.entry_titles),
            "description": f"{rng.choice(texts.entry_texts)}\n\n{rng.choice(texts.grant_texts)}",
            "main_cpv_code": rng.choice(cpv), "value_min": value // 2, "value_max": value,
            "whole_life_value": value, "contract_months": rng.choice((12, 24, 36, 60)),
            "tender_publish_on": (start - timedelta(days=60)).date(),
            "closing_at": start - timedelta(days=20), "contract_start_on": start.date(),
            "procurement_route": rng.choice(sorted(ROUTES)),
            "suitable_vcse": rng.random() < 0.6, "suitable_sme": rng.random() < 0.7,
            "consortium_welcome": rng.random() < 0.3, "contact_role": "Commissioning team"})
        areas.append({"opportunity_id": number, "area_code": rng.choice(authorities).code})
    _write(Opportunity, rows)
    _write(opportunity_area, areas)
    db.session.commit()
    progress(f"stored {scale.entries} forward-plan entries")
    return list(range(first, first + scale.entries))


def _engagement(entry_ids, supplier_ids, rng):
    """Interest and questions on a fifth of the entries, as a live plan has."""
    interests, questions, moment = [], [], datetime(2026, 3, 1)
    for entry_id in entry_ids:
        if rng.random() < 0.2:
            for org_id in sorted(set(rng.sample(supplier_ids, min(3, len(supplier_ids))))):
                interests.append({"opportunity_id": entry_id, "organisation_id": org_id,
                                  "kind": rng.choice(("sole", "lead", "partner", "info")),
                                  "created_at": moment, "updated_at": moment})
            questions.append({"opportunity_id": entry_id,
                              "organisation_id": rng.choice(supplier_ids),
                              "question": "Will the contract be split into lots?",
                              "status": "pending", "asked_at": moment})
    _write(Interest, interests)
    _write(Question, questions)
    db.session.commit()
    return {"interests": len(interests), "questions": len(questions)}


def _accounts(scale, supplier_ids, buyer_ids):
    """Admins of the first suppliers (they edit profiles and take part) and an ordinary member
    of every buyer (a buyer's admins must use two-step sign-in; members see their matches)."""
    hashed = User(email="x@x", name="x")
    hashed.set_password(PASSWORD)
    verified = datetime(2026, 1, 5)
    rows = [{"email": account_email("supplier", n), "name": f"Supplier user {n}",
             "organisation_id": org_id, "org_role": "admin", "email_verified_at": verified,
             "password_hash": hashed.password_hash}
            for n, org_id in enumerate(supplier_ids[:scale.supplier_accounts])]
    rows += [{"email": account_email("buyer", n), "name": f"Buyer user {n}",
              "organisation_id": org_id, "org_role": "member", "email_verified_at": verified,
              "password_hash": hashed.password_hash}
             for n, org_id in enumerate(buyer_ids)]
    _write(User, rows)
    db.session.commit()
    return len(rows)


def _after_bulk_load():
    """Rows were given their ids, so PostgreSQL's sequences must move past them for the rows
    the portal adds later; and the planner needs the tables' statistics and visibility maps
    now, not whenever autovacuum gets round to them (until then it takes 100,000 rows for a
    hundred, and a count reads every row of a table instead of an index: 4.7 ms instead of
    1.6 for the plan's entries)."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in ("organisation", "opportunity"):
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"(SELECT max(id) FROM {table}))"))
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def is_built(scale, marker):
    """Whether the marker names this scale and the database holds its organisations."""
    try:
        with open(marker, encoding="utf-8") as handle:
            if handle.read().strip() != scale.marker:
                return False
        return db.session.scalar(select(func.count(Organisation.id))) >= scale.organisations
    except (OSError, TypeError, SQLAlchemyError):
        return False
