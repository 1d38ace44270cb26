"""What users saw go wrong in accreditation, each pinned by a test named after it."""
from datetime import date, timedelta

import pytest

from portal.accreditation import services
from portal.core.exceptions import DomainError
from portal.core.mail import OutboxMessage
from portal.extensions import db
from tests.functional.test_accreditation_support import (  # noqa: F401  (fixtures)
    as_user, assessed, complete_application, data_file, evidence_dir, world,
)


def _submitted(world):
    application = complete_application(world, upload=("policy.pdf", data_file("policy.pdf")))
    services.submit_application(application, world.applicant)
    return application


def test_the_board_saw_the_whole_application_before_declaring_a_conflict(as_user, world):
    application = _submitted(world)
    board = as_user(world.board)
    page = board.get(f"/accreditation/assess/{application.id}")
    assert page.status_code == 200
    assert "How we meet" not in page.text and "policy.pdf" not in page.text
    assert "Declare any conflict of interest" in page.text and "Assign assessors" in page.text
    assert board.get(f"/accreditation/evidence/{application.evidence[0].id}").status_code == 404
    assert board.get(f"/accreditation/assess/{application.id}/decide").headers[
        "Location"].endswith(f"/accreditation/assess/{application.id}/declare")

    declare = board.get(f"/accreditation/assess/{application.id}/declare")
    assert "Before you see it" in declare.text
    board.post(f"/accreditation/assess/{application.id}/declare", data={"has_conflict": "no"})
    page = board.get(f"/accreditation/assess/{application.id}")
    assert "How we meet" in page.text and "policy.pdf" in page.text


def test_a_board_member_with_a_conflict_never_sees_the_file_or_decides(as_user, world):
    application = _submitted(world)
    services.declare(application, True, "I am one of its trustees", world.board)
    with pytest.raises(DomainError, match="already declared"):
        services.declare(application, False, "", world.board)
    assert not services.may_read_file(application, world.board)
    page = as_user(world.board).get(f"/accreditation/assess/{application.id}")
    assert "You declared a conflict of interest" in page.text and "How we meet" not in page.text


def test_records_page_showed_an_expired_record_as_accredited(as_user, world):
    application = _submitted(world)
    assessed(world, application, [world.assessor])
    record = services.decide(application, "accredit", None, "Meets them.", None, world.board)
    record.expires_on = date.today() - timedelta(days=1)   # the daily job has not run yet
    db.session.commit()
    assert services.current_standing(world.org) is None   # the register's rule
    assert record.standing() == "lapsed"
    page = as_user(world.board).get("/accreditation/assess/records")
    assert "Expired" in page.text and ">Accredited<" not in page.text


def test_applicant_got_no_email_confirming_its_submission(world):
    application = complete_application(world)
    services.submit_application(application, world.applicant)
    mail = db.session.scalars(db.select(OutboxMessage).where(
        OutboxMessage.recipient == world.applicant.email)).all()
    assert len(mail) == 1 and "received your accreditation application" in mail[0].subject
    assert "What happens next" in mail[0].body and f"ACC-{application.id}" in mail[0].body


def test_pages_said_tier_in_one_place_and_stage_in_another(as_user, world):
    application = _submitted(world)
    page = as_user(world.board).get(f"/accreditation/assess/{application.id}")
    level = application.level
    assert f"{level.name} (tier {level.tier})" in page.text
    if level.max_contract_value:
        assert "ready for contracts up to" in page.text


def test_the_assessor_who_assessed_alone_also_made_the_board_decision(world):
    application = _submitted(world)
    assessed(world, application, [world.board])
    with pytest.raises(DomainError, match="another board member"):
        services.decide(application, "accredit", None, "Fine", None, world.board)
