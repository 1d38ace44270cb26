"""Use cases for accreditation: applying, assessing, deciding, expiry, and eligibility.

Who may do what:
- members of the applying organisation see and edit their own applications, and a draft is
  theirs alone until it is submitted;
- an accreditation body runs a scheme: its members are assessors, its admins form the board
  that assigns assessors and decides (site admins may act for any body);
- nobody at the body, assessor or board member, sees an application's file (its answers and
  evidence) before declaring no conflict of interest for it.
Anyone else is told the application does not exist.
"""
from calendar import monthrange
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import object_session, selectinload

from portal.accounts.models import User
from portal.accounts.services import admin_names, require_org_admin
from portal.accreditation import evidence as files
from portal.accreditation.models import (
    OUTCOMES, VERDICTS, AccreditationRecord, Answer, Application, Assignment, BoardDeclaration,
    Evidence, InfoRequest, Level, RecognisedMark, Review, Scheme, SchemeVersion, Standard,
)
from portal.core import audit
from portal.core.exceptions import DomainError, NotFound
from portal.core.mail import send_email
from portal.core.mixins import utcnow
from portal.extensions import db
from portal.organisations.verification import require_verified

MAX_NARRATIVE = 5000
MAX_MESSAGE = 5000
REMINDER_DAYS = (90, 30)
EVIDENCE_REUSE_MONTHS = 36
OPEN_STATUSES = ("draft", "submitted", "in_assessment", "more_info")
APPLY_ACTION = "apply for accreditation"
ASSESS_ACTION = "assess accreditation applications"
DECIDE_ACTION = "decide accreditation applications"


def add_months(day, months):
    """The same day `months` later, or the month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def _clean(value, limit, field, what):
    value = (value or "").strip()
    if len(value) > limit:
        raise DomainError(f"{what} must be {limit:,} characters or fewer", field=field)
    return value or None


# --- roles ------------------------------------------------------------------------------------

def _signed_in(user):
    return user is not None and getattr(user, "is_authenticated", False)


def is_body_member(user, scheme):
    """Members of the body that runs `scheme`. A scheme without a body is run by site admins."""
    if not _signed_in(user) or user.organisation is None:
        return False
    org = user.organisation
    return org.org_type == "accreditation_body" and org.id == scheme.body_id


def is_board(user, scheme):
    """The board: the running body's admins, and site admins."""
    if not _signed_in(user):
        return False
    return bool(user.is_site_admin or (is_body_member(user, scheme) and user.org_role == "admin"))


def is_body_user(user):
    """Anyone who works for an accreditation body, or a site admin."""
    return _signed_in(user) and bool(
        user.is_site_admin or (user.organisation and
                               user.organisation.org_type == "accreditation_body"))


def can_apply(user):
    """Whether the user's organisation may hold accreditation (a VCSE)."""
    return _signed_in(user) and user.organisation is not None and \
        user.organisation.org_type == "vcse"


def require_applicant_admin(user):
    """Only a VCSE applies, and only its administrators start or renew an application: a
    member is told whom to ask (AdminOnly), anyone else that there is nothing here."""
    if not can_apply(user):
        raise NotFound("Not found")
    require_org_admin(user, APPLY_ACTION)


def admins_to_ask(user):
    """For a VCSE member who may not apply, the administrators to ask; otherwise None."""
    if not can_apply(user) or user.is_org_admin:
        return None
    return admin_names(user.organisation)


def _require_verified_body(scheme, actor, action):
    # Site admins run schemes without a body and may act for any; a body's own people wait
    # for its verification.
    if not actor.is_site_admin:
        require_verified(scheme.body, action)


# --- loading with access checks -----------------------------------------------------------------

def _application(app_id):
    application = db.session.get(Application, app_id)
    if application is None:
        raise NotFound("Application not found")
    return application


def get_own_application(app_id, user):
    """An application of the user's own organisation; anyone else gets NotFound."""
    application = _application(app_id)
    if not _signed_in(user) or user.organisation_id != application.organisation_id:
        raise NotFound("Application not found")
    return application


def assignment_of(application, user):
    return next((a for a in application.assignments if a.assessor_id == user.id), None)


def get_for_body(app_id, user):
    """An application as the board or an assigned assessor sees it.

    Returns (application, assignment or None, is board). An assessor who declared a conflict,
    anyone outside the running body, and everyone while the application is still a draft, is
    told it does not exist.
    """
    application = _application(app_id)
    if application.is_private_draft:
        raise NotFound("Application not found")
    scheme = application.version.scheme
    board = is_board(user, scheme)
    assignment = assignment_of(application, user) if _signed_in(user) else None
    if assignment is not None and assignment.has_conflict:
        raise NotFound("Application not found")
    if not board and assignment is None:
        raise NotFound("Application not found")
    return application, assignment, board


def _board_declaration(application, user):
    """True, False, or None when the board member has not declared for the application."""
    found = db.session.scalar(select(BoardDeclaration.has_conflict).where(
        BoardDeclaration.application_id == application.id,
        BoardDeclaration.user_id == user.id))
    return found


def declaration_of(application, user):
    """The user's conflict declaration on `application`: True (a conflict), False (none) or
    None (not declared yet, or not someone who declares)."""
    assignment = assignment_of(application, user)
    if assignment is not None:
        return assignment.has_conflict
    if is_board(user, application.version.scheme):
        return _board_declaration(application, user)
    return None


def may_read_file(application, user):
    """The organisation itself; once submitted, also assigned assessors and the board (site
    admins included), but each only after declaring no conflict of interest for it."""
    if not _signed_in(user):
        return False
    if user.organisation_id == application.organisation_id:
        return True
    if application.is_private_draft:
        return False
    return declaration_of(application, user) is False


def read_file(application, user):
    """Each standard with its answer and reviews, for someone cleared to read the file."""
    if not may_read_file(application, user):
        raise NotFound("Application not found")
    return compare_reviews(application)


def get_evidence_for_download(evidence_id, user):
    """The evidence row and its file, open to read; records the download in the audit trail."""
    item = db.session.get(Evidence, evidence_id)
    if item is None or not may_read_file(item.application, user):
        raise NotFound("Evidence not found")
    if not files.exists(item.stored_name):
        raise NotFound("Evidence not found")
    audit.record("accreditation.evidence_downloaded", item, actor_id=user.id,
                 application_id=item.application_id, filename=item.filename)
    db.session.commit()
    return item, files.open_stored(item.stored_name)


# --- starting an application --------------------------------------------------------------------

def suggest_level(org, version):
    """The level whose income bands include the organisation's, else the first level."""
    if org.income_band:
        for level in version.levels:
            if org.income_band in (level.income_bands or []):
                return level
    return version.levels[0]


def open_applications(org):
    return db.session.scalars(
        select(Application).where(Application.organisation_id == org.id)
        .order_by(Application.created_at.desc())).all()


def _open_for_scheme(org, scheme):
    return db.session.scalar(
        select(Application).join(SchemeVersion)
        .where(Application.organisation_id == org.id, SchemeVersion.scheme_id == scheme.id,
               Application.status.in_(OPEN_STATUSES)))


def start_application(org, scheme, level_id, actor):
    """Begin a draft application for a level of the scheme's current version."""
    version = scheme.current
    level = next((lv for lv in version.levels if lv.id == level_id), None)
    if level is None:
        raise DomainError("Choose a level", field="level")
    if org.org_type != "vcse":
        raise DomainError("Only voluntary, community and social enterprise organisations can "
                          "apply", field="level")
    require_org_admin(actor, APPLY_ACTION)
    if not scheme.is_open:
        raise DomainError("This scheme is not taking applications", field="level")
    if _open_for_scheme(org, scheme) is not None:
        raise DomainError("You already have an application for this scheme in progress",
                          field="level")
    application = Application(organisation=org, version=version, level=level)
    db.session.add(application)
    db.session.flush()
    audit.record("accreditation.application_started", application, actor_id=actor.id,
                 scheme=scheme.slug, version=version.number, level=level.rank)
    db.session.commit()
    return application


# --- answering --------------------------------------------------------------------------------

def standard_of(application, standard_id):
    standard = next((s for s in application.standards if s.id == standard_id), None)
    if standard is None:
        raise NotFound("Standard not found")
    return standard


def require_editable(application):
    if not application.is_editable:
        raise DomainError("This application has been submitted and cannot be changed now")


def _mark(standard, mark_id):
    if not mark_id:
        return None
    mark = db.session.get(RecognisedMark, mark_id)
    if mark is None or not mark.covers(standard):
        raise DomainError("Choose a recognised mark from the list", field="mark_id")
    return mark


def _add_evidence(application, standard, upload, actor):
    filename, data = upload
    kind, name = files.check_upload(filename, data)
    stored_name, sha256 = files.store(data)
    item = Evidence(application=application, standard_id=standard.id,
                    organisation_id=application.organisation_id, filename=name,
                    stored_name=stored_name, kind=kind, size=len(data), sha256=sha256,
                    uploaded_by_id=actor.id)
    db.session.add(item)
    return item


def save_answer(application, standard_id, data, upload, actor):
    """Save the answer to one standard and, when given, one evidence file.

    `data` holds status, narrative, mark_id and mark_reference; `upload` is (filename, bytes)
    or None. A bad file raises DomainError before anything is written, so earlier answers and
    evidence are kept and the form can be shown again with what was typed.
    """
    require_editable(application)
    standard = standard_of(application, standard_id)
    mark = _mark(standard, data.get("mark_id"))
    narrative = _clean(data.get("narrative"), MAX_NARRATIVE, "narrative", "Your answer")
    reference = _clean(data.get("mark_reference"), 120, "mark_reference", "The reference")
    if upload is not None:
        files.check_upload(*upload)
    answer = application.answer_for(standard) or Answer(application=application,
                                                        standard_id=standard.id)
    if data.get("status"):
        answer.set_status(data["status"])
    answer.narrative, answer.mark, answer.mark_reference = narrative, mark, reference
    db.session.add(answer)
    item = _add_evidence(application, standard, upload, actor) if upload is not None else None
    db.session.flush()
    audit.record("accreditation.answer_saved", application, actor_id=actor.id,
                 standard=standard.code, status=answer.status,
                 evidence=item.filename if item else None)
    db.session.commit()
    return answer


def remove_evidence(application, evidence_id, actor):
    """Take a file off an application that can still be changed."""
    require_editable(application)
    item = next((e for e in application.evidence if e.id == evidence_id), None)
    if item is None:
        raise NotFound("Evidence not found")
    stored_name = item.stored_name
    application.evidence.remove(item)
    audit.record("accreditation.evidence_removed", application, actor_id=actor.id,
                 filename=item.filename)
    db.session.commit()
    # Kept while a renewal, or the profile the certificate came from, still names the file.
    files.discard(stored_name)
    return item


@dataclass
class Task:
    standard: Standard
    answer: Answer | None
    evidence: list
    asked: bool

    @property
    def status(self):
        if self.asked:
            return "asked"
        if self.answer is None or not (self.answer.status or self.answer.narrative):
            return "not_started"
        return "completed" if self.answer.is_complete else "in_progress"


def task_list(application):
    """The standards grouped by competence area, each with its answer and files."""
    request = application.open_request
    asked = set(request.standard_codes) if request else set()
    grouped = {}
    for standard in application.standards:
        grouped.setdefault(standard.area, []).append(Task(
            standard, application.answer_for(standard), application.evidence_for(standard),
            standard.code in asked))
    return grouped


def missing_answers(application):
    return [s for s in application.standards
            if not (application.answer_for(s) and application.answer_for(s).is_complete)]


# --- submitting ---------------------------------------------------------------------------------

def _notify_board(application, subject):
    for user in _board_members(application.version.scheme):
        send_email(user.email, subject, "email/accreditation_board.txt", application=application)


def submit_application(application, actor, response=None):
    """Send an application (or, after a request for more, the updated one) to the body."""
    if application.status not in ("draft", "more_info"):
        raise DomainError("This application has already been submitted")
    missing = missing_answers(application)
    if missing:
        raise DomainError(f"Answer every standard before you submit: {missing[0].label} "
                          "still needs a status and a short explanation", field="confirm")
    request = application.open_request
    if request is not None:
        response = _clean(response, MAX_MESSAGE, "response", "Your reply")
        if not response:
            raise DomainError("Say what you have changed in reply to the assessors",
                              field="response")
        request.response, request.answered_at = response, utcnow()
    cleared = [a for a in application.assignments if a.may_see_file]
    application.move_to("in_assessment" if request is not None and cleared else "submitted")
    application.submitted_at = utcnow()
    application.times_submitted += 1
    for assignment in cleared:
        assignment.completed_at = None
    audit.record("accreditation.application_submitted", application, actor_id=actor.id,
                 times=application.times_submitted, resubmission=request is not None)
    _notify_board(application, "Accreditation application "
                  + ("resubmitted" if request is not None else "submitted"))
    _confirm_submission(application, actor, resubmitted=request is not None)
    db.session.commit()
    return application


def _confirm_submission(application, actor, resubmitted):
    """Tell the person who submitted, and their organisation's admins, what happens next."""
    admins = db.session.scalars(select(User.email).where(
        User.organisation_id == application.organisation_id, User.org_role == "admin",
        User.status == "active", User.email_verified_at.is_not(None)).order_by(User.id)).all()
    subject = ("We have received your updated accreditation application" if resubmitted
               else "We have received your accreditation application")
    for email in dict.fromkeys([actor.email, *admins]):
        send_email(email, subject, "email/accreditation_submitted.txt",
                   application=application, resubmitted=resubmitted)


# --- the body: assigning and assessing -----------------------------------------------------------

def _board_members(scheme):
    if scheme.body_id is None:
        return db.session.scalars(select(User).where(User.is_site_admin.is_(True))).all()
    return db.session.scalars(select(User).where(
        User.organisation_id == scheme.body_id, User.org_role == "admin",
        User.status == "active")).all()


def assessors_for(scheme):
    """People who may be assigned: active members of the body that runs the scheme."""
    if scheme.body_id is None:
        return []
    return db.session.scalars(select(User).where(
        User.organisation_id == scheme.body_id, User.status == "active").order_by(User.name)).all()


def assign_assessors(application, assessor_ids, actor):
    """Add assessors to a submitted application; the top level needs two without conflicts."""
    _require_verified_body(application.version.scheme, actor, ASSESS_ACTION)
    if application.status not in ("submitted", "in_assessment", "more_info"):
        raise DomainError("Assessors can only be assigned to a submitted application",
                          field="assessors")
    allowed = {u.id: u for u in assessors_for(application.version.scheme)}
    chosen = [allowed[i] for i in dict.fromkeys(assessor_ids) if i in allowed]
    if len(chosen) != len(set(assessor_ids)) or not chosen:
        raise DomainError("Choose assessors from the list", field="assessors")
    current = {a.assessor_id for a in application.assignments}
    new = [u for u in chosen if u.id not in current]
    if not new:
        raise DomainError("Those assessors are already assigned", field="assessors")
    active = [a for a in application.assignments if a.has_conflict is not True]
    if len(active) + len(new) < application.assessors_needed:
        raise DomainError(f"This level needs {application.assessors_needed} assessors; "
                          "choose another", field="assessors")
    for user in new:
        application.assignments.append(Assignment(assessor_id=user.id, assigned_by_id=actor.id))
        send_email(user.email, "You have been asked to assess an accreditation application",
                   "email/accreditation_assigned.txt", application=application, assessor=user)
    if application.status == "submitted":
        application.move_to("in_assessment")
    audit.record("accreditation.assessors_assigned", application, actor_id=actor.id,
                 assessors=[u.id for u in new])
    db.session.commit()
    return new


def declare_interests(assignment, has_conflict, details, actor):
    """An assessor says whether they have a conflict; one is final and blocks the file."""
    if assignment.assessor_id != actor.id:
        raise NotFound("Application not found")
    _require_verified_body(assignment.application.version.scheme, actor, ASSESS_ACTION)
    assignment.declare(has_conflict, details)
    audit.record("accreditation.conflict_declared", assignment.application, actor_id=actor.id,
                 conflict=assignment.has_conflict)
    db.session.commit()
    return assignment


def declare(application, has_conflict, details, actor):
    """Anyone at the body declares before seeing the file: an assigned assessor on their
    assignment, a board member who is not assessing on the application itself."""
    assignment = assignment_of(application, actor)
    if assignment is not None:
        return declare_interests(assignment, has_conflict, details, actor)
    if not is_board(actor, application.version.scheme):
        raise NotFound("Application not found")
    _require_verified_body(application.version.scheme, actor, ASSESS_ACTION)
    if _board_declaration(application, actor) is not None:
        raise DomainError("You have already declared your interests for this application")
    declaration = BoardDeclaration(application_id=application.id, user_id=actor.id,
                                   has_conflict=bool(has_conflict), details=details)
    db.session.add(declaration)
    audit.record("accreditation.board_declared", application, actor_id=actor.id,
                 conflict=declaration.has_conflict)
    db.session.commit()
    return None


def _require_assessing(assignment):
    if assignment is None or not assignment.may_see_file:
        raise NotFound("Application not found")
    if assignment.application.status != "in_assessment":
        raise DomainError("This application is not being assessed at the moment")


def save_review(assignment, standard_id, data, actor):
    """Record an assessor's verdict, feedback and private note on one standard."""
    _require_assessing(assignment)
    _require_verified_body(assignment.application.version.scheme, actor, ASSESS_ACTION)
    application = assignment.application
    standard = standard_of(application, standard_id)
    if data.get("verdict") not in VERDICTS:
        raise DomainError("Choose met, partly met or not met", field="verdict")
    feedback = _clean(data.get("feedback"), MAX_MESSAGE, "feedback", "Feedback")
    if data["verdict"] != "met" and not feedback:
        raise DomainError("Give feedback the applicant can act on", field="feedback")
    answer = application.answer_for(standard)
    verified = bool(data.get("mark_verified")) and answer is not None and answer.mark is not None
    review = assignment.review_for(standard) or Review(assignment=assignment,
                                                      standard_id=standard.id)
    review.verdict, review.feedback, review.mark_verified = data["verdict"], feedback, verified
    review.private_note = _clean(data.get("private_note"), MAX_MESSAGE, "private_note", "Note")
    assignment.completed_at = None
    db.session.add(review)
    db.session.flush()
    audit.record("accreditation.review_saved", application, actor_id=actor.id,
                 standard=standard.code, verdict=review.verdict, mark_verified=verified)
    db.session.commit()
    return review


def passported(application):
    """Codes of standards met by a recognised mark an assessor has verified."""
    return {r.standard.code for a in application.assignments for r in a.reviews
            if r.mark_verified}


def complete_review(assignment, actor):
    """An assessor finishes: every standard must have a verdict."""
    _require_assessing(assignment)
    _require_verified_body(assignment.application.version.scheme, actor, ASSESS_ACTION)
    missing = [s for s in assignment.application.standards if assignment.review_for(s) is None]
    if missing:
        raise DomainError(f"Give a verdict on every standard first: {missing[0].label} has none")
    assignment.completed_at = utcnow()
    audit.record("accreditation.review_completed", assignment.application, actor_id=actor.id)
    db.session.commit()
    return assignment


def request_more_info(application, message, standard_codes, actor):
    """Send the application back; the applicant sees exactly this message and these standards."""
    _require_verified_body(application.version.scheme, actor, ASSESS_ACTION)
    if application.status not in ("submitted", "in_assessment"):
        raise DomainError("Only a submitted application can be sent back", field="message")
    message = _clean(message, MAX_MESSAGE, "message", "Your request")
    if not message:
        raise DomainError("Say what the applicant needs to add or change", field="message")
    codes = {s.code for s in application.standards}
    chosen = [c for c in dict.fromkeys(standard_codes or []) if c in codes]
    if len(chosen) != len(set(standard_codes or [])):
        raise DomainError("Choose standards from the list", field="standards")
    application.info_requests.append(InfoRequest(requested_by_id=actor.id, message=message,
                                                 standard_codes=chosen))
    application.move_to("more_info")
    audit.record("accreditation.sent_back", application, actor_id=actor.id, standards=chosen)
    for email in _recipients(application.organisation):
        send_email(email, "More information needed for your accreditation application",
                   "email/accreditation_more_info.txt", application=application,
                   message=message, standards=[s for s in application.standards
                                               if s.code in chosen])
    db.session.commit()
    return application


# --- moderation and decisions -----------------------------------------------------------------

@dataclass
class Comparison:
    standard: Standard
    answer: Answer | None
    reviews: list  # (assignment, review or None)

    @property
    def differs(self):
        verdicts = {r.verdict for _a, r in self.reviews if r is not None}
        return len(verdicts) > 1


def compare_reviews(application):
    """Each standard with every cleared assessor's verdict side by side."""
    cleared = [a for a in application.assignments if a.may_see_file]
    return [Comparison(s, application.answer_for(s), [(a, a.review_for(s)) for a in cleared])
            for s in application.standards]


def ready_for_decision(application):
    done = [a for a in application.assignments if a.may_see_file and a.completed_at]
    return application.status == "in_assessment" and len(done) >= application.assessors_needed


def _decided_level(application, outcome, level_id):
    if outcome == "accredit":
        return application.level
    if outcome == "decline":
        return None
    level = next((lv for lv in application.version.levels if lv.id == level_id), None)
    if level is None or level.rank >= application.level.rank:
        raise DomainError("Choose a level below the one applied for", field="level")
    return level


def _require_independent(application, actor):
    # The decision checks the assessment, so whoever assessed alone cannot also make it.
    cleared = [a for a in application.assignments if a.may_see_file]
    if len(cleared) == 1 and cleared[0].assessor_id == actor.id:
        raise DomainError("You assessed this application on your own, so another board member "
                          "must make the decision", field="outcome")


def decide(application, outcome, level_id, reasons, moderation_notes, actor):
    """The board's decision, always with reasons. Accrediting creates the record.

    Where assessors disagree the board must say how it moderated the difference.
    """
    if not is_board(actor, application.version.scheme):
        raise NotFound("Application not found")
    _require_verified_body(application.version.scheme, actor, DECIDE_ACTION)
    if not may_read_file(application, actor):
        raise DomainError("Declare any conflict of interest before you decide", field="outcome")
    _require_independent(application, actor)
    if not ready_for_decision(application):
        raise DomainError("Every assessor needs to finish their review before a decision",
                          field="outcome")
    if outcome not in OUTCOMES:
        raise DomainError("Choose a decision", field="outcome")
    reasons = _clean(reasons, MAX_MESSAGE, "reasons", "Reasons")
    if not reasons:
        raise DomainError("Give the reasons for the decision", field="reasons")
    notes = _clean(moderation_notes, MAX_MESSAGE, "moderation_notes", "Moderation notes")
    if any(c.differs for c in compare_reviews(application)) and not notes:
        raise DomainError("The assessors disagree on some standards: say how the board "
                          "resolved the differences", field="moderation_notes")
    level = _decided_level(application, outcome, level_id)
    application.move_to("declined" if level is None else "accredited")
    application.outcome, application.decided_level = outcome, level
    application.decision_reasons, application.moderation_notes = reasons, notes
    application.decided_at, application.decided_by_id = utcnow(), actor.id
    record = _accredit(application, level) if level is not None else None
    db.session.flush()
    audit.record("accreditation.decided", application, actor_id=actor.id, outcome=outcome,
                 level=level.rank if level else None, record_id=record.id if record else None)
    for email in _recipients(application.organisation):
        send_email(email, "Decision on your accreditation application",
                   "email/accreditation_decision.txt", application=application, record=record)
    db.session.commit()
    return record


def _accredit(application, level, today=None):
    today = today or date.today()
    scheme = application.version.scheme
    for old in db.session.scalars(select(AccreditationRecord).where(
            AccreditationRecord.organisation_id == application.organisation_id,
            AccreditationRecord.scheme_id == scheme.id,
            AccreditationRecord.status.in_(("active", "suspended")))):
        old.set_status("renewed", f"Replaced by the decision on application {application.id}")
    record = AccreditationRecord(
        organisation_id=application.organisation_id, application=application, scheme=scheme,
        level=level, starts_on=today, expires_on=add_months(today, level.validity_months))
    db.session.add(record)
    return record


# --- accreditation records: suspend, revoke, reinstate, renew, expire ---------------------------

def get_record(record_id):
    record = db.session.get(AccreditationRecord, record_id)
    if record is None:
        raise NotFound("Accreditation not found")
    return record


def get_record_for_board(record_id, user):
    record = get_record(record_id)
    if not is_board(user, record.scheme):
        raise NotFound("Accreditation not found")
    return record


def get_own_record(record_id, user):
    record = get_record(record_id)
    if not _signed_in(user) or user.organisation_id != record.organisation_id:
        raise NotFound("Accreditation not found")
    return record


def change_record_status(record, status, reason, actor):
    """Suspend, reinstate or revoke an accreditation, with a reason the holder is told."""
    _require_verified_body(record.scheme, actor, DECIDE_ACTION)
    if status not in ("suspended", "revoked", "active"):
        raise DomainError("Choose suspend, reinstate or revoke", field="status")
    if status == "active" and record.expires_on < date.today():
        raise DomainError("This accreditation has passed its expiry date; it cannot be "
                          "reinstated", field="status")
    record.set_status(status, reason)
    audit.record(f"accreditation.record_{status}", record, actor_id=actor.id,
                 reason=record.status_reason)
    for email in _recipients(record.organisation):
        send_email(email, f"Your accreditation is now {record.status_label.lower()}",
                   "email/accreditation_status.txt", record=record)
    db.session.commit()
    return record


def _evidence_still_valid(item, today):
    return item.uploaded_at.date() >= add_months(today, -EVIDENCE_REUSE_MONTHS)


def renew(record, actor, today=None):
    """Start a renewal against the scheme's current version, copying answers to standards that
    still exist (by code) and evidence uploaded within the last three years."""
    today = today or date.today()
    require_org_admin(actor, APPLY_ACTION)
    if record.status not in ("active", "lapsed", "suspended"):
        raise DomainError("This accreditation cannot be renewed")
    scheme = record.scheme
    if _open_for_scheme(record.organisation, scheme) is not None:
        raise DomainError("You already have an application for this scheme in progress")
    version = scheme.current
    level = version.level_by_rank(record.level.rank) or version.levels[-1]
    application = Application(organisation=record.organisation, version=version, level=level,
                              renewal_of_id=record.id)
    copied = _copy_answers(record.application, application, today) if record.application else 0
    db.session.add(application)
    db.session.flush()
    audit.record("accreditation.renewal_started", application, actor_id=actor.id,
                 record_id=record.id, answers_copied=copied)
    db.session.commit()
    return application


def _copy_answers(old, new, today):
    by_code = {s.code: s for s in new.version.standards_for(new.level)}
    copied = 0
    for answer in old.answers:
        standard = by_code.get(answer.standard.code)
        if standard is None:
            continue
        new.answers.append(Answer(standard_id=standard.id, status=answer.status,
                                  narrative=answer.narrative, mark_id=answer.mark_id,
                                  mark_reference=answer.mark_reference))
        copied += 1
        for item in old.evidence_for(answer.standard):
            if _evidence_still_valid(item, today):
                new.evidence.append(Evidence(
                    standard_id=standard.id, organisation_id=item.organisation_id,
                    filename=item.filename, stored_name=item.stored_name, kind=item.kind,
                    size=item.size, sha256=item.sha256, uploaded_at=item.uploaded_at,
                    uploaded_by_id=item.uploaded_by_id))
    return copied


def run_expiry(today=None):
    """Lapse accreditations past their expiry date and send due reminders, each once.

    Safe to run more than once a day: sent reminders are remembered on the record and a lapsed
    record is not lapsed again. An accreditation is current to the end of its expiry date
    (`current_records`), and is lapsed here the day after, so run this shortly after midnight:
    the register stops showing it at once, but matching reads the tier from the search index,
    which changes when the record does.

    Each lapse is committed on its own, so the search index and the organisation's stored
    matches follow it straight away (a commit lapsing many organisations at once would leave
    their matches to the next `flask matching refresh`), and a failure part way through keeps
    what was done. Returns counts of what was done.
    """
    today = today or date.today()
    counts = Counter(lapsed=0, reminder_90=0, reminder_30=0)
    for record in _due_records(today):
        if _past_expiry(record, today):
            _lapse(record)
            db.session.commit()
            counts["lapsed"] += 1
        elif record.status == "active":
            _remind(record, today, counts)
    db.session.commit()
    return dict(counts)


def _due_records(today):
    return db.session.scalars(select(AccreditationRecord).where(
        AccreditationRecord.status.in_(("active", "suspended")),
        AccreditationRecord.expires_on <= today + timedelta(days=REMINDER_DAYS[0]))
        .order_by(AccreditationRecord.expires_on, AccreditationRecord.id)
        .options(selectinload(AccreditationRecord.organisation))).all()


def _past_expiry(record, today):
    """The day after the expiry date: the same line `current_records` draws."""
    return record.is_past_expiry(today)


def _lapse(record):
    record.set_status("lapsed", "Reached its expiry date")
    audit.record("accreditation.record_lapsed", record)
    _tell(record, "Your accreditation has expired", days=None)


def _remind(record, today, counts):
    days = (record.expires_on - today).days
    if days <= 30 and record.reminder_30_sent_at is None:
        record.reminder_30_sent_at = utcnow()
        record.reminder_90_sent_at = record.reminder_90_sent_at or record.reminder_30_sent_at
        counts["reminder_30"] += 1
    elif days <= 90 and record.reminder_90_sent_at is None:
        record.reminder_90_sent_at = utcnow()
        counts["reminder_90"] += 1
    else:
        return
    audit.record("accreditation.reminder_sent", record, days_left=days)
    _tell(record, f"Your accreditation expires in {days} days", days=days)


def _tell(record, subject, days):
    for email in _recipients(record.organisation):
        send_email(email, subject, "email/accreditation_expiry.txt", record=record, days=days)


def _recipients(org):
    emails = db.session.scalars(select(User.email).where(
        User.organisation_id == org.id, User.status == "active",
        User.email_verified_at.is_not(None)).order_by(User.id)).all()
    return emails or ([org.contact_email] if org.contact_email else [])


# --- queues ---------------------------------------------------------------------------------

# What the queue shows of each application (its organisation, level, scheme version and
# assessors, and whether the level is the top one), read for the whole page at once.
QUEUE_OPTIONS = (
    selectinload(Application.organisation), selectinload(Application.assignments),
    selectinload(Application.level),
    selectinload(Application.version).selectinload(SchemeVersion.levels),
)


def board_queue(user, status=None, page=1, per_page=20):
    """Applications for the schemes the user's body runs (all schemes for a site admin);
    a body member who is not on the board sees only applications assigned to them."""
    stmt = (select(Application).join(SchemeVersion).join(Scheme)
            .where(Application.status != "draft")
            .options(*QUEUE_OPTIONS))
    if not user.is_site_admin:
        stmt = stmt.where(Scheme.body_id == user.organisation_id)
    if not user.is_site_admin and user.org_role != "admin":
        # Assessors who are not on the board see only what they were given.
        stmt = stmt.where(Application.id.in_(
            select(Assignment.application_id).where(Assignment.assessor_id == user.id)))
    if status:
        stmt = stmt.where(Application.status == status)
    stmt = stmt.order_by(Application.submitted_at.desc().nulls_last(), Application.id.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def my_assignments(user):
    return db.session.scalars(
        select(Assignment).join(Application).where(
            Assignment.assessor_id == user.id,
            Application.status.in_(("in_assessment", "submitted", "more_info")))
        .order_by(Assignment.assigned_at)
        .options(selectinload(Assignment.application).options(*QUEUE_OPTIONS))).all()


def records_for(org):
    return db.session.scalars(select(AccreditationRecord).where(
        AccreditationRecord.organisation_id == org.id)
        .order_by(AccreditationRecord.starts_on.desc())).all()


def board_records(user, page=1, per_page=20):
    stmt = select(AccreditationRecord).join(Scheme).options(
        selectinload(AccreditationRecord.organisation))
    if not user.is_site_admin:
        stmt = stmt.where(Scheme.body_id == user.organisation_id)
    stmt = stmt.order_by(AccreditationRecord.expires_on, AccreditationRecord.id)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


# --- eligibility, used by matching ---------------------------------------------------------------

def current_records(org, today=None):
    """The organisation's accreditations that are active and not past expiry."""
    today = today or date.today()
    org_id = getattr(org, "id", org)
    # Ask the session the organisation came from: the search indexer reads organisations in
    # its own session after a commit, when the request's session cannot run queries.
    session = object_session(org) if not isinstance(org, int) else None
    return (session or db.session).scalars(select(AccreditationRecord).where(
        AccreditationRecord.organisation_id == org_id, AccreditationRecord.status == "active",
        AccreditationRecord.expires_on >= today)).all()


def _strength(record):
    return (record.level.tier, record.level.max_contract_value or 0, record.expires_on)


def current_standing(org, today=None):
    """The organisation's strongest current accreditation record (highest tier), or None."""
    records = current_records(org, today)
    return max(records, key=_strength) if records else None


def current_level(org, today=None):
    """The organisation's strongest current level (highest tier), or None when not accredited."""
    record = current_standing(org, today)
    return record.level if record else None


def current_standings(org_ids, today=None, session=None, chunk=500):
    """{organisation id: its strongest current record} for many organisations, a few queries in
    all (the search index reads this for every profile when it is rebuilt)."""
    today = today or date.today()
    session = session or db.session
    ids = list(org_ids)
    best = {}
    for start in range(0, len(ids), chunk):
        records = session.scalars(select(AccreditationRecord).options(
            selectinload(AccreditationRecord.level)).where(
            AccreditationRecord.organisation_id.in_(ids[start:start + chunk]),
            AccreditationRecord.status == "active", AccreditationRecord.expires_on >= today))
        for record in records:
            held = best.get(record.organisation_id)
            if held is None or _strength(record) > _strength(held):
                best[record.organisation_id] = record
    return best


def current_levels(org_ids, today=None, session=None, chunk=500):
    """{organisation id: its strongest current level} for many organisations."""
    return {org_id: record.level for org_id, record in
            current_standings(org_ids, today=today, session=session, chunk=chunk).items()}


def meets_tier(org, recommended_tier, today=None):
    """Whether the organisation's current level reaches an opportunity's recommended tier.

    Returns (meets?, explanation in plain words).
    """
    if not recommended_tier:
        return True, "No accreditation level is asked for"
    records = current_records(org, today)
    if not records:
        return False, f"Not accredited; tier {recommended_tier} is recommended"
    best = max(records, key=_strength)
    level, scheme = best.level, best.scheme.name
    until = f"{best.expires_on.day} {best.expires_on:%B %Y}"
    if level.tier >= recommended_tier:
        return True, (f"Accredited at {level.name} ({scheme}), tier {level.tier}, until {until}; "
                      f"tier {recommended_tier} is recommended")
    return False, (f"Accredited at {level.name} ({scheme}), tier {level.tier}; "
                   f"tier {recommended_tier} is recommended")


def accredited_counts(today=None):
    """Current accreditations by scheme and level: [(scheme name, level name, tier, count)]."""
    today = today or date.today()
    rows = db.session.execute(
        select(Scheme.name, Level.name, Level.tier, Level.rank,
               db.func.count(AccreditationRecord.id))
        .join(AccreditationRecord.scheme).join(AccreditationRecord.level)
        .where(AccreditationRecord.status == "active", AccreditationRecord.expires_on >= today)
        .group_by(Scheme.name, Level.name, Level.tier, Level.rank)
        .order_by(Scheme.name, Level.rank)).all()
    return [(s, lv, tier, count) for s, lv, tier, _rank, count in rows]
