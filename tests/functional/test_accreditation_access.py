"""Pages and access: two organisations, assessors with and without conflicts, uploads over HTTP."""
import io

import pytest
from werkzeug.http import parse_options_header

from portal.accreditation import evidence as files
from portal.accreditation import services
from portal.core.audit import AuditEvent
from portal.core.exceptions import NotFound
from portal.extensions import db
from tests import factories
from tests.functional.test_accreditation_support import (  # noqa: F401  (fixtures)
    as_user, assessed, complete_application, data_file, evidence_dir, world,
)


def _submitted(world, **kwargs):
    application = complete_application(world, upload=("policy.pdf", data_file("policy.pdf")),
                                       **kwargs)
    services.submit_application(application, kwargs.get("user") or world.applicant)
    return application


def _upload(client, application, standard, name, data, **fields):
    form = {"status": "met", "narrative": "Typed text to keep", "mark_id": "0",
            "file": (io.BytesIO(data), name), "save": "Save and continue", **fields}
    return client.post(f"/accreditation/applications/{application.id}/standards/{standard.id}",
                       data=form, content_type="multipart/form-data")


def test_applicant_pages_render(client, login, world):
    login(world.applicant)
    assert client.get("/accreditation").status_code == 200
    page = client.get("/accreditation/apply")
    assert page.status_code == 200 and "Approved provider kite-mark" in page.text
    response = client.post("/accreditation/apply", data={"scheme": "sliding-scale"})
    assert response.headers["Location"].endswith("/accreditation/apply/sliding-scale")
    page = client.get("/accreditation/apply/sliding-scale")
    assert "Stage 1 – foundation (suggested)" in page.text
    level = world.scheme("sliding-scale").current.levels[0]
    response = client.post("/accreditation/apply/sliding-scale", data={"level": level.id})
    assert response.status_code == 302
    task_list = client.get(response.headers["Location"])
    assert "govuk-task-list" in task_list.text and "Not started" in task_list.text


def test_choosing_nothing_shows_an_error(client, login, world):
    login(world.applicant)
    page = client.post("/accreditation/apply", data={})
    assert "Choose a scheme" in page.text and "govuk-error-summary" in page.text


def test_upload_over_http_accepts_real_files_and_refuses_disguised_ones(client, login, world):
    login(world.applicant)
    application = complete_application(world)
    standard = application.standards[0]
    ok = _upload(client, application, standard, "minutes.docx", data_file("minutes.docx"))
    assert ok.status_code == 302
    bad = _upload(client, application, standard, "policy.pdf",
                  data_file("script-disguised.pdf"), narrative="My new words")
    assert bad.status_code == 200
    assert "not a real PDF" in bad.text and "My new words" in bad.text
    db.session.expire_all()
    assert [e.filename for e in application.evidence] == ["minutes.docx"]
    assert application.answer_for(standard).narrative == "Typed text to keep"


def test_oversized_upload_is_refused_clearly(app, client, login, world):
    login(world.applicant)
    application = complete_application(world)
    big = data_file("policy.pdf") + b"0" * app.config["EVIDENCE_MAX_BYTES"]
    page = _upload(client, application, application.standards[0], "big.pdf", big)
    assert page.status_code == 200 and "must be smaller than" in page.text


def test_path_tricks_are_stripped_from_uploaded_names(client, login, world, evidence_dir):
    login(world.applicant)
    application = complete_application(world)
    _upload(client, application, application.standards[0], "../../../etc/cron.d/x.pdf",
            data_file("policy.pdf"))
    db.session.expire_all()
    item = application.evidence[0]
    assert item.filename == "x.pdf"
    assert [p.name for p in evidence_dir.iterdir()] == [item.stored_name]


def test_non_ascii_file_names_are_kept_for_display_and_download(client, login, world,
                                                                 evidence_dir):
    login(world.applicant)
    application = complete_application(world)
    standard = application.standards[0]
    assert _upload(client, application, standard, "évidence.pdf",
                   data_file("policy.pdf")).status_code == 302
    db.session.expire_all()
    item = application.evidence[0]
    assert item.filename == "évidence.pdf"
    assert [p.name for p in evidence_dir.iterdir()] == [item.stored_name]
    assert files.STORED_NAME_RE.match(item.stored_name)
    page = client.get(f"/accreditation/applications/{application.id}/standards/{standard.id}")
    assert "évidence.pdf" in page.text
    response = client.get(f"/accreditation/evidence/{item.id}")
    header = response.headers["Content-Disposition"]
    assert header == ("attachment; filename=\"evidence.pdf\"; "
                      "filename*=UTF-8''%C3%A9vidence.pdf")
    assert parse_options_header(header)[1]["filename"] == "évidence.pdf"
    assert response.data == data_file("policy.pdf")


def test_unsafe_parts_of_uploaded_names_are_removed_for_display_and_download(
        client, login, world, evidence_dir):
    login(world.applicant)
    application = complete_application(world)
    standard = application.standards[0]
    for name in ("../../etc/passwd.pdf", "report\u202eFDP.exe.pdf",
                 "report: draft?|v2\tfinal.pdf"):
        assert _upload(client, application, standard, name,
                       data_file("policy.pdf")).status_code == 302
    db.session.expire_all()
    names = [e.filename for e in application.evidence]
    assert names == ["passwd.pdf", "reportFDP.exe.pdf", "report_ draft__v2 final.pdf"]
    assert {p.name for p in evidence_dir.iterdir()} == {
        e.stored_name for e in application.evidence}
    header = client.get(f"/accreditation/evidence/{application.evidence[2].id}").headers[
        "Content-Disposition"]
    assert parse_options_header(header)[1]["filename"] == "report_ draft__v2 final.pdf"


def test_a_draft_is_the_applicants_alone_until_submitted(as_user, world):
    draft = complete_application(world, upload=("policy.pdf", data_file("policy.pdf")))
    assert draft.status == "draft"
    site_admin = factories.make_user(email="admin@portal.test", site_admin=True)
    assess = f"/accreditation/assess/{draft.id}"
    pages = (assess, f"{assess}/assign", f"{assess}/decide",
             f"/accreditation/evidence/{draft.evidence[0].id}")
    for person in (world.board, world.assessor, world.outsider_body_user, site_admin,
                   world.other_applicant):
        client = as_user(person)
        for url in pages:
            assert client.get(url).status_code == 404, (person.email, url)
    applicant = as_user(world.applicant)
    assert applicant.get(pages[-1]).status_code == 200
    assert applicant.get(f"/accreditation/applications/{draft.id}").status_code == 200

    services.submit_application(draft, world.applicant)
    for person in (world.board, site_admin):
        client = as_user(person)
        assert client.get(pages[-1]).status_code == 404, person.email   # not declared yet
        services.declare(draft, False, "", person)
        for url in (assess, pages[-1]):
            assert client.get(url).status_code == 200, (person.email, url)


def test_a_draft_is_refused_by_the_services_too(world):
    draft = complete_application(world, upload=("policy.pdf", data_file("policy.pdf")))
    with pytest.raises(NotFound):
        services.get_for_body(draft.id, world.board)
    assert not services.may_read_file(draft, world.board)
    assert services.may_read_file(draft, world.applicant)


def test_another_organisation_cannot_see_or_change_the_application(client, login, world):
    application = _submitted(world)
    login(world.other_applicant)
    for url in (f"/accreditation/applications/{application.id}",
                f"/accreditation/applications/{application.id}/check",
                f"/accreditation/applications/{application.id}/standards/"
                f"{application.standards[0].id}",
                f"/accreditation/evidence/{application.evidence[0].id}",
                f"/accreditation/assess/{application.id}"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/accreditation/applications/{application.id}/check",
                       data={"confirm": "y"}).status_code == 404


def test_evidence_downloads_are_limited_and_audited(as_user, world):
    application = _submitted(world)
    services.assign_assessors(application, [world.assessor.id], world.board)
    item = application.evidence[0]
    url = f"/accreditation/evidence/{item.id}"

    client = as_user(world.assessor)   # assigned, but has not declared interests yet
    assert client.get(url).status_code == 404
    services.declare_interests(services.assignment_of(application, world.assessor), False, "",
                               world.assessor)
    response = client.get(url)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Content-Type"] == "application/pdf"

    assert as_user(world.board).get(url).status_code == 404   # the board declares first too
    services.declare(application, False, "", world.board)
    for person, expected in ((world.assessor2, 404), (world.outsider_body_user, 404),
                             (world.other_applicant, 404), (world.applicant, 200),
                             (world.board, 200)):
        assert as_user(person).get(url).status_code == expected, person.email
    downloads = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "accreditation.evidence_downloaded")).all()
    assert len(downloads) == 3
    assert {d.actor_id for d in downloads} == {world.assessor.id, world.applicant.id,
                                               world.board.id}


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    application = _submitted(world)
    response = client.get(f"/accreditation/evidence/{application.evidence[0].id}")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_an_assessor_with_a_conflict_cannot_see_the_file(client, login, world):
    application = _submitted(world)
    services.assign_assessors(application, [world.assessor.id], world.board)
    login(world.assessor)
    page = client.get(f"/accreditation/assess/{application.id}")
    assert page.status_code == 302 and page.headers["Location"].endswith("/declare")
    response = client.post(f"/accreditation/assess/{application.id}/declare",
                           data={"has_conflict": "yes", "details": "I volunteer there"})
    assert response.status_code == 302
    assert client.get(f"/accreditation/assess/{application.id}").status_code == 404
    standard = application.standards[0]
    assert client.get(f"/accreditation/assess/{application.id}/standards/"
                      f"{standard.id}").status_code == 404


def test_an_unassigned_assessor_and_another_body_see_nothing(as_user, world):
    application = _submitted(world)
    services.assign_assessors(application, [world.assessor.id], world.board)
    for person in (world.assessor2, world.outsider_body_user):
        client = as_user(person)
        assert client.get(f"/accreditation/assess/{application.id}").status_code == 404
        assert client.get(f"/accreditation/assess/{application.id}/decide").status_code == 404
    assigned = as_user(world.assessor)
    assert assigned.get(f"/accreditation/assess/{application.id}/assign").status_code == 404


def test_applicant_never_sees_private_notes(as_user, world):
    application = _submitted(world)
    assessed(world, application, [world.assessor])
    services.decide(application, "accredit", None, "Well evidenced.", None, world.board)
    page = as_user(world.applicant).get(f"/accreditation/applications/{application.id}")
    assert "Well evidenced." in page.text and "Good work" in page.text
    assert "note by" not in page.text
    board_page = as_user(world.board).get(f"/accreditation/assess/{application.id}")
    assert "note by Ann Assessor" in board_page.text


def test_board_pages_render_and_decide_over_http(client, login, world):
    application = _submitted(world)
    login(world.board)
    assert "Riverside Advice Centre" in client.get("/accreditation/assess").text
    response = client.post(f"/accreditation/assess/{application.id}/assign",
                           data={"assessors": [str(world.assessor.id)]})
    assert response.status_code == 302
    assessed_one = services.assignment_of(application, world.assessor)
    services.declare_interests(assessed_one, False, "", world.assessor)
    for standard in application.standards:
        services.save_review(assessed_one, standard.id, {"verdict": "met"}, world.assessor)
    services.complete_review(assessed_one, world.assessor)
    assert client.post(f"/accreditation/assess/{application.id}/declare",
                       data={"has_conflict": "no"}).status_code == 302
    page = client.get(f"/accreditation/assess/{application.id}/decide")
    assert "Verdicts side by side" in page.text
    response = client.post(f"/accreditation/assess/{application.id}/decide",
                           data={"outcome": "accredit", "level": "0", "reasons": "Good"})
    assert response.status_code == 302
    assert client.get("/accreditation/assess/records").status_code == 200
    assert client.get("/accreditation/report").status_code == 200


def test_assessor_review_over_http(as_user, world):
    application = _submitted(world)
    services.assign_assessors(application, [world.assessor.id], world.board)
    client = as_user(world.assessor)
    client.post(f"/accreditation/assess/{application.id}/declare", data={"has_conflict": "no"})
    standard = application.standards[0]
    url = f"/accreditation/assess/{application.id}/standards/{standard.id}"
    page = client.post(url, data={"verdict": "not_met", "feedback": ""})
    assert "Give feedback the applicant can act on" in page.text
    assert client.post(url, data={"verdict": "met"}).status_code == 302
    response = client.post(f"/accreditation/assess/{application.id}/send-back",
                           data={"message": "Send the signed minutes",
                                 "standards": [standard.code]})
    assert response.status_code == 302
    page = as_user(world.applicant).get(f"/accreditation/applications/{application.id}")
    assert "Send the signed minutes" in page.text and "Asked about" in page.text


def test_site_admin_publishes_a_new_version_in_the_portal(as_user, world, make_user):
    admin = make_user(site_admin=True)
    client = as_user(admin)
    page = client.get("/accreditation/admin/schemes/kite-mark/edit")
    assert "slug: kite-mark" in page.text
    text = page.text.split('name="document"')[1].split(">", 1)[1].split("</textarea>")[0]
    import html
    document = html.unescape(text).replace("Approved provider kite-mark", "Approved kite-mark")
    response = client.post("/accreditation/admin/schemes/kite-mark/edit",
                           data={"document": document})
    assert response.status_code == 302
    assert "version 2" in client.get("/accreditation/schemes/kite-mark").text.lower()
    broken = client.post("/accreditation/admin/schemes/kite-mark/edit",
                         data={"document": "slug: kite-mark\nlevels: []"})
    assert "Add at least one level" in broken.text
    assert as_user(world.board).get("/accreditation/admin/schemes").status_code == 404


def test_assessors_queue_lists_only_their_own_assignments(as_user, world):
    mine = _submitted(world)
    _submitted(world, org=world.other_org, user=world.other_applicant)
    services.assign_assessors(mine, [world.assessor.id], world.board)
    page = as_user(world.assessor).get("/accreditation/assess").text
    assert "Riverside Advice Centre" in page and "Hilltop Youth Trust" not in page
    board_page = as_user(world.board).get("/accreditation/assess").text
    assert "Riverside Advice Centre" in board_page and "Hilltop Youth Trust" in board_page
    assert as_user(world.applicant).get("/accreditation/assess").status_code == 404
