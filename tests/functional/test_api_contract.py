"""The API keeps to its own OpenAPI document, checked by schemathesis.

For every operation in /api/v1/openapi.json schemathesis generates requests: the document's
examples, a case for each edge it describes (every listed value, each bound, each parameter
left out or broken) and up to EXAMPLES random ones, valid and invalid. They run anonymous and
with an organisation API token, over a small directory and forward plan like the demo's. A 500,
a status code or content type the document does not give, a body or header that breaks its
schema, a valid request refused or an invalid one accepted, or a 405 without Allow, fails.

Generation is derandomized so CI sees the same cases every run. The longer run over the demo
data, served by gunicorn (about 5,000 requests): `.venv/bin/python tests/api_contract_run.py`.
"""
import io
import os
from datetime import date, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import load_all_checks, not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.pytest.lazy import get_all_tests
from schemathesis.specs.openapi.checks import (
    content_type_conformance, ignored_auth, negative_data_rejection, positive_data_acceptance,
    response_headers_conformance, response_schema_conformance, status_code_conformance,
    unsupported_method,
)

from portal.accreditation.models import AccreditationRecord, Scheme
from portal.accreditation.schemes import load_schemes
from portal.api.openapi import MAX_ID
from portal.api.services import issue_token
from portal.extensions import db
from portal.matching import recommend
from portal.organisations import services as organisations
from portal.organisations.models import PastWork
from portal.pipeline import services as pipeline
from portal.pipeline.models import Opportunity, uk_now
from tests import factories

EXAMPLES = int(os.environ.get("API_CONTRACT_EXAMPLES", "50"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance, negative_data_rejection,
          positive_data_acceptance, unsupported_method, ignored_auth]
LEEDS, NEWCASTLE = "E08000035", "E08000021"


@pytest.fixture(scope="module")
def uploads(tmp_path_factory):
    return tmp_path_factory.mktemp("contract-uploads")


@pytest.fixture
def demo(app, uploads):
    """Organisations, a forward plan at every stage, an accredited supplier, stored matches
    and a token, committed and the app context closed again: requests made by schemathesis
    must each get their own context, as in production."""
    app.config["PIPELINE_UPLOAD_DIR"] = str(uploads)
    with app.test_request_context():
        load_schemes()
        orgs, people = _organisations()
        entries = _plan(orgs["council"], people)
        _accredit(orgs["carers"])
        recommend.refresh_all(db.session)
        _row, token = issue_token(people["carers_admin"], "schemathesis")
        ids = sorted({o.id for o in orgs.values()} | {e.id for e in entries})
        db.session.remove()
    yield {"token": token, "ids": ids}
    app.config.pop("PIPELINE_UPLOAD_DIR", None)


def _organisations():
    council = factories.make_org("Leeds City Council", org_type="commissioner")
    carers = factories.make_org("Leeds Carers Network", description="Advice and short breaks "
                                "for unpaid carers", income_band="small", latest_income=90_000)
    organisations.add_area(carers, LEEDS, None)
    organisations.add_category(carers, "85312000", None)
    organisations.add_credential(carers, {"kind": "insurance", "title": "Public liability",
                                          "cover_amount": 5_000_000,
                                          "expires_on": date.today() + timedelta(days=200)}, None)
    db.session.add(PastWork(organisation_id=carers.id, title="Carers hub", amount=40_000,
                            awarded_on=date(2023, 4, 1)))
    tyneside = factories.make_org("Tyneside Advice", description="Debt advice")
    organisations.add_area(tyneside, NEWCASTLE, None)
    prime = factories.make_org("Big Care Ltd", org_type="prime",
                               description="Home care and support for councils")
    organisations.add_area(prime, LEEDS, None)
    organisations.add_category(prime, "85312000", None)
    db.session.commit()
    orgs = {"council": council, "carers": carers, "tyneside": tyneside, "prime": prime}
    people = {"officer": factories.make_user(council),
              "carers_admin": factories.make_user(carers)}
    return orgs, people


def _plan(council, people):
    officer = people["officer"]
    base = {"description": "Advice and short breaks for carers", "main_cpv_code": "85312000",
            "additional_cpv": "85320000", "areas": "Leeds", "suitable_vcse": True,
            "value_min": 100_000, "value_max": 120_000, "value_basis": "annual",
            "contract_months": 36, "procurement_route": "light_touch"}
    planned = pipeline.create_opportunity(council, {**base, "title": "Day care"}, officer)
    pipeline.change_status(planned, "planned", officer)
    awarded = _awarded(council, officer, people["carers_admin"], base)
    draft = pipeline.create_opportunity(council, {"title": "Not yet public"}, officer)
    return [planned, awarded, draft]


def _awarded(council, officer, supplier_user, base):
    entry = pipeline.create_opportunity(council, {**base, "title": "Carers support"}, officer)
    pipeline.add_lot(entry, {"title": "North", "value_min": 50_000, "cpv_codes": "85312000",
                             "areas": "Leeds"}, officer)
    upload = type("Upload", (), {"filename": "spec.pdf",
                                 "stream": io.BytesIO(b"%PDF-1.4\n%%EOF\n")})()
    pipeline.add_document(entry, upload, "Specification", officer)
    pipeline.change_status(entry, "planned", officer)
    pipeline.change_status(entry, "open", officer, {
        "closing_at": uk_now() + timedelta(days=10),
        "question_deadline": uk_now() + timedelta(days=5)})
    question = pipeline.ask_question(entry, "Is TUPE likely?", supplier_user)
    pipeline.answer_question(entry, question.id, "Is TUPE likely?", "Yes.", officer)
    entry = db.session.get(Opportunity, entry.id)
    entry.closing_at = uk_now() - timedelta(days=1)
    entry.tender_publish_on = (uk_now() - timedelta(days=30)).date()
    entry.question_deadline = uk_now() - timedelta(days=3)
    db.session.commit()
    pipeline.change_status(entry, "evaluation", officer)
    pipeline.record_award(entry, {"awarded_on": uk_now().date(), "value": 330_000,
                                  "winners": [{"name": "Leeds Carers Network"}]}, officer)
    return entry


def _accredit(org):
    scheme = db.session.scalar(db.select(Scheme).where(Scheme.slug == "sliding-scale"))
    db.session.add(AccreditationRecord(
        organisation_id=org.id, scheme=scheme, level=scheme.current.level_by_rank(1),
        starts_on=date.today() - timedelta(days=10),
        expires_on=date.today() + timedelta(days=300), status="active"))
    db.session.commit()


@pytest.fixture(params=["anonymous", "token"])
def caller(request, demo):
    """Headers for each request: none, or the supplier's organisation token."""
    if request.param == "anonymous":
        return {}
    return {"Authorization": f"Bearer {demo['token']}"}


@pytest.fixture
def api_schema(app, demo, caller):
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    _aim_path_ids_at_rows(loaded, demo["ids"])
    return loaded


def _aim_path_ids_at_rows(loaded, ids):
    """Random ids almost never name a row, so the 200 answers of the detail operations would
    go untested; a valid generated id is often swapped for one that exists. Ids the case means
    to be invalid (a negative test) are left alone."""
    @loaded.hook
    def flatmap_path_parameters(context, path_parameters):
        names = [name for name, value in (path_parameters or {}).items() if _valid_id(value)]
        if not names:
            return st.just(path_parameters)
        swapped = [{**path_parameters, **{name: row for name in names}} for row in ids]
        return st.sampled_from([path_parameters, *swapped])


def _valid_id(value):
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def test_every_operation_keeps_to_the_document(api_schema, caller):
    """Each operation's cases run as one Hypothesis test; every operation runs even after one
    fails, so a single run reports them all."""
    failures = {}
    for label, run in _operation_tests(api_schema, caller):
        try:
            run()
        except (Exception, FailureGroup) as failure:  # holds each distinct failure found
            failures[label] = str(failure)
    assert not failures, "\n\n".join(f"== {label}\n{text}" for label, text in failures.items())


def _operation_tests(loaded, caller):
    """(label, test) for every operation, as schemathesis' pytest plugin builds them: examples,
    coverage cases and fuzzing under SETTINGS. (The plugin's own fixture loader reads a node
    attribute pytest 9 no longer has, so the tests are built here.)"""
    load_all_checks()

    def check(case):
        case.call_and_validate(headers=caller, checks=CHECKS)

    for result in get_all_tests(schema=loaded, test_func=check, settings=SETTINGS,
                                given_kwargs={}):
        operation, run = result.ok()
        yield operation.label, run
