"""Demo accreditation data: both schemes, a second assessor, a few hundred accredited VCSEs and
applications at every stage. Everything is chosen by hashes of source references, so two loads of
the same seed give the same spread (dates are counted back from the day of loading)."""
import hashlib
from datetime import date, timedelta

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.accreditation import evidence as files
from portal.accreditation.models import (
    AccreditationRecord, Answer, Application, Assignment, Evidence, InfoRequest, Review, Scheme,
)
from portal.accreditation.schemes import load_schemes
from portal.accreditation.services import add_months, suggest_level
from portal.core.audit import record as audit_record
from portal.core.mixins import utcnow
from portal.extensions import db
from portal.organisations.models import Organisation

BODY_REF = "DEMO-ACCREDITATION-1"
SECOND_ASSESSOR = "assessor2@demo.pathfinder.test"
DEMO_PASSWORD = "pathfinder-demo-2026"
ACCREDITED = 320
IN_PROGRESS = 36
KITE_MARK_SHARE = 30  # per cent of accredited organisations on the kite-mark
EXPIRING_SOON_SHARE = 8
OVERDUE_SHARE = 2
PROGRESS_STAGES = ("draft", "draft", "submitted", "in_assessment", "in_assessment", "draft")
DEMO_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]"
            b"/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _hash(*parts):
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:12], 16)


def load_demo(progress=None):
    """Load schemes and the demo spread. Safe to call again: the spread is made only once."""
    report = progress or (lambda message: None)
    load_schemes(report)
    body = db.session.scalar(select(Organisation).where(Organisation.source_ref == BODY_REF))
    if body is None:
        return {"accredited demo providers": 0}
    _run_schemes_from(body)
    _second_assessor(body)
    db.session.commit()
    if db.session.scalar(select(func.count(Application.id))):
        return {"accredited demo providers": 0}
    counts = _spread(body, report)
    audit_record("accreditation.demo_loaded", **counts)
    db.session.commit()
    return {"accredited demo providers": counts["accredited"],
            "accreditation applications in progress": counts["in_progress"]}


def _run_schemes_from(body):
    for scheme in db.session.scalars(select(Scheme).where(Scheme.body_id.is_(None))):
        scheme.body_id = body.id


def _second_assessor(body):
    if db.session.scalar(select(User.id).where(User.email == SECOND_ASSESSOR)) is None:
        user = User(email=SECOND_ASSESSOR, name="Demo user (second assessor)", organisation=body,
                    org_role="member", email_verified_at=utcnow())
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)


def _candidates():
    """Active VCSEs in a fixed order, leaving out the demo account's own organisation."""
    own = db.session.scalar(select(User.organisation_id).where(
        User.email == "vcse.admin@demo.pathfinder.test"))
    orgs = db.session.scalars(select(Organisation).where(
        Organisation.org_type == "vcse", Organisation.status == "active",
        Organisation.id != (own or 0))).all()
    return sorted(orgs, key=lambda o: _hash("order", o.source_ref or str(o.id)))


def _spread(body, report):
    schemes = {s.slug: s for s in db.session.scalars(select(Scheme))}
    assessors = db.session.scalars(select(User).where(User.organisation_id == body.id)
                                   .order_by(User.id)).all()
    orgs = _candidates()
    today = date.today()
    accredited = orgs[:ACCREDITED]
    for i, org in enumerate(accredited, 1):
        _accredited(org, schemes, today)
        if i % 100 == 0:
            db.session.flush()
            report(f"accredited demo providers: {i}/{len(accredited)}")
    in_progress = orgs[ACCREDITED:ACCREDITED + IN_PROGRESS]
    for i, org in enumerate(in_progress):
        stage = "more_info" if i == 0 else PROGRESS_STAGES[i % len(PROGRESS_STAGES)]
        _in_progress(org, schemes, stage, assessors, today)
    return {"accredited": len(accredited), "in_progress": len(in_progress)}


def _level_for(org, scheme):
    """The level an organisation's income suggests; without an income, a fixed mix that leans
    towards the first level, as most small groups would."""
    version = scheme.current
    if org.income_band or len(version.levels) == 1:
        return suggest_level(org, version)
    roll = _hash("level", org.source_ref or str(org.id)) % 100
    rank = 1 if roll < 55 else (2 if roll < 88 else 3)
    return version.level_by_rank(min(rank, len(version.levels)))


def _scheme_for(org, schemes):
    ref = org.source_ref or str(org.id)
    kite = _hash("scheme", ref) % 100 < KITE_MARK_SHARE
    return schemes["kite-mark" if kite else "sliding-scale"]


def _answer_status(ref, standard, decided):
    # Some standards are harder than others, so the needs report has something to show.
    difficulty = 10 + _hash("difficulty", standard.code) % 40
    roll = _hash("answer", ref, standard.code) % 100
    if decided:
        return "partly" if roll < difficulty // 4 else "met"
    return "not_yet" if roll < difficulty // 2 else ("partly" if roll < difficulty else "met")


NARRATIVES = {
    "met": "We meet this. {evidence} The board last reviewed this area in the past year.",
    "partly": "We partly meet this. Some of it is in place ({evidence_lower}) but it is not yet "
              "complete; we expect to finish within six months.",
    "not_yet": "We do not meet this yet and would welcome support to put it in place.",
}


def _narrative(status, standard):
    guidance = standard.evidence_guidance or "Records are kept."
    return NARRATIVES[status].format(evidence=guidance,
                                     evidence_lower=guidance.rstrip(".").lower())


def _application(org, scheme, level, status, decided):
    ref = org.source_ref or str(org.id)
    application = Application(organisation=org, version=scheme.current, level=level,
                              status=status)
    for standard in scheme.current.standards_for(level):
        answer_status = _answer_status(ref, standard, decided)
        application.answers.append(Answer(standard_id=standard.id, status=answer_status,
                                          narrative=_narrative(answer_status, standard)))
    db.session.add(application)
    return application


def _accredited(org, schemes, today):
    scheme = _scheme_for(org, schemes)
    level = _level_for(org, scheme)
    ref = org.source_ref or str(org.id)
    months = level.validity_months
    roll = _hash("expiry", ref) % 100
    if roll < OVERDUE_SHARE:
        expires = today - timedelta(days=1 + roll)
    elif roll < OVERDUE_SHARE + EXPIRING_SOON_SHARE:
        expires = today + timedelta(days=3 + _hash("soon", ref) % 85)
    else:
        expires = today + timedelta(days=90 + _hash("later", ref) % (months * 30 - 120))
    starts = add_months(expires, -months)
    application = _application(org, scheme, level, "accredited", decided=True)
    application.outcome, application.decided_level = "accredit", level
    application.decision_reasons = "The assessors found the standards for this level met."
    application.submitted_at = application.decided_at = _at(starts)
    application.times_submitted = 1
    db.session.add(AccreditationRecord(organisation=org, application=application, scheme=scheme,
                                       level=level, starts_on=starts, expires_on=expires))


def _at(day):
    return utcnow().replace(year=day.year, month=day.month, day=day.day)


def _in_progress(org, schemes, stage, assessors, today):
    scheme = _scheme_for(org, schemes)
    level = _level_for(org, scheme)
    application = _application(org, scheme, level, stage, decided=False)
    if stage == "draft":
        # A draft is part-way through: drop the later answers.
        keep = 1 + _hash("draft", org.source_ref or str(org.id)) % len(application.answers)
        application.answers = application.answers[:keep]
        return
    application.submitted_at, application.times_submitted = utcnow(), 1
    _add_demo_file(application)
    if stage == "submitted":
        return
    for assessor in assessors[:application.assessors_needed]:
        assignment = Assignment(assessor_id=assessor.id, has_conflict=False,
                                declared_at=utcnow())
        application.assignments.append(assignment)
    first = application.assignments[0]
    for standard in application.standards[:3]:
        first.reviews.append(Review(standard_id=standard.id, verdict="met",
                                    feedback="Clear and well evidenced."))
    if stage == "more_info":
        standard = application.standards[1]
        application.info_requests.append(InfoRequest(
            requested_by_id=first.assessor_id, standard_codes=[standard.code],
            message=f"For {standard.label}, please upload the document itself rather than a "
                    "description of it, and tell us when the board last reviewed it."))


def _add_demo_file(application):
    standard = application.standards[0]
    stored_name, sha256 = files.store(DEMO_PDF)
    application.evidence.append(Evidence(
        standard_id=standard.id, organisation_id=application.organisation.id,
        filename="governing-document.pdf", stored_name=stored_name, kind="pdf",
        size=len(DEMO_PDF), sha256=sha256))
