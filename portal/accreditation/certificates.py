"""A certificate already on the profile, given as evidence without uploading it again.

A scheme marks the standards this applies to with `reuses_credential` (insurance, say). The
evidence names the certificate's stored file, so nothing is copied; the file is deleted only
when neither the profile nor any application names it (`portal.core.files.discard`), and
replacing the certificate on the profile later leaves evidence already given as it was.
"""
from dataclasses import dataclass
from datetime import date, timedelta

from portal.accreditation.models import Evidence
from portal.accreditation.services import require_editable, standard_of
from portal.core import audit
from portal.core.exceptions import DomainError, NotFound
from portal.extensions import db
from portal.organisations.models import CREDENTIAL_KINDS

# Assessment and the board's decision follow submission; a certificate that runs out sooner
# would be out of date when the application is decided, so it is not offered.
DECISION_ALLOWANCE_DAYS = 90


REASONS = {
    "expired": "{title} expired on {expires}.",
    "expires_soon": "{title} expires on {expires}, before this application is likely to be "
                    "decided: a certificate given now must last until at least {until}.",
    "no_file": "The certificate for {title} has not been uploaded to your profile.",
    "given": "{title} is already given as evidence for this standard.",
}


def _long(day):
    return f"{day.day} {day:%B %Y}" if day else ""


@dataclass
class Offer:
    """One credential of the kind the standard reuses, and why it cannot be given, if not."""

    credential: object
    problem: str | None  # None, or a key of REASONS
    decided_by: date

    @property
    def usable(self):
        return self.problem is None

    @property
    def reason(self):
        if self.problem is None:
            return ""
        return REASONS[self.problem].format(title=self.credential.title,
                                            expires=_long(self.credential.expires_on),
                                            until=_long(self.decided_by))


@dataclass
class ProfileCertificates:
    kind: str
    offers: list

    @property
    def kind_label(self):
        return CREDENTIAL_KINDS.get(self.kind, self.kind)


def decided_by(today=None):
    """How long a certificate must last: an application still being written is not decided
    before this date."""
    return (today or date.today()) + timedelta(days=DECISION_ALLOWANCE_DAYS)


def _problem(credential, given, today):
    expires = credential.expires_on
    if expires is not None and expires < today:
        return "expired"
    if expires is not None and expires < decided_by(today):
        return "expires_soon"
    if not credential.has_file:
        return "no_file"
    return "given" if credential.stored_name in given else None


def profile_certificates(application, standard, today=None):
    """For a standard that reuses a kind of credential, the applicant's credentials of that
    kind, each with whether it can be given as evidence; None for any other standard."""
    if not standard.reuses_credential:
        return None
    today = today or date.today()
    given = {item.stored_name for item in application.evidence_for(standard)}
    credentials = [c for c in application.organisation.credentials
                   if c.kind == standard.reuses_credential]
    return ProfileCertificates(standard.reuses_credential, [
        Offer(c, _problem(c, given, today), decided_by(today)) for c in credentials])


def use_credential(application, standard_id, credential_id, actor, today=None):
    """Give the certificate of a credential on the applicant's profile as evidence for a
    standard that reuses that kind of credential. Refused when it has expired, runs out before
    the application could be decided, has no file, or is already given."""
    require_editable(application)
    standard = standard_of(application, standard_id)
    certificates = profile_certificates(application, standard, today)
    offer = next((o for o in certificates.offers if o.credential.id == credential_id),
                 None) if certificates else None
    if offer is None:
        raise NotFound("Certificate not found")
    if not offer.usable:
        raise DomainError(offer.reason)
    credential = offer.credential
    item = Evidence(application=application, standard_id=standard.id,
                    organisation_id=application.organisation_id, filename=credential.filename,
                    stored_name=credential.stored_name, kind=credential.file_kind,
                    size=credential.file_size, sha256=credential.file_sha256,
                    uploaded_by_id=actor.id)
    db.session.add(item)
    db.session.flush()
    audit.record("accreditation.credential_used", application, actor_id=actor.id,
                 standard=standard.code, credential_id=credential.id, filename=item.filename)
    db.session.commit()
    return item
