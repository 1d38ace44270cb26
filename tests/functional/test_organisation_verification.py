"""Who may act as a buyer or an assessor: a commissioner or accreditation body that registers
starts unverified. It may prepare drafts, but publishing, inviting suppliers and assessing or
deciding applications wait until a site administrator has checked who it is."""
from html import unescape

import pytest
from sqlalchemy import func, select
from sqlalchemy import text as sql

from portal.accounts.models import User
from portal.accreditation import services as accreditation
from portal.admin import services as admin_services
from portal.core.audit import AuditEvent
from portal.core.exceptions import DomainError, NotFound
from portal.core.mail import OutboxMessage
from portal.extensions import db
from portal.matching import services as matching
from portal.matching.models import MatchInvitation
from portal.organisations.models import Organisation
from portal.organisations.verification import AwaitingVerification, require_verified
from portal.pipeline import services as pipeline
from portal.pipeline.models import Opportunity
from tests.functional.test_accounts import _register
from tests.functional.test_accreditation_support import (  # noqa: F401  (fixtures)
    as_user, assessed, complete_application, evidence_dir, world,
)
from tests.functional.test_pipeline import _entry

NOTICE = "Your organisation is waiting for verification"


def page_text(response):
    return unescape(response.get_data(as_text=True))


def _mail_to(email):
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == email)).all()


# --- The model ----------------------------------------------------------------------------------

@pytest.mark.parametrize("org_type, needs", [("commissioner", True), ("accreditation_body", True),
                                             ("vcse", False), ("prime", False)])
def test_only_buyers_and_bodies_need_verifying(make_org, org_type, needs):
    assert make_org(org_type=org_type, verified=False).needs_verification is needs
    assert make_org(org_type=org_type).needs_verification is False  # factory default


def test_verify_records_who_how_and_why(db, make_org, make_user):
    org = make_org("Camden Council", org_type="commissioner", verified=False)
    admin = make_user(site_admin=True, name="Site Admin")
    org.verify(admin, "public_sector_email", "  Email domain camden.gov.uk  ")
    assert not org.needs_verification and org.verified_at is not None
    assert org.verified_by is admin and org.verification_basis == "public_sector_email"
    assert org.verification_note == "Email domain camden.gov.uk"


@pytest.mark.parametrize("basis, note, field", [("guesswork", "Looked fine", "basis"),
                                                (None, "Looked fine", "basis"),
                                                ("other", "   ", "note"),
                                                ("other", "x" * 2001, "note")])
def test_verify_refuses_an_unknown_basis_or_a_missing_note(make_org, basis, note, field):
    org = make_org(org_type="commissioner", verified=False)
    with pytest.raises(DomainError) as refused:
        org.verify(None, basis, note)
    assert refused.value.field == field and org.needs_verification


def test_verify_refuses_twice_and_organisations_that_need_no_check(make_org):
    with pytest.raises(DomainError, match="already been verified"):
        make_org(org_type="accreditation_body").verify(None, "other", "Again")
    with pytest.raises(DomainError, match="do not need verifying"):
        make_org(org_type="vcse").verify(None, "other", "A charity")


def test_the_guard_names_the_organisation_and_the_action(make_org):
    org = make_org("Newtown Council", org_type="commissioner", verified=False)
    with pytest.raises(AwaitingVerification) as refused:
        require_verified(org, "invite suppliers")
    assert refused.value.status_code == 403
    assert refused.value.message == ("Newtown Council has not been verified yet, so you cannot "
                                     "invite suppliers until a site administrator verifies it.")
    require_verified(make_org(org_type="commissioner"), "invite suppliers")
    require_verified(make_org(org_type="vcse"), "invite suppliers")


# --- Registration -------------------------------------------------------------------------------

def test_a_registered_commissioner_starts_unverified_and_is_told(client, db):
    response = _register(client, email="buyer@newtown.gov.uk", org_type="commissioner",
                         name="Newtown Council", legal_form="council")
    assert response.headers["Location"].endswith("/register/done")
    org = db.session.scalar(select(Organisation).where(Organisation.name == "Newtown Council"))
    assert org.needs_verification and org.verification_basis is None
    done = page_text(client.get("/register/done"))
    assert "a site administrator checks who you are" in done
    assert "publish entries in the forward plan" in done


def test_a_registered_accreditation_body_is_told_too(client, db):
    _register(client, email="lead@quality.example", org_type="accreditation_body",
              name="Quality Partners", legal_form="independent_assessor")
    org = db.session.scalar(select(Organisation).where(Organisation.name == "Quality Partners"))
    assert org.needs_verification
    assert "assess or decide accreditation applications" in page_text(client.get("/register/done"))


def test_a_registered_vcse_needs_no_verification(client, db):
    _register(client)
    org = db.session.scalar(select(Organisation))
    assert org.org_type == "vcse" and not org.needs_verification
    assert "site administrator checks" not in page_text(client.get("/register/done"))


# --- The forward plan ---------------------------------------------------------------------------

@pytest.fixture
def newtown(make_org, make_user):
    org = make_org("Newtown Council", org_type="commissioner", verified=False)
    return org, make_user(org, email="officer@newtown.gov.uk", name="Olive Officer")


def test_an_unverified_buyer_prepares_drafts_but_cannot_publish_them(db, newtown):
    org, officer = newtown
    entry = _entry(org, officer, status="draft")
    with pytest.raises(AwaitingVerification, match="cannot publish entries"):
        pipeline.change_status(entry, "planned", officer)
    with pytest.raises(AwaitingVerification):
        pipeline.change_status(entry, "withdrawn", officer, {"reason": "Not needed"})
    db.session.expire_all()
    assert db.session.get(Opportunity, entry.id).status == "draft"


def test_the_publish_button_explains_and_leaves_the_draft(client, login, db, newtown):
    org, officer = newtown
    entry = _entry(org, officer, status="draft")
    login(officer)
    response = client.post(f"/forward-plan/manage/{entry.id}/stage/planned",
                           follow_redirects=True)
    assert "Newtown Council has not been verified yet" in page_text(response)
    db.session.expire_all()
    assert db.session.get(Opportunity, entry.id).status == "draft"


def test_the_plan_pages_show_the_notice_until_verified(client, login, db, newtown):
    org, officer = newtown
    entry = _entry(org, officer, status="draft")
    login(officer)
    for url in ("/forward-plan/manage", f"/forward-plan/manage/{entry.id}"):
        assert NOTICE in page_text(client.get(url)), url
    org.verify(None, "other", "Checked by telephone")
    db.session.commit()
    for url in ("/forward-plan/manage", f"/forward-plan/manage/{entry.id}"):
        assert NOTICE not in page_text(client.get(url)), url
    pipeline.change_status(db.session.get(Opportunity, entry.id), "planned", officer)


def test_a_verified_buyer_sees_no_notice(client, login, make_org, make_user):
    login(make_user(make_org(org_type="commissioner")))
    assert NOTICE not in page_text(client.get("/forward-plan/manage"))


def test_an_unverified_buyer_cannot_invite_suppliers(db, newtown, make_org):
    org, officer = newtown
    entry = _entry(org, officer, status="draft")
    supplier = make_org("Newtown Carers", org_type="vcse")
    with pytest.raises(AwaitingVerification, match="cannot invite suppliers"):
        matching.invite_supplier(entry, supplier, officer, "Please look")
    assert db.session.scalar(select(func.count(MatchInvitation.id))) == 0


def test_a_verified_buyer_invites_suppliers(db, make_org, make_user):
    buyer = make_org(org_type="commissioner")
    entry = _entry(buyer, make_user(buyer))
    invitation, _emailed = matching.invite_supplier(entry, make_org(org_type="vcse"),
                                                    make_user(buyer), "Please look")
    assert invitation.invited_by_organisation_id == buyer.id


# --- Assessing and deciding ---------------------------------------------------------------------

def _unverify(world):
    world.body.verified_at = world.body.verification_basis = None
    world.body.verification_note = None
    db.session.commit()


def test_an_unverified_body_cannot_assess_or_decide(world):
    application = complete_application(world)
    accreditation.submit_application(application, world.applicant)
    _unverify(world)
    with pytest.raises(AwaitingVerification, match="cannot assess accreditation applications"):
        accreditation.assign_assessors(application, [world.assessor.id], world.board)
    world.body.verify(None, "official_register", "On the register of assessment bodies")
    db.session.commit()
    assessed(world, application, [world.assessor])
    _unverify(world)
    assignment = accreditation.assignment_of(application, world.assessor)
    with pytest.raises(AwaitingVerification):
        accreditation.complete_review(assignment, world.assessor)
    with pytest.raises(AwaitingVerification):
        accreditation.save_review(assignment, application.standards[0].id,
                                  {"verdict": "met"}, world.assessor)
    with pytest.raises(AwaitingVerification):
        accreditation.request_more_info(application, "More please", [], world.board)
    with pytest.raises(AwaitingVerification, match="cannot decide"):
        accreditation.decide(application, "accredit", None, "Meets them.", None, world.board)
    db.session.expire_all()
    assert application.status == "in_assessment" and application.outcome is None


def test_an_unverified_body_cannot_declare_and_read_files(world):
    application = complete_application(world)
    accreditation.submit_application(application, world.applicant)
    _unverify(world)
    with pytest.raises(AwaitingVerification):
        accreditation.declare(application, False, "", world.board)


def test_a_site_admin_may_still_act_for_an_unverified_body(world, make_user):
    application = complete_application(world)
    accreditation.submit_application(application, world.applicant)
    _unverify(world)
    site_admin = make_user(site_admin=True)
    accreditation.assign_assessors(application, [world.assessor.id], site_admin)
    assert application.status == "in_assessment"


def test_the_queue_shows_the_notice_to_an_unverified_body(world, as_user):
    assert NOTICE not in page_text(as_user(world.board).get("/accreditation/assess"))
    _unverify(world)
    text = page_text(as_user(world.assessor).get("/accreditation/assess"))
    assert NOTICE in text and "assessing and deciding them waits" in text


# --- The site administrator's check -------------------------------------------------------------

@pytest.fixture
def site_admin(make_user, login):
    user = make_user(site_admin=True, name="Sam Site", email="sam@pathfinder.example")
    login(user)
    return user


@pytest.fixture
def waiting(newtown, make_user):
    org, officer = newtown
    colleague = make_user(org, role="member", email="clerk@newtown.gov.uk")
    unconfirmed = make_user(org, email="second.admin@gmail.example", verified=False)
    return org, officer, colleague, unconfirmed


def test_the_admin_home_links_to_the_waiting_list(client, site_admin, waiting):
    text = page_text(client.get("/admin/"))
    assert 'href="/admin/verification"' in text and "(1)" in text


def test_the_waiting_list_shows_unverified_buyers_and_bodies_with_people(
        client, site_admin, waiting, make_org, make_user):
    make_user(make_org("Verified Council", org_type="commissioner"))
    make_user(make_org("A Charity", org_type="vcse"))
    make_org("Council From A Notice", org_type="commissioner", verified=False)  # nobody to act
    body = make_org("New Assessors", org_type="accreditation_body", verified=False)
    make_user(body, email="lead@assessors.example")
    text = page_text(client.get("/admin/verification"))
    assert "Newtown Council" in text and "New Assessors" in text
    assert "officer@newtown.gov.uk" in text
    for absent in ("Verified Council", "A Charity", "Council From A Notice"):
        assert absent not in text, absent
    assert "2 organisations waiting" in text


def test_the_waiting_list_has_an_empty_state_and_pages(client, site_admin, make_org, make_user):
    assert "No organisations are waiting" in page_text(client.get("/admin/verification"))
    for n in range(51):  # people without passwords: hashing 51 of them is slow
        org = make_org(f"Council {n:02d}", org_type="commissioner", verified=False, commit=False)
        db.session.add(User(email=f"officer{n}@council.example", name="Officer", organisation=org,
                            password_hash="not a real hash"))
    db.session.commit()
    first = page_text(client.get("/admin/verification"))
    assert "51 organisations waiting" in first and "Council 00" in first
    assert "Council 50" not in first and "page=2" in first
    assert "Council 50" in page_text(client.get("/admin/verification?page=2"))


def test_the_verify_page_shows_the_people_and_asks_what_was_checked(client, site_admin, waiting):
    org, *_ = waiting
    response = client.get(f"/admin/verification/{org.id}")
    text = page_text(response)
    assert response.status_code == 200
    for email in ("officer@newtown.gov.uk", "clerk@newtown.gov.uk", "second.admin@gmail.example"):
        assert email in text, email
    assert "What did you check?" in text and "Not confirmed" in text
    assert 'name="note"' in text and "Verify organisation" in text
    from tests.functional.test_fieldset_legends import legends

    assert "What did you check?" in legends(response.get_data(as_text=True))


def test_verifying_records_audits_and_tells_the_administrators(client, site_admin, waiting):
    org, officer, colleague, unconfirmed = waiting
    note = "Email domain newtown.gov.uk; listed on GOV.UK local authority register"
    response = client.post(f"/admin/verification/{org.id}",
                           data={"basis": "public_sector_email", "note": note})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/admin/verification")
    db.session.expire_all()
    saved = db.session.get(Organisation, org.id)
    assert not saved.needs_verification and saved.verified_by_id == site_admin.id
    assert (saved.verification_basis, saved.verification_note) == ("public_sector_email", note)
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "admin.organisation_verified"))
    assert event.actor_id == site_admin.id and event.object_id == org.id
    assert event.details == {"basis": "public_sector_email", "note": note}
    [mail] = _mail_to("officer@newtown.gov.uk")
    assert "Newtown Council has been verified" in mail.subject and "/forward-plan/manage" in mail.body
    assert not _mail_to("clerk@newtown.gov.uk") and not _mail_to("second.admin@gmail.example")
    page = page_text(client.get(f"/admin/verification/{org.id}"))
    assert "Verified on" in page and "Sam Site" in page and note in page
    assert "Newtown Council" not in page_text(client.get("/admin/verification"))


@pytest.mark.parametrize("data, message", [
    ({"note": "Looked fine"}, "Choose what you checked"),
    ({"basis": "public_sector_email", "note": "  "}, "Say what you checked and what you found"),
    ({"basis": "hunch", "note": "Looked fine"}, "Not a valid choice"),
])
def test_a_verification_needs_a_basis_and_a_note(client, site_admin, waiting, data, message):
    org, *_ = waiting
    response = client.post(f"/admin/verification/{org.id}", data=data)
    assert response.status_code == 200 and message in page_text(response)
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).needs_verification
    assert not db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "admin.organisation_verified"))


def test_verifying_again_changes_nothing(client, site_admin, make_org, make_user):
    org = make_org("Old Council", org_type="commissioner")
    make_user(org)
    client.post(f"/admin/verification/{org.id}", data={"basis": "other", "note": "Again"})
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).verification_note == "Verified by the test factory"


def test_only_buyers_and_bodies_have_a_verify_page(client, site_admin, make_org):
    assert client.get(f"/admin/verification/{make_org(org_type='vcse').id}").status_code == 404
    assert client.get("/admin/verification/999999").status_code == 404


def test_nobody_else_may_verify(client, login, waiting, make_org, make_user):
    org, officer, *_ = waiting
    for person in (officer, make_user(make_org(org_type="commissioner"))):
        client.post("/sign-out")
        login(person)
        assert client.get("/admin/verification").status_code == 404
        assert client.post(f"/admin/verification/{org.id}",
                           data={"basis": "other", "note": "Trust me"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).needs_verification
    with pytest.raises(NotFound):
        admin_services.verify_organisation(officer, org.id, "other", "Trust me")


def test_once_verified_the_buyer_can_publish(client, login, site_admin, waiting):
    org, officer, *_ = waiting
    entry = _entry(org, officer, status="draft")
    client.post(f"/admin/verification/{org.id}", data={"basis": "official_register",
                                                       "note": "On the council register"})
    client.post("/sign-out")
    login(officer)
    client.post(f"/forward-plan/manage/{entry.id}/stage/planned")
    db.session.expire_all()
    assert db.session.get(Opportunity, entry.id).status == "planned"


def test_a_site_admin_sees_a_link_to_verify_on_the_profile(client, site_admin, waiting):
    org, *_ = waiting
    text = page_text(client.get(f"/organisations/{org.id}"))
    assert f'href="/admin/verification/{org.id}"' in text


# --- The migration ------------------------------------------------------------------------------

def test_the_migration_verifies_buyers_and_bodies_already_there():
    from flask_migrate import upgrade

    from tests.production import fresh_database
    from tests.test_migrations import _app_for

    with fresh_database("verification") as url:
        app = _app_for(url)
        with app.app_context():
            upgrade(revision="0013")
            with db.engine.begin() as connection:
                for name, org_type in (("Old Council", "commissioner"), ("Old Body",
                                       "accreditation_body"), ("Old Charity", "vcse")):
                    connection.execute(sql(
                        "INSERT INTO organisation (name, org_type, status, created_at, updated_at)"
                        " VALUES (:name, :type, 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                        {"name": name, "type": org_type})
            upgrade(revision="0014")
            with db.engine.connect() as connection:
                rows = connection.execute(sql(
                    "SELECT name, verified_at IS NOT NULL, verification_basis, verification_note"
                    " FROM organisation ORDER BY name")).all()
            db.engine.dispose()
    assert rows == [
        ("Old Body", 1, "other", "Verified before verification was recorded"),
        ("Old Charity", 0, None, None),
        ("Old Council", 1, "other", "Verified before verification was recorded"),
    ]
