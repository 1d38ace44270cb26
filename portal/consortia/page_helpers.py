"""What the teaming, workspace and supply-chain pages share: who is acting, and a service call
whose refusal becomes a form error while a missing object stays a 404."""
from flask_login import current_user

from portal.consortia import services
from portal.core.exceptions import DomainError, NotFound


def supplier_or_404():
    """The signed-in supplier's organisation; anyone else is told the page is missing."""
    organisation = services.supplier_of(current_user)
    if organisation is None:
        raise NotFound("Page not found")
    return organisation


def attempt(action, *args, **kwargs):
    """(result, None) or (None, the DomainError); a missing object stays a 404."""
    try:
        return action(*args, **kwargs), None
    except NotFound:
        raise
    except DomainError as error:
        return None, error
