"""One world with an object of every kind, for the access matrix and the security-header tests.

Commissioner A (verified) has a published entry with a lot, documents, a question and
interest, a draft entry with a document, an awarded entry (won by VCSE 1) whose contract is on
its register, a share target and a self-assessment rating. Commissioner B waits for
verification; commissioner C is another verified buyer. VCSE 1 has an application for
accreditation under assessment (an assessor declared a conflict on it), an accreditation
record, a credential, alerts, API tokens, a team invitation, social value commitments and a
place in the prime contractor's consortium and supply chain. Every organisation that owns
something has an administrator and a member; the site administrator belongs to none.
"""
import io
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.accounts import services as accounts
from portal.accreditation import schemes as scheme_engine
from portal.accreditation import services as accreditation
from portal.accreditation.models import Scheme
from portal.alerts import services as alerts
from portal.api import services as api
from portal.consortia import services as consortia
from portal.consortia import subcontracts
from portal.core.mail import OutboxMessage
from portal.extensions import db
from portal.insight import contracts, maturity, social_value, targets
from portal.insight.models import Contract
from portal.organisations import services as organisations
from portal.pipeline import services as pipeline
from portal.pipeline import spreadsheet
from portal.pipeline.models import Opportunity, uk_now
from tests import factories
from tests.functional.consortia_world import make_entry, make_supplier

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TODAY = uk_now().date()


def _people(org, slug, admins=1):
    """An administrator (or two) and a member of `org`."""
    made = [factories.make_user(org, email=f"{slug}-admin{n or ''}@example.org",
                                name=f"{slug} admin {n}".strip()) for n in range(admins)]
    member = factories.make_user(org, email=f"{slug}-member@example.org", role="member",
                                 name=f"{slug} member")
    return (*made, member)


def _upload(name="spec.pdf", data=PDF):
    return FileStorage(io.BytesIO(data), filename=name, content_type="application/pdf")


def _awarded_entry(w):
    """An entry of commissioner A awarded to VCSE 1; its contract joins A's register."""
    entry = make_entry(w.buyer_a, w.buyer_a_admin, status="open",
                       title="Befriending for older people")
    entry = db.session.get(Opportunity, entry.id)
    entry.closing_at = uk_now() - timedelta(days=2)
    entry.tender_publish_on = TODAY - timedelta(days=40)
    db.session.commit()
    pipeline.change_status(entry, "evaluation", w.buyer_a_admin)
    pipeline.record_award(entry, {"awarded_on": TODAY - timedelta(days=1), "value": 500_000,
                                  "winners": [{"name": w.vcse1.name}]}, w.buyer_a_admin)
    return db.session.get(Opportunity, entry.id)


def _buyer_objects(w):
    w.entry = make_entry(w.buyer_a, w.buyer_a_admin, status="open")
    w.lot = pipeline.add_lot(w.entry, {"title": "North Leeds", "value_min": 100_000},
                             w.buyer_a_admin)
    w.document = pipeline.add_document(w.entry, _upload(), "Specification", w.buyer_a_admin)
    w.draft = make_entry(w.buyer_a, w.buyer_a_admin, status="draft",
                         title="Draft: day services review")
    w.draft_document = pipeline.add_document(w.draft, _upload("draft.pdf"), "Draft notes",
                                             w.buyer_a_admin)
    w.draft_lot = pipeline.add_lot(w.draft, {"title": "Draft lot"}, w.buyer_a_admin)
    w.question = pipeline.ask_question(w.entry, "Can small charities bid together?",
                                       w.vcse1_admin)
    pipeline.express_interest(w.entry, w.vcse1_admin, "sole")
    w.awarded = _awarded_entry(w)
    w.contract = db.session.scalar(select(Contract).where(
        Contract.organisation_id == w.buyer_a.id))
    w.target = targets.set_target(w.buyer_a, w.buyer_a_admin, "vcse_value", TODAY.year, 20, 10)
    w.sub_area = "vcse.procurement"
    maturity.record_rating(w.buyer_a, w.buyer_a_admin, w.sub_area, 2, 3)
    _imports(w)
    w.buyer_b_draft = make_entry(w.buyer_b, w.buyer_b_admin, status="draft",
                                 title="Unverified buyer's draft")
    w.buyer_b_contract = contracts.add_contract(
        w.buyer_b, {"title": "Meals on wheels", "starts_on": TODAY - timedelta(days=300),
                    "ends_on": TODAY + timedelta(days=400)}, w.buyer_b_admin)


def _plan_upload(*rows):
    data = spreadsheet.to_csv(spreadsheet.template_headers(), rows)
    return FileStorage(io.BytesIO(data), filename="plan.csv", content_type="text/csv")


def _imports(w):
    """Commissioner A's finished import that left a row out (so it has a report) and one
    waiting to be confirmed; commissioner B's waiting to be confirmed."""
    example = spreadsheet.template_rows()[0]
    bad = ["" if header == "Title" else value
           for header, value in zip(spreadsheet.template_headers(), example)]
    w.import_token, _preview = spreadsheet.start_import(w.buyer_a, _plan_upload(example, bad))
    spreadsheet.finish_import(w.buyer_a, w.import_token, w.buyer_a_admin)
    w.pending_import, _preview = spreadsheet.start_import(w.buyer_a, _plan_upload(example))
    w.buyer_b_import, _preview = spreadsheet.start_import(w.buyer_b, _plan_upload(example))


def _accreditation(w):
    """VCSE 1's application under assessment (the assessor declared a conflict, the board
    admin none) and its accreditation record from another scheme."""
    scheme_engine.load_schemes()
    for scheme in db.session.scalars(select(Scheme)):
        scheme.body_id = w.body.id
    db.session.commit()
    slugs = [s.slug for s in db.session.scalars(select(Scheme).order_by(Scheme.slug))]
    w.application = _application(w, slugs[0], upload=("policy.pdf", PDF))
    accreditation.submit_application(w.application, w.vcse1_admin)
    accreditation.assign_assessors(w.application, [w.assessor.id, w.body_admin.id],
                                   w.body_admin)
    accreditation.declare_interests(accreditation.assignment_of(w.application, w.assessor),
                                    True, "I chair their trustees", w.assessor)
    accreditation.declare_interests(accreditation.assignment_of(w.application, w.body_admin),
                                    False, "", w.body_admin)
    w.standard = w.application.standards[0]
    w.evidence = w.application.evidence[0]
    w.record = _accredited(w, slugs[1])
    w.scheme_slug = slugs[0]


def _application(w, slug, upload=None):
    scheme = db.session.scalar(select(Scheme).where(Scheme.slug == slug))
    application = accreditation.start_application(
        w.vcse1, scheme, scheme.current.level_by_rank(1).id, w.vcse1_admin)
    for i, standard in enumerate(application.standards):
        accreditation.save_answer(application, standard.id,
                                  {"status": "met", "narrative": f"How we meet {standard.code}"},
                                  upload if i == 0 else None, w.vcse1_admin)
    return application


def _accredited(w, slug):
    application = _application(w, slug)
    accreditation.submit_application(application, w.vcse1_admin)
    accreditation.assign_assessors(application, [w.body_member.id], w.body_admin)
    assignment = accreditation.assignment_of(application, w.body_member)
    accreditation.declare_interests(assignment, False, "", w.body_member)
    for standard in application.standards:
        accreditation.save_review(assignment, standard.id,
                                  {"verdict": "met", "feedback": "Well shown"}, w.body_member)
    accreditation.complete_review(assignment, w.body_member)
    accreditation.declare(application, False, "", w.body_admin)
    return accreditation.decide(application, "accredit", None, "Meets every standard.", None,
                                w.body_admin)


def _teaming(w):
    """The prime's post with a role, its consortium with VCSE 1, a pending invitation to
    VCSE 1 for a lot, a shared file and a message."""
    w.post = consortia.create_post(w.entry, w.prime_admin, "lead",
                                   "Looking for carers' groups to deliver peer support")
    w.role = consortia.add_role(w.post, w.prime_admin, title="Peer support groups",
                                delivers="Weekly groups for carers", cpv_codes=["85312000"])
    w.consortium = consortia.create_consortium(w.entry, w.prime_admin, "Leeds Carers Alliance")
    joined = consortia.invite_partner(w.entry, w.vcse1, w.prime_admin)
    consortia.accept_invitation(joined, w.vcse1_admin)
    w.invitation = consortia.invite_partner(w.entry, w.vcse1, w.prime_admin, lot=w.lot,
                                            message="Join us for the north lot too?")
    w.team_file = consortia.share_file(w.consortium, w.prime_admin, "plan.pdf", PDF)
    consortia.post_message(w.consortium, w.prime_admin, "Welcome to the team")


def _supply_chain(w):
    """An open package with VCSE 1's response, and a sub-contract with VCSE 1 on which it
    reported a payment and raised a concern."""
    fields = dict(description="Weekly peer support groups for unpaid carers",
                  cpv_codes=["85312000"], area_codes=[], value=80_000, starts_on=None,
                  ends_on=None, closes_on=TODAY + timedelta(days=30), recommended_tier=None,
                  how_to_respond=None)
    w.package = subcontracts.create_package(w.entry, w.prime_admin, title="Peer support",
                                            **fields)
    w.response = subcontracts.respond_to_package(w.package, w.vcse1_admin, "We run groups")
    done = subcontracts.create_package(w.entry, w.prime_admin, title="Respite breaks", **fields)
    chosen = subcontracts.respond_to_package(done, w.vcse1_admin, "We can do this")
    subcontracts.move_response(done, chosen, w.prime_admin, "shortlisted")
    subcontracts.select_response(done, chosen, w.prime_admin, 50_000, None, None)
    subcontracts.report_payment(w.vcse1_admin, w.entry.id, w.prime.id,
                                invoiced_on=TODAY - timedelta(days=40),
                                paid_on=TODAY - timedelta(days=5))
    w.concern = subcontracts.raise_concern(w.vcse1_admin, w.entry.id, w.prime.id,
                                           "Invoices are paid late")


def _vcse_objects(w):
    w.credential = organisations.add_credential(
        w.vcse1, {"kind": "safeguarding", "title": "Safeguarding policy"}, w.vcse1_admin)
    w.subscription = alerts.subscribe(w.vcse1_admin, "forward_plan", "Carers work",
                                      {"q": "carers"}, "weekly")
    w.unsubscribe_token = alerts.unsubscribe_token(w.subscription)
    w.api_token, _plain = api.issue_token(w.vcse1_admin, "Reporting")
    w.team_invitation = accounts.invite_colleague(w.vcse1_admin, "new.person@example.org",
                                                  "member")
    w.commitment = social_value.make_commitment(
        w.awarded, w.vcse1, w.vcse1_admin, "award", "staff_volunteering_hours",
        Decimal(120), "Volunteers from our befriending team")
    social_value.report_delivery(w.commitment, w.vcse1_admin,
                                 social_value.latest_report_day() if
                                 social_value.latest_report_day() >= w.awarded.award.awarded_on
                                 else TODAY, Decimal(40))


def _tokens(w):
    """Links people receive by email, as the services make them."""
    serializer = accounts._serializer
    w.reset_token = serializer("reset-password").dumps(
        {"uid": w.vcse1_member.id, "fp": accounts._reset_fingerprint(w.vcse1_member)})
    w.verify_token = serializer("verify-email").dumps(
        {"uid": w.vcse1_member.id, "email": w.vcse1_member.email})
    invitation, w.invitation_token = accounts.Invitation.issue(
        w.vcse1, "joiner@example.org", "member", w.vcse1_admin,
        current_app.config["INVITE_TOKEN_MAX_AGE"])
    db.session.add(invitation)
    db.session.commit()
    w.outbox_message = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()


def build_world():
    """Every organisation, person and object the access matrix asks about (call inside a test
    request context: the services write emails with links)."""
    w = SimpleNamespace()
    w.buyer_a = factories.make_org("Leeds City Council", org_type="commissioner")
    w.buyer_a_admin, w.buyer_a_member = _people(w.buyer_a, "buyer-a")
    w.buyer_b = factories.make_org("Wakefield Council", org_type="commissioner", verified=False)
    w.buyer_b_admin, w.buyer_b_member = _people(w.buyer_b, "buyer-b")
    w.buyer_c = factories.make_org("Bradford Council", org_type="commissioner")
    w.buyer_c_admin, w.buyer_c_member = _people(w.buyer_c, "buyer-c")
    w.vcse1 = make_supplier("Leeds Carers Circle", "vcse",
                            "Short breaks, peer support groups and advice for unpaid carers",
                            income=400_000)
    w.vcse1_admin, w.vcse1_member = _people(w.vcse1, "vcse1")
    w.vcse2 = make_supplier("Aire Valley Respite", "vcse",
                            "Respite breaks and befriending for unpaid carers", income=250_000)
    w.vcse2_admin, w.vcse2_member = _people(w.vcse2, "vcse2")
    w.vcse3 = make_supplier("Kirkstall Befrienders", "vcse",
                            "Befriending and peer support for carers", income=90_000)
    w.vcse3_admin, = _people(w.vcse3, "vcse3")[:1]
    w.prime = make_supplier("Northern Care Partnership Ltd", "prime",
                            "Prime contractor for adult social care across Yorkshire",
                            income=20_000_000)
    w.prime_admin, w.prime_member = _people(w.prime, "prime")
    w.body = factories.make_org("Borough Accreditation Board", org_type="accreditation_body")
    w.body_admin, w.board_member, w.body_member = _people(w.body, "body", admins=2)
    w.assessor = factories.make_user(w.body, email="assessor@example.org", role="member",
                                     name="Ann Assessor")
    w.site_admin = factories.make_user(None, email="site-admin@example.org", site_admin=True,
                                       role="member", name="Site Admin")
    _buyer_objects(w)
    _accreditation(w)
    _teaming(w)
    _supply_chain(w)
    _vcse_objects(w)
    _tokens(w)
    return w
