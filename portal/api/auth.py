"""Who is calling the API: a signed-in person (session) or an organisation's bearer token."""
from dataclasses import dataclass
from functools import wraps

from flask import g, request
from flask_login import current_user

from portal.api.models import ApiToken
from portal.api.services import token_in_use
from portal.core.exceptions import DomainError
from portal.extensions import csrf


class Unauthorised(DomainError):
    status_code = 401


@dataclass
class Principal:
    organisation_id: int | None
    user: object = None
    token: ApiToken | None = None

    @property
    def is_site_admin(self):
        return bool(self.user is not None and self.user.is_site_admin)


def _bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def current_principal():
    """The caller, or None. A presented token that is unknown or revoked is an error."""
    if "api_principal" in g:
        return g.api_principal
    principal = None
    token = _bearer_token()
    if token:
        row = token_in_use(token)
        if row is None:
            raise Unauthorised("The API token is not valid")
        principal = Principal(organisation_id=row.organisation_id, token=row)
    elif current_user.is_authenticated:
        principal = Principal(organisation_id=current_user.organisation_id,
                              user=current_user._get_current_object())
    g.api_principal = principal
    return principal


def require_principal():
    """The caller; without a sign-in or a token, Unauthorised."""
    principal = current_principal()
    if principal is None:
        raise Unauthorised("Sign in, or send an organisation API token as "
                           "'Authorization: Bearer …'")
    return principal


def api_auth_required(view):
    """Require a signed-in person or a valid token; the view gets the principal as `principal`."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        return view(*args, principal=require_principal(), **kwargs)
    return csrf.exempt(wrapper)
