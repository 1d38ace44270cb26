"""Demo data: built from the seed files, free of personal contact details, repeatable."""
import hashlib
import json
import os
import subprocess
import sys
from collections import Counter

from sqlalchemy import func, select

from config import BASE_DIR
from portal.accounts.models import User
from portal.accounts.passwords import password_problem
from portal.core.audit import AuditEvent
from portal.organisations.demo import (
    DEMO_EMAIL_DOMAIN, DEMO_PASSWORD, build_specs, load_demo, scrub, tidy_name,
)
from portal.organisations.models import Organisation, PastWork

SPEC_DIGEST_SCRIPT = """
import hashlib, json
from config import TestingConfig
from portal import create_app
from portal.extensions import db
from portal.reference.loaders import load_reference
from portal.organisations.demo import build_specs
app = create_app(TestingConfig)
with app.app_context():
    db.create_all()
    load_reference()
    specs, picks = build_specs()
    rows = [[s.source_ref, s.name, s.cpv, s.areas, s.terms, s.description] for s in specs]
    print(hashlib.sha256(json.dumps([rows, picks], default=str).encode()).hexdigest())
"""


def test_demo_password_meets_the_password_rules():
    assert password_problem(DEMO_PASSWORD) is None


def test_load_demo(db):
    """One load (it takes seconds), checked from several sides."""
    result = load_demo()

    assert result["organisations"] >= 1000
    assert db.session.scalar(select(func.count(Organisation.id))) == result["organisations"]
    check_organisation_types(db)
    check_accounts(db, result["accounts"])
    check_no_personal_contact_details(db)
    check_classified_and_placed(db)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "demo.loaded"))

    assert load_demo(if_empty=True) is None
    again = load_demo()
    assert again == {"organisations": 0, "accounts": result["accounts"]}


def check_organisation_types(db):
    types = Counter(db.session.scalars(select(Organisation.org_type)))
    assert types["vcse"] >= 1000 and types["commissioner"] >= 100
    assert types["prime"] >= 1 and types["accreditation_body"] >= 1
    assert db.session.scalar(select(func.count(PastWork.id))) > 1000


def check_accounts(db, accounts):
    users = {u.email: u for u in db.session.scalars(select(User))}
    assert set(users) == set(accounts.values())
    assert len(users) == 6
    assert all(email.endswith("@" + DEMO_EMAIL_DOMAIN) for email in users)
    assert all(u.is_verified and u.check_password(DEMO_PASSWORD) for u in users.values())
    by_role = {role: users[email] for role, email in accounts.items()}
    assert by_role["VCSE admin"].organisation.org_type == "vcse"
    assert by_role["VCSE admin"].is_org_admin
    assert by_role["VCSE member"].organisation == by_role["VCSE admin"].organisation
    assert not by_role["VCSE member"].is_org_admin
    assert by_role["Commissioner"].organisation.legal_form == "council"
    assert by_role["Prime contractor"].organisation.org_type == "prime"
    assert by_role["Accreditation assessor"].organisation.org_type == "accreditation_body"
    assert by_role["Site admin"].is_site_admin and by_role["Site admin"].organisation is None


def check_no_personal_contact_details(db):
    """Only the demo accounts have email addresses; imported text has none."""
    assert db.session.scalar(select(func.count(Organisation.id))
                             .where(Organisation.contact_email.is_not(None))) == 0
    texts = db.session.execute(select(Organisation.description, Organisation.website)).all()
    texts += db.session.execute(select(PastWork.title, PastWork.description)).all()
    assert not any("@" in (value or "") for row in texts for value in row)


def check_classified_and_placed(db):
    vcses = db.session.scalars(select(Organisation).where(Organisation.org_type == "vcse")).all()
    assert all(org.areas and org.cpv_codes for org in vcses)
    assert sum(1 for org in vcses if org.terms) > len(vcses) * 0.8
    ccni = db.session.scalar(select(Organisation).where(Organisation.source_ref.like("CCNI-%")))
    assert ccni.charity_number.startswith("NIC")
    assert ccni.areas[0].country_code == "N92000002"


def test_specs_are_the_same_in_every_process(ctx):
    """Set and dict order must not leak in: two interpreters with different hash seeds agree."""
    def digest(seed):
        env = dict(os.environ, PYTHONHASHSEED=str(seed), TEST_DATABASE_URL="sqlite://")
        run = subprocess.run([sys.executable, "-c", SPEC_DIGEST_SCRIPT], cwd=BASE_DIR, env=env,
                             capture_output=True, text=True, check=True)
        return run.stdout.strip()

    first, second = digest(1), digest(2)
    specs, picks = build_specs()
    rows = [[s.source_ref, s.name, s.cpv, s.areas, s.terms, s.description] for s in specs]
    here = hashlib.sha256(json.dumps([rows, picks], default=str).encode()).hexdigest()
    assert first == second == here


def test_scrub_removes_contact_details_and_placeholders():
    text = "Call 0161 496 0000 or email info@example.org for help"
    assert scrub(text) == "Call or email for help"
    assert scrub("Dummy") == ""
    assert scrub("Tom &amp; Jerry rnrnClub") == "Tom & Jerry Club"


def test_tidy_name_calms_capitals_but_keeps_acronyms():
    assert tidy_name("NHS PROPERTY SERVICES LIMITED") == "NHS Property Services Limited"
    assert tidy_name("MINISTRY OF DEFENCE") == "Ministry of Defence"
    assert tidy_name("Telford &amp; Wrekin Council") == "Telford & Wrekin Council"
