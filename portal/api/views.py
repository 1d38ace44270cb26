"""Public read-only JSON API. Errors are JSON too (see portal/errors.py).

Every request is first checked against the OpenAPI document (portal/api/params.py), so a view
reads its parameters already typed and within range.
"""
from flask import jsonify, request

from portal.api import openapi, params
from portal.api.blueprint import bp
from portal.api.auth import api_auth_required
from portal.api.params import query_param
from portal.api.serializers import serialize_organisation, serialize_page
from portal.organisations import directory, services as organisation_services

bp.before_request(params.check_request)


@bp.get("/organisations")
def organisations():
    # The tier as the OpenAPI check read it ("02" is 2), so the directory sees a listed value.
    tier = query_param("tier")
    query = directory.parse_directory_query(
        {**request.args.to_dict(), "tier": str(tier) if tier else None})
    results = directory.search_directory(query, query_param("page"), query_param("per_page"))
    return jsonify(serialize_page(results))


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
