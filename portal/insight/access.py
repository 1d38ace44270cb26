"""Who may see a buyer's insight. The dashboard, contracts, targets and self-assessment of a
commissioning organisation are its own (and a site administrator's); every other viewer is told
there is nothing here. Transparency pages show headline figures to everyone."""
from portal.core.exceptions import NotFound
from portal.extensions import db
from portal.organisations.models import Organisation
from portal.pipeline.services import is_commissioner


__all__ = ["buyer_for", "is_commissioner", "is_site_admin", "own_buyer", "public_buyer",
           "verified_buyer"]


def is_site_admin(user):
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and user.is_site_admin)


def own_buyer(user):
    """The commissioning organisation the user works for; anyone else is told there is nothing
    here."""
    if not is_commissioner(user):
        raise NotFound("Not found")
    return user.organisation


def buyer_for(user, organisation_id=None):
    """The buyer whose private insight `user` may see: its own, or any for a site admin."""
    if organisation_id is None or (not is_site_admin(user)
                                   and organisation_id == getattr(user, "organisation_id", None)):
        return own_buyer(user)
    if not is_site_admin(user):
        raise NotFound("Not found")
    return public_buyer(organisation_id)


def public_buyer(organisation_id):
    """A commissioning organisation as anyone may see it on its transparency page."""
    org = db.session.get(Organisation, organisation_id)
    if org is None or org.org_type != "commissioner" or not org.is_active:
        raise NotFound("Not found")
    return org


def verified_buyer(organisation_id):
    """A commissioning organisation whose own records (its contracts register) anyone may read:
    until a site administrator has verified it, it publishes nothing."""
    org = public_buyer(organisation_id)
    if org.needs_verification:
        raise NotFound("Not found")
    return org
