"""Who may act as a buyer or an assessor.

Anyone can register as a commissioner or an accreditation body. Until a site administrator has
checked who the organisation is (`Organisation.verify`), it may prepare drafts but not publish
to suppliers, invite them, or assess and decide their applications. VCSEs and prime contractors
need no check.
"""
from portal.core.exceptions import PermissionDenied


class AwaitingVerification(PermissionDenied):
    """The organisation is a buyer or accreditation body that nobody has verified yet."""

    def __init__(self, organisation, action):
        super().__init__(f"{organisation.name} has not been verified yet, so you cannot {action} "
                         "until a site administrator verifies it.")
        self.organisation = organisation
        self.action = action


def require_verified(organisation, action):
    """Refuse `action` (in plain words: "publish entries in the forward plan") while the
    organisation is waiting for a site administrator's check."""
    if organisation is not None and organisation.needs_verification:
        raise AwaitingVerification(organisation, action)


def needs_verification(user):
    """Whether the signed-in person's organisation is still waiting to be verified."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    organisation = user.organisation
    return bool(organisation is not None and organisation.needs_verification)
