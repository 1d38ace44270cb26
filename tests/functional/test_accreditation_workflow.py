"""Every step of an application, send-back and resubmission, decisions, records and expiry."""
from datetime import date, timedelta

import pytest

from portal.accreditation import services
from portal.accreditation.models import AccreditationRecord, Application
from portal.core.audit import AuditEvent
from portal.core.exceptions import DomainError, NotFound
from portal.core.mail import OutboxMessage
from portal.extensions import db
from tests.functional.test_accreditation_support import (  # noqa: F401  (fixtures)
    assessed, complete_application, data_file, evidence_dir, world,
)


def _actions():
    return [e.action for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]


def _mail_to(email):
    return db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.recipient == email)
                              .order_by(OutboxMessage.id)).all()


def test_draft_cannot_be_submitted_until_every_standard_is_answered(world):
    scheme = world.scheme("sliding-scale")
    application = services.start_application(world.org, scheme,
                                             scheme.current.levels[0].id, world.applicant)
    assert application.status == "draft"
    with pytest.raises(DomainError, match="Answer every standard"):
        services.submit_application(application, world.applicant)
    standard = application.standards[0]
    services.save_answer(application, standard.id, {"status": "partly", "narrative": ""}, None,
                         world.applicant)
    assert [t.status for t in services.task_list(application)["Quality"]][:1] == ["in_progress"]


def test_one_open_application_per_scheme(world):
    complete_application(world)
    scheme = world.scheme("sliding-scale")
    with pytest.raises(DomainError, match="already have an application"):
        services.start_application(world.org, scheme, scheme.current.levels[0].id,
                                   world.applicant)


def test_only_vcses_can_apply(world):
    scheme = world.scheme("kite-mark")
    with pytest.raises(DomainError, match="Only voluntary"):
        services.start_application(world.body, scheme, scheme.current.levels[0].id, world.board)


def test_full_journey_with_send_back_and_resubmission(world):
    application = complete_application(world, rank=3, upload=("policy.pdf",
                                                              data_file("policy.pdf")))
    services.submit_application(application, world.applicant)
    assert application.status == "submitted" and application.times_submitted == 1
    assert _mail_to("board@body.test")

    with pytest.raises(DomainError, match="needs 2 assessors"):
        services.assign_assessors(application, [world.assessor.id], world.board)
    services.assign_assessors(application, [world.assessor.id, world.assessor2.id], world.board)
    assert application.status == "in_assessment"
    assert _mail_to("ann@body.test") and _mail_to("sam@body.test")

    first = services.assignment_of(application, world.assessor)
    with pytest.raises(NotFound):   # no verdicts before declaring interests
        services.save_review(first, application.standards[0].id, {"verdict": "met"},
                             world.assessor)
    services.declare_interests(first, False, "", world.assessor)
    services.save_review(first, application.standards[0].id,
                         {"verdict": "partly", "feedback": "Policy is out of date"},
                         world.assessor)

    asked = application.standards[0]
    services.request_more_info(application, "Please upload the 2026 policy.", [asked.code],
                               world.assessor)
    assert application.status == "more_info"
    mail = _mail_to("admin@riverside.test")[-1]
    assert "Please upload the 2026 policy." in mail.body and asked.title in mail.body
    assert [t.status for t in services.task_list(application)[asked.area]][0] == "asked"

    services.save_answer(application, asked.id, {"status": "met", "narrative": "Updated."},
                         ("policy-2026.pdf", data_file("policy.pdf")), world.applicant)
    with pytest.raises(DomainError, match="Say what you have changed"):
        services.submit_application(application, world.applicant)
    services.submit_application(application, world.applicant, "Uploaded the new policy.")
    assert application.status == "in_assessment"   # back to the same assessors
    assert application.times_submitted == 2
    assert application.info_requests[0].response == "Uploaded the new policy."
    assert len(application.evidence) == 2

    second = services.assignment_of(application, world.assessor2)
    services.declare_interests(second, False, "", world.assessor2)
    for assignment, person, verdict in ((first, world.assessor, "met"),
                                        (second, world.assessor2, "partly")):
        for standard in application.standards:
            services.save_review(assignment, standard.id,
                                 {"verdict": verdict, "feedback": "Noted"}, person)
        services.complete_review(assignment, person)
    assert services.ready_for_decision(application)

    services.declare(application, False, "", world.board)
    with pytest.raises(DomainError, match="resolved the differences"):
        services.decide(application, "accredit", None, "Meets stage 3.", "", world.board)
    record = services.decide(application, "accredit", None, "Meets stage 3.",
                             "Board preferred the first assessor's view.", world.board)
    assert application.status == "accredited" and record.level.rank == 3
    assert record.is_current()
    assert record.expires_on == services.add_months(date.today(), 36)
    assert "Decision: accredited" in _mail_to("admin@riverside.test")[-1].body
    assert {"accreditation.application_started", "accreditation.application_submitted",
            "accreditation.assessors_assigned", "accreditation.conflict_declared",
            "accreditation.sent_back", "accreditation.decided"} <= set(_actions())
    assert services.current_level(world.org).rank == 3


def test_accredit_at_a_lower_level_needs_a_lower_level(world):
    application = complete_application(world, rank=2)
    services.submit_application(application, world.applicant)
    assessed(world, application, [world.assessor])
    level_two = application.level
    with pytest.raises(DomainError, match="below"):
        services.decide(application, "accredit_lower", level_two.id, "Reasons", None,
                        world.board)
    level_one = application.version.level_by_rank(1)
    record = services.decide(application, "accredit_lower", level_one.id,
                             "Financial controls need time to bed in.", None, world.board)
    assert record.level == level_one and application.outcome == "accredit_lower"


def test_decline_needs_reasons_and_creates_no_record(world):
    application = complete_application(world)
    services.submit_application(application, world.applicant)
    assessed(world, application, [world.assessor], verdict="not_met")
    with pytest.raises(DomainError, match="reasons"):
        services.decide(application, "decline", None, "  ", None, world.board)
    assert services.decide(application, "decline", None, "Not ready yet.", None,
                           world.board) is None
    assert application.status == "declined"
    assert db.session.scalar(db.select(db.func.count(AccreditationRecord.id))) == 0
    assert "not accredited" in _mail_to("admin@riverside.test")[-1].body


def test_no_decision_before_the_assessors_finish(world):
    application = complete_application(world)
    services.submit_application(application, world.applicant)
    services.assign_assessors(application, [world.assessor.id], world.board)
    services.declare(application, False, "", world.board)
    with pytest.raises(DomainError, match="finish"):
        services.decide(application, "accredit", None, "Fine", None, world.board)


def test_only_the_board_decides(world):
    application = complete_application(world)
    services.submit_application(application, world.applicant)
    assessed(world, application, [world.assessor])
    with pytest.raises(NotFound):
        services.decide(application, "accredit", None, "Fine", None, world.assessor)


def test_a_declared_conflict_blocks_the_file_and_needs_a_replacement(world):
    application = complete_application(world)
    services.submit_application(application, world.applicant)
    services.assign_assessors(application, [world.assessor.id], world.board)
    assignment = services.assignment_of(application, world.assessor)
    with pytest.raises(DomainError, match="Describe"):
        services.declare_interests(assignment, True, "", world.assessor)
    services.declare_interests(assignment, True, "I chair its board", world.assessor)
    with pytest.raises(DomainError, match="already declared"):
        services.declare_interests(assignment, False, "", world.assessor)
    assert not services.may_read_file(application, world.assessor)
    with pytest.raises(NotFound):
        services.get_for_body(application.id, world.assessor)
    assert not services.ready_for_decision(application)
    services.assign_assessors(application, [world.assessor2.id], world.board)
    assert services.may_read_file(application, world.assessor2) is False  # not declared yet


def test_review_needs_feedback_unless_met_and_every_verdict_to_complete(world):
    application = complete_application(world)
    services.submit_application(application, world.applicant)
    services.assign_assessors(application, [world.assessor.id], world.board)
    assignment = services.assignment_of(application, world.assessor)
    services.declare_interests(assignment, False, "", world.assessor)
    with pytest.raises(DomainError, match="feedback"):
        services.save_review(assignment, application.standards[0].id,
                             {"verdict": "not_met", "feedback": ""}, world.assessor)
    with pytest.raises(DomainError, match="met, partly met or not met"):
        services.save_review(assignment, application.standards[0].id, {"verdict": "maybe"},
                             world.assessor)
    with pytest.raises(DomainError, match="every standard"):
        services.complete_review(assignment, world.assessor)


@pytest.mark.parametrize("status, target", [
    ("draft", "in_assessment"), ("draft", "accredited"), ("submitted", "accredited"),
    ("accredited", "draft"), ("declined", "submitted"), ("more_info", "accredited"),
])
def test_illegal_transitions_are_refused(status, target):
    application = Application(status=status)
    with pytest.raises(DomainError, match="cannot become"):
        application.move_to(target)


def test_answers_cannot_change_after_submission(world):
    application = complete_application(world)
    services.submit_application(application, world.applicant)
    with pytest.raises(DomainError, match="cannot be changed"):
        services.save_answer(application, application.standards[0].id,
                             {"status": "met", "narrative": "x"}, None, world.applicant)
    with pytest.raises(DomainError, match="already been submitted"):
        services.submit_application(application, world.applicant)


def test_a_bad_file_keeps_everything_already_saved(world):
    application = complete_application(world, upload=("policy.pdf", data_file("policy.pdf")))
    standard = application.standards[0]
    with pytest.raises(DomainError, match="not a real"):
        services.save_answer(application, standard.id,
                             {"status": "not_yet", "narrative": "changed"},
                             ("evil.pdf", data_file("script-disguised.pdf")), world.applicant)
    db.session.rollback()
    db.session.expire_all()
    answer = application.answer_for(standard)
    assert answer.status == "met" and answer.narrative.startswith("How we meet")
    assert [e.filename for e in application.evidence] == ["policy.pdf"]


def test_removing_evidence_deletes_the_file(world, evidence_dir):
    application = complete_application(world, upload=("policy.pdf", data_file("policy.pdf")))
    item = application.evidence[0]
    path = evidence_dir / item.stored_name
    assert path.exists()
    services.remove_evidence(application, item.id, world.applicant)
    assert not path.exists() and application.evidence == []


def _accredited(world, rank=1, slug="sliding-scale"):
    application = complete_application(world, slug=slug, rank=rank,
                                       upload=("policy.pdf", data_file("policy.pdf")))
    services.submit_application(application, world.applicant)
    assessed(world, application, [world.assessor])
    return services.decide(application, "accredit", None, "Meets the standards.", None,
                           world.board)


def test_suspend_reinstate_and_revoke_with_reasons(world):
    record = _accredited(world)
    with pytest.raises(DomainError, match="reason"):
        services.change_record_status(record, "suspended", "", world.board)
    services.change_record_status(record, "suspended", "Complaint under investigation",
                                  world.board)
    assert services.current_level(world.org) is None
    assert "Complaint under investigation" in _mail_to("admin@riverside.test")[-1].body
    services.change_record_status(record, "active", "", world.board)
    assert services.current_level(world.org) is not None
    services.change_record_status(record, "revoked", "Safeguarding failure", world.board)
    with pytest.raises(DomainError, match="cannot become"):
        services.change_record_status(record, "active", "", world.board)
    assert {"accreditation.record_suspended", "accreditation.record_active",
            "accreditation.record_revoked"} <= set(_actions())


def test_expiry_job_sends_each_reminder_once_and_lapses_once(world):
    record = _accredited(world)
    expires = record.expires_on
    assert services.run_expiry(expires - timedelta(days=120)) == {
        "lapsed": 0, "reminder_90": 0, "reminder_30": 0}
    assert services.run_expiry(expires - timedelta(days=90))["reminder_90"] == 1
    assert services.run_expiry(expires - timedelta(days=89))["reminder_90"] == 0
    assert services.run_expiry(expires - timedelta(days=30))["reminder_30"] == 1
    assert services.run_expiry(expires - timedelta(days=30))["reminder_30"] == 0
    assert services.run_expiry(expires)["lapsed"] == 0          # valid on its last day
    assert services.run_expiry(expires + timedelta(days=1))["lapsed"] == 1
    assert services.run_expiry(expires + timedelta(days=2)) == {
        "lapsed": 0, "reminder_90": 0, "reminder_30": 0}
    assert record.status == "lapsed"
    subjects = [m.subject for m in _mail_to("admin@riverside.test")]
    assert sum("expires in 90 days" in s for s in subjects) == 1
    assert sum("expires in 30 days" in s for s in subjects) == 1
    assert sum("has expired" in s for s in subjects) == 1


def test_expiry_job_sends_only_the_30_day_reminder_when_started_late(world):
    record = _accredited(world)
    counts = services.run_expiry(record.expires_on - timedelta(days=10))
    assert counts == {"lapsed": 0, "reminder_90": 0, "reminder_30": 1}
    assert services.run_expiry(record.expires_on - timedelta(days=5))["reminder_30"] == 0


def test_expire_command_is_safe_to_repeat(app, world):
    record = _accredited(world)
    record.expires_on = date.today() - timedelta(days=1)
    db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["accreditation", "expire"])
    second = runner.invoke(args=["accreditation", "expire"])
    assert "Lapsed 1" in first.output and "Lapsed 0" in second.output
    db.session.expire_all()
    assert record.status == "lapsed"


def test_renewal_reuses_answers_and_recent_evidence(world):
    record = _accredited(world)
    old = record.application
    renewal = services.renew(record, world.applicant)
    assert renewal.status == "draft" and renewal.renewal_of_id == record.id
    assert {a.standard.code: a.narrative for a in renewal.answers} == {
        a.standard.code: a.narrative for a in old.answers}
    assert [e.stored_name for e in renewal.evidence] == [e.stored_name for e in old.evidence]
    assert services.missing_answers(renewal) == []
    services.submit_application(renewal, world.applicant)
    assessed(world, renewal, [world.assessor])
    new_record = services.decide(renewal, "accredit", None, "Renewed.", None, world.board)
    assert record.status == "renewed" and new_record.is_current()


def test_renewal_leaves_out_old_evidence(world):
    record = _accredited(world)
    record.application.evidence[0].uploaded_at = record.application.evidence[0].uploaded_at.replace(
        year=date.today().year - 4)
    db.session.commit()
    renewal = services.renew(record, world.applicant)
    assert renewal.evidence == [] and renewal.answers


def test_removing_copied_evidence_keeps_the_original_file(world, evidence_dir):
    record = _accredited(world)
    renewal = services.renew(record, world.applicant)
    copied = renewal.evidence[0]
    services.remove_evidence(renewal, copied.id, world.applicant)
    assert (evidence_dir / record.application.evidence[0].stored_name).exists()
