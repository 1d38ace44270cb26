"""Public read-only JSON API. Errors are JSON too (see portal/errors.py)."""
from flask import current_app, jsonify, request

from portal.api import bp, openapi
from portal.api.auth import api_auth_required
from portal.api.serializers import serialize_organisation, serialize_page
from portal.core.exceptions import DomainError
from portal.organisations import services as organisation_services

MAX_PAGE = 100_000


def _positive_int(name, default, maximum=None):
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise DomainError(f"{name} must be a whole number, 1 or more", field=name)
    value = int(raw)
    if maximum is not None and value > maximum:
        raise DomainError(f"{name} must be {maximum} or less", field=name)
    return value


@bp.get("/organisations")
def organisations():
    query = organisation_services.parse_directory_query(request.args)
    page = _positive_int("page", 1, MAX_PAGE)
    per_page = _positive_int("per_page", current_app.config["PER_PAGE"],
                             current_app.config["API_MAX_PER_PAGE"])
    return jsonify(serialize_page(organisation_services.search_directory(query, page, per_page)))


@bp.get("/organisations/<int:org_id>")
def organisation(org_id):
    org = organisation_services.get_public_organisation(org_id)
    return jsonify(serialize_organisation(org, detail=True))


@bp.get("/openapi.json", endpoint="openapi")
def openapi_document():
    return jsonify(openapi.build_document())


@bp.get("/me")
@api_auth_required
def me(principal):
    """Who the API thinks is calling: useful to check a token works."""
    org = organisation_services.get_public_organisation(principal.organisation_id) \
        if principal.organisation_id else None
    return jsonify({
        "via": "token" if principal.token is not None else "session",
        "organisation": serialize_organisation(org) if org else None,
    })
