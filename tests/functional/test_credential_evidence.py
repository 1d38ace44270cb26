"""A certificate kept on the profile, and given as evidence on the standard that reuses it."""
import io
from datetime import date, timedelta
from html import unescape

import pytest

from portal.accreditation import schemes as scheme_engine
from portal.accreditation import services as accreditation
from portal.accreditation.certificates import DECISION_ALLOWANCE_DAYS, use_credential
from portal.core.audit import AuditEvent
from portal.core.exceptions import DomainError
from portal.extensions import db
from portal.organisations import services as profiles
from portal.organisations.models import Credential
from tests import factories
from tests.functional.test_accreditation_support import (  # noqa: F401  (fixtures)
    as_user, complete_application, data_file, evidence_dir, world,
)

PDF = data_file("policy.pdf")
PNG = data_file("chart.png")


def _insurance(world, expires_on=None, upload=("certificate.pdf", PDF), org=None, user=None):
    data = {"kind": "insurance", "title": "Public liability with Acme Insurance",
            "reference": "PL-123", "cover_amount": 5_000_000,
            "expires_on": expires_on or date.today() + timedelta(days=365)}
    return profiles.add_credential(org or world.org, data, user or world.applicant, upload)


def _draft(world):
    scheme = world.scheme("sliding-scale")
    level = scheme.current.level_by_rank(1)
    return accreditation.start_application(world.org, scheme, level.id, world.applicant)


def _standard(application, code="F2"):
    return next(s for s in application.standards if s.code == code)


def _answer_url(application, standard):
    return f"/accreditation/applications/{application.id}/standards/{standard.id}"


def _document_url(credential, org=None):
    org_id = org or credential.organisation_id
    return f"/organisations/{org_id}/credentials/{credential.id}/document"


def _stored(evidence_dir):
    return sorted(p.name for p in evidence_dir.iterdir()) if evidence_dir.exists() else []


def _events(action):
    return db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action)).all()


def _text(response):
    return unescape(response.get_data(as_text=True))


# --- the certificate on the profile ---------------------------------------------------------

def test_an_admin_adds_insurance_with_its_certificate(as_user, world, evidence_dir):
    client = as_user(world.applicant)
    response = client.post(f"/organisations/{world.org.id}/credentials", data={
        "kind": "insurance", "title": "Employer's liability", "cover_amount": "£10,000,000",
        "file": (io.BytesIO(PDF), "cert.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302
    credential = db.session.scalar(db.select(Credential))
    assert credential.filename == "cert.pdf" and credential.file_kind == "pdf"
    assert credential.file_size == len(PDF)
    assert _stored(evidence_dir) == [credential.stored_name]
    page = _text(client.get(f"/organisations/{world.org.id}/credentials"))
    assert "cert.pdf" in page and "Replace document" in page
    download = client.get(f"{_document_url(credential)}/download")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]


def test_a_disguised_or_missing_file_is_refused_and_nothing_is_kept(as_user, world,
                                                                     evidence_dir):
    client = as_user(world.applicant)
    page = client.post(f"/organisations/{world.org.id}/credentials", data={
        "kind": "insurance", "title": "Employer's liability", "cover_amount": "£10,000,000",
        "file": (io.BytesIO(data_file("script-disguised.pdf")), "cert.pdf")},
        content_type="multipart/form-data")
    assert page.status_code == 200 and "not a real PDF" in _text(page)
    assert db.session.scalar(db.select(Credential)) is None and _stored(evidence_dir) == []
    credential = _insurance(world, upload=None)
    page = client.post(_document_url(credential), data={}, content_type="multipart/form-data")
    assert page.status_code == 200 and "Choose a file to upload" in _text(page)
    assert _stored(evidence_dir) == []


def test_uploading_again_replaces_the_certificate_and_removing_it_keeps_the_details(
        as_user, world, evidence_dir):
    client = as_user(world.applicant)
    credential = _insurance(world, upload=None)
    assert "Upload document" in _text(client.get(f"/organisations/{world.org.id}/credentials"))
    assert "None uploaded yet" in _text(client.get(_document_url(credential)))
    for name, data in (("first.pdf", PDF), ("second.png", PNG)):
        response = client.post(_document_url(credential), data={
            "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
        assert response.status_code == 302
    db.session.expire_all()
    assert credential.filename == "second.png"
    assert _stored(evidence_dir) == [credential.stored_name]   # the first one is gone
    response = client.post(f"{_document_url(credential)}/remove")
    assert response.status_code == 302
    db.session.expire_all()
    assert credential.filename is None and credential.title and _stored(evidence_dir) == []
    assert [len(_events(a)) for a in ("credential.file_attached", "credential.file_removed")] \
        == [2, 1]


def test_a_member_is_told_to_ask_an_admin_but_may_download(as_user, world, evidence_dir):
    credential = _insurance(world)
    member = factories.make_user(world.org, role="member", email="member@riverside.test")
    client = as_user(member)
    assert client.get(_document_url(credential)).status_code == 403
    for url, data in ((_document_url(credential), {"file": (io.BytesIO(PNG), "x.png")}),
                      (f"{_document_url(credential)}/remove", {})):
        response = client.post(url, data=data, content_type="multipart/form-data")
        assert response.status_code == 403 and "administrator" in _text(response)
    db.session.expire_all()
    assert credential.filename == "certificate.pdf"
    assert client.get(f"{_document_url(credential)}/download").data == PDF
    profile = _text(client.get(f"/organisations/{world.org.id}"))
    assert "certificate.pdf" in profile


def test_another_organisation_and_the_public_get_404(as_user, app, world, evidence_dir):
    credential = _insurance(world)
    urls = [_document_url(credential), f"{_document_url(credential)}/download"]
    for person in (world.other_applicant, world.assessor):
        client = as_user(person)
        for url in urls:
            assert client.get(url).status_code == 404, (person.email, url)
        assert client.post(urls[0], data={"file": (io.BytesIO(PNG), "x.png")},
                           content_type="multipart/form-data").status_code == 404
        assert client.post(f"{urls[0]}/remove").status_code == 404
        # Nor through their own organisation's address.
        own = _document_url(credential, org=person.organisation_id)
        assert client.get(f"{own}/download").status_code == 404
        assert "certificate.pdf" not in _text(client.get(f"/organisations/{world.org.id}"))
    anonymous = app.test_client()
    assert anonymous.get(urls[1]).status_code == 302   # to sign in
    db.session.expire_all()
    assert credential.filename == "certificate.pdf"


# --- giving it as evidence ----------------------------------------------------------------------

def test_the_insurance_standard_offers_the_certificate_and_gives_it_as_evidence(
        as_user, world, evidence_dir):
    credential = _insurance(world)
    application = _draft(world)
    standard = _standard(application)
    client = as_user(world.applicant)
    page = _text(client.get(_answer_url(application, standard)))
    assert "Insurance on your profile" in page and "Public liability with Acme Insurance" in page
    assert "£5,000,000" in page and "Use this certificate as evidence" in page
    response = client.post(f"{_answer_url(application, standard)}/certificate",
                           data={"credential": credential.id})
    assert response.status_code == 302
    db.session.expire_all()
    [item] = application.evidence_for(standard)
    assert (item.filename, item.stored_name, item.sha256) == (
        "certificate.pdf", credential.stored_name, credential.file_sha256)
    assert _stored(evidence_dir) == [credential.stored_name]   # one file, named twice
    [event] = _events("accreditation.credential_used")
    assert event.actor_id == world.applicant.id
    page = _text(client.get(_answer_url(application, standard)))
    assert "already given as evidence" in page and "Use this certificate as evidence" not in page
    with pytest.raises(DomainError, match="already given"):
        use_credential(application, standard.id, credential.id, world.applicant)


def test_the_shared_file_stays_while_either_side_names_it(as_user, world, evidence_dir):
    credential = _insurance(world)
    application = _draft(world)
    standard = _standard(application)
    item = use_credential(application, standard.id, credential.id, world.applicant)
    stored = credential.stored_name
    profiles.attach_credential_file(world.org, credential.id, ("renewed.png", PNG),
                                    world.applicant)
    assert stored in _stored(evidence_dir)   # the application keeps what it was given
    accreditation.remove_evidence(application, item.id, world.applicant)
    assert _stored(evidence_dir) == [credential.stored_name]   # now nobody names the old one
    again = use_credential(application, standard.id, credential.id, world.applicant)
    profiles.remove_credential(world.org, credential.id, world.applicant)
    assert _stored(evidence_dir) == [again.stored_name]   # the evidence still names it


def test_an_expired_certificate_or_one_ending_too_soon_is_not_offered(as_user, world,
                                                                      evidence_dir):
    expired = _insurance(world, expires_on=date.today() - timedelta(days=1))
    soon = _insurance(world, expires_on=date.today() + timedelta(days=DECISION_ALLOWANCE_DAYS - 1))
    application = _draft(world)
    standard = _standard(application)
    client = as_user(world.applicant)
    page = _text(client.get(_answer_url(application, standard)))
    assert "Use this certificate as evidence" not in page
    assert "expired on" in page and "before this application is likely to be decided" in page
    assert "Add your renewed insurance to your profile" in page
    for credential in (expired, soon):
        response = client.post(f"{_answer_url(application, standard)}/certificate",
                               data={"credential": credential.id})
        assert response.status_code == 302
    db.session.expire_all()
    assert application.evidence_for(standard) == [] and not _events("accreditation.credential_used")


def test_without_insurance_on_the_profile_the_page_links_to_add_it(as_user, world,
                                                                   evidence_dir):
    application = _draft(world)
    client = as_user(world.applicant)
    page = _text(client.get(_answer_url(application, _standard(application))))
    assert "Your profile has no insurance yet" in page
    assert f"/organisations/{world.org.id}/credentials#add" in page
    credential = _insurance(world, upload=None)
    page = _text(client.get(_answer_url(application, _standard(application))))
    assert "has not been uploaded to your profile" in page
    assert _document_url(credential) in page
    other = _text(client.get(_answer_url(application, _standard(application, "F1"))))
    assert "on your profile" not in other


def test_another_organisations_certificate_or_standard_cannot_be_given(world, evidence_dir):
    theirs = _insurance(world, org=world.other_org, user=world.other_applicant)
    mine = _insurance(world)
    application = _draft(world)
    for standard_code, credential in (("F2", theirs), ("F1", mine)):
        with pytest.raises(DomainError, match="not found"):
            use_credential(application, _standard(application, standard_code).id,
                           credential.id, world.applicant)


def test_a_declared_assessor_downloads_it_and_nobody_else(as_user, world, evidence_dir):
    credential = _insurance(world)
    application = complete_application(world)
    standard = _standard(application)
    item = use_credential(application, standard.id, credential.id, world.applicant)
    accreditation.submit_application(application, world.applicant)
    accreditation.assign_assessors(application, [world.assessor.id], world.board)
    url = f"/accreditation/evidence/{item.id}"
    assessor = as_user(world.assessor)
    assert assessor.get(url).status_code == 404   # assigned, not yet declared
    accreditation.declare_interests(accreditation.assignment_of(application, world.assessor),
                                    False, "", world.assessor)
    response = assessor.get(url)
    assert response.status_code == 200 and response.data == PDF
    # The evidence, not the profile: the profile's own document stays the organisation's.
    assert assessor.get(f"{_document_url(credential)}/download").status_code == 404
    for person in (world.assessor2, world.outsider_body_user, world.other_applicant,
                   world.board):   # the board has not declared
        assert as_user(person).get(url).status_code == 404, person.email


def test_a_scheme_names_a_kind_of_credential_it_reuses(world):
    document = scheme_engine.parse_yaml(scheme_engine.to_yaml(
        world.scheme("sliding-scale").current.source))
    assert [s["code"] for s in document["standards"] if s.get("reuses_credential")] == ["F2"]
    document["standards"][0]["reuses_credential"] = "pension"
    with pytest.raises(DomainError, match="reuses_credential must be one of"):
        scheme_engine.check_document(document)
