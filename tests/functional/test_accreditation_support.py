"""Shared set-up for the accreditation tests: schemes, a body with three assessors, two VCSEs.

Imported by the other accreditation test modules; it holds no tests of its own.
"""
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal.accreditation import schemes as scheme_engine
from portal.accreditation import services
from portal.accreditation.models import Scheme
from portal.extensions import db
from tests import factories

DATA = Path(__file__).resolve().parents[1] / "data" / "accreditation"


def data_file(name):
    return (DATA / name).read_bytes()


@pytest.fixture
def evidence_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_BYTES", 64 * 1024)
    return tmp_path / "evidence"


@dataclass
class World:
    body: object
    board: object        # body admin: the board, and an assessor
    assessor: object     # body member
    assessor2: object    # body member
    org: object
    applicant: object
    other_org: object
    other_applicant: object
    outsider_body_user: object

    def scheme(self, slug):
        return db.session.scalar(db.select(Scheme).where(Scheme.slug == slug))


@pytest.fixture
def world(ctx, evidence_dir):
    scheme_engine.load_schemes()
    body = factories.make_org("Borough Accreditation Board", org_type="accreditation_body")
    other_body = factories.make_org("Elsewhere Quality Service", org_type="accreditation_body")
    for scheme in db.session.scalars(db.select(Scheme)):
        scheme.body_id = body.id
    org = factories.make_org("Riverside Advice Centre", income_band="small")
    other = factories.make_org("Hilltop Youth Trust", income_band="large")
    world = World(
        body=body,
        board=factories.make_user(body, email="board@body.test", name="Bea Board", role="admin"),
        assessor=factories.make_user(body, email="ann@body.test", name="Ann Assessor",
                                     role="member"),
        assessor2=factories.make_user(body, email="sam@body.test", name="Sam Second",
                                      role="member"),
        org=org, applicant=factories.make_user(org, email="admin@riverside.test"),
        other_org=other, other_applicant=factories.make_user(other, email="admin@hilltop.test"),
        outsider_body_user=factories.make_user(other_body, email="x@elsewhere.test"),
    )
    db.session.commit()
    return world


def complete_application(world, slug="sliding-scale", rank=1, org=None, user=None,
                         status="met", upload=None):
    """Start an application and answer every standard; returns it still as a draft."""
    org, user = org or world.org, user or world.applicant
    scheme = world.scheme(slug)
    level = scheme.current.level_by_rank(rank)
    application = services.start_application(org, scheme, level.id, user)
    for i, standard in enumerate(application.standards):
        services.save_answer(application, standard.id,
                             {"status": status, "narrative": f"How we meet {standard.code}."},
                             upload if i == 0 else None, user)
    return application


def assessed(world, application, assessors, verdict="met"):
    """Assign, declare no conflict and give every verdict; returns the assignments."""
    services.assign_assessors(application, [a.id for a in assessors], world.board)
    result = []
    for person in assessors:
        assignment = services.assignment_of(application, person)
        services.declare_interests(assignment, False, "", person)
        for standard in application.standards:
            services.save_review(assignment, standard.id,
                                 {"verdict": verdict, "feedback": "Good work",
                                  "private_note": f"note by {person.name}"}, person)
        services.complete_review(assignment, person)
        result.append(assignment)
    if world.board not in assessors:
        services.declare(application, False, "", world.board)   # so the board may decide
    return result


@pytest.fixture
def as_user(app):
    """A separate signed-in test client per person, so a test can switch between people."""
    from tests.conftest import sign_in

    clients = {}

    def _client(user):
        if user.id not in clients:
            clients[user.id] = app.test_client()
            sign_in(clients[user.id], user.email)
        return clients[user.id]
    return _client
