"""Teaming and consortia in the JSON API, and their OpenAPI description.

The teaming board's open posts are read by anyone signed in or holding a token, as on the
pages; a consortium is read only by its members (anyone else gets a 404, as if it did not
exist)."""
from flask import jsonify, url_for

from portal.api.auth import api_auth_required
from portal.api.blueprint import bp
from portal.api.openapi import (
    area_query, closed_object, json_content, list_envelope, nullable, page_parameters, path_id,
    paths, query, ref, schemas, secured, text_query,
)
from portal.api.params import query_param
from portal.api.formats import day, utc_moment
from portal.consortia import services, subcontracts
from portal.consortia.models import MEMBER_ROLES, POST_KINDS


@bp.get("/teaming-posts")
@api_auth_required
def teaming_posts(principal):
    result = services.open_board(q=query_param("q"), kind=query_param("kind"),
                                 area=query_param("area"), page=query_param("page"),
                                 per_page=query_param("per_page"))
    return jsonify({"items": [_post(post) for post in result.items], "page": result.page,
                    "per_page": result.per_page, "total": result.total,
                    "pages": result.pages})


def _entry(opportunity):
    return {"id": opportunity.id, "title": opportunity.title, "status": opportunity.status,
            "buyer": {"id": opportunity.organisation_id, "name": opportunity.organisation.name},
            "page": url_for("pipeline.show", opportunity_id=opportunity.id, _external=True)}


def _organisation(org):
    return {"id": org.id, "name": org.name, "org_type": org.org_type,
            "profile": url_for("organisations.show", org_id=org.id, _external=True)}


def _post(post):
    return {"id": post.id, "kind": post.kind, "kind_label": post.kind_label,
            "opportunity": _entry(post.opportunity), "lot_id": post.lot_id,
            "organisation": _organisation(post.organisation), "summary": post.summary,
            "roles": [_role(role) for role in post.open_roles()],
            "posted_at": utc_moment(post.created_at)}


def _role(role):
    return {"id": role.id, "title": role.title, "delivers": role.delivers,
            "cpv_codes": list(role.cpv_codes), "area_codes": list(role.area_codes),
            "recommended_tier": role.recommended_tier, "work_share": role.work_share,
            "value_share": role.value_share}


@bp.get("/subcontract-packages")
@api_auth_required
def subcontract_packages(principal):
    result = subcontracts.open_packages(q=query_param("q"), page=query_param("page"),
                                        per_page=query_param("per_page"))
    return jsonify({"items": [_package(package) for package in result.items],
                    "page": result.page, "per_page": result.per_page, "total": result.total,
                    "pages": result.pages})


def _package(package):
    return {"id": package.id, "title": package.title, "description": package.description,
            "opportunity": _entry(package.opportunity),
            "organisation": _organisation(package.organisation),
            "cpv_codes": list(package.cpv_codes), "area_codes": list(package.area_codes),
            "value": package.value, "starts_on": day(package.starts_on),
            "ends_on": day(package.ends_on), "closes_on": day(package.closes_on),
            "recommended_tier": package.recommended_tier,
            "how_to_respond": package.how_to_respond, "status": package.status,
            "page": url_for("consortia.package", package_id=package.id, _external=True)}


@bp.get("/consortia")
@api_auth_required
def consortia(principal):
    teams = services.organisation_consortia(principal.organisation_id)
    return jsonify({"items": [_consortium(team) for team in teams]})


@bp.get("/consortia/<int:consortium_id>")
@api_auth_required
def consortium(consortium_id, principal):
    team = services.member_consortium(consortium_id, principal.organisation_id)
    return jsonify(_consortium(team))


def _share(value):
    return None if value is None else float(value)


def _consortium(team):
    return {
        "id": team.id, "name": team.name, "opportunity": _entry(team.opportunity),
        "lot_id": team.lot_id, "lead": _organisation(team.lead),
        "members": [{"organisation": _organisation(m.organisation), "role": m.role,
                     "delivers": m.delivers, "work_share": _share(m.work_share),
                     "value_share": _share(m.value_share),
                     "charter_confirmed": m.has_confirmed} for m in team.members],
        "shares": team.shares_state(),
        "charter": {"state": team.charter_state, "version": team.charter_version,
                    "payment_days": team.payment_days,
                    "management_fee": _share(team.management_fee)},
        "interest_expressed": team.interest_id is not None,
        "page": url_for("consortia.workspace", consortium_id=team.id, _external=True),
    }


# --- OpenAPI ------------------------------------------------------------------------------------

@paths
def _teaming_paths():
    return {
        "/api/v1/teaming-posts": {"get": secured({
            "tags": ["consortia"], "operationId": "listTeamingPosts",
            "summary": "Open posts on the teaming board: leads looking for partners, with their "
                       "open roles, and organisations available as partners",
            "parameters": [
                text_query("Words in the entry's title, the post or its roles"),
                query("kind", "Only this kind of post",
                      {"type": "string", "enum": list(POST_KINDS)}),
                area_query("GSS code; only entries delivered in this area"),
                *page_parameters(),
            ],
            "responses": {"200": {"description": "One page of posts",
                                  "content": json_content(ref("TeamingPostList"))}},
        })},
        "/api/v1/subcontract-packages": {"get": secured({
            "tags": ["consortia"], "operationId": "listSubcontractPackages",
            "summary": "Open sub-contract packages, closing soonest first",
            "parameters": [text_query("Words in the package or its entry's title"),
                           *page_parameters()],
            "responses": {"200": {"description": "One page of packages",
                                  "content": json_content(ref("SubcontractPackageList"))}},
        })},
        "/api/v1/consortia": {"get": secured({
            "tags": ["consortia"], "operationId": "listOwnConsortia",
            "summary": "The consortia the caller's organisation is a member of",
            "responses": {"200": {"description": "The caller's consortia",
                                  "content": json_content(ref("ConsortiumList"))}},
        })},
        "/api/v1/consortia/{id}": {"get": secured({
            "tags": ["consortia"], "operationId": "getConsortium",
            "summary": "One consortium the caller's organisation is a member of",
            "parameters": [path_id("id", "The consortium")],
            "responses": {"200": {"description": "The consortium",
                                  "content": json_content(ref("Consortium"))}},
        })},
    }


@schemas
def _teaming_schemas():
    string, integer, uri = {"type": "string"}, {"type": "integer"}, {"type": "string",
                                                                     "format": "uri"}
    percent = nullable({"type": "number", "minimum": 0, "maximum": 100})
    date = {"type": "string", "format": "date"}
    organisation = closed_object({"id": integer, "name": string, "org_type": string, "profile": uri})
    entry = closed_object({"id": integer, "title": string, "status": string,
                     "buyer": closed_object({"id": integer, "name": string}), "page": uri})
    role = closed_object({"id": integer, "title": string, "delivers": nullable(string),
                    "cpv_codes": {"type": "array", "items": string},
                    "area_codes": {"type": "array", "items": string},
                    "recommended_tier": nullable({"type": "integer", "minimum": 1,
                                                  "maximum": 3}),
                    "work_share": percent, "value_share": percent})
    return {
        "TeamingPost": closed_object({
            "id": integer, "kind": {"type": "string", "enum": list(POST_KINDS)},
            "kind_label": string, "opportunity": entry, "lot_id": nullable(integer),
            "organisation": organisation, "summary": string,
            "roles": {"type": "array", "items": role},
            "posted_at": {"type": "string", "format": "date-time"}}),
        "TeamingPostList": list_envelope(ref("TeamingPost")),
        "Consortium": closed_object({
            "id": integer, "name": string, "opportunity": entry, "lot_id": nullable(integer),
            "lead": organisation,
            "members": {"type": "array", "items": closed_object({
                "organisation": organisation,
                "role": {"type": "string", "enum": list(MEMBER_ROLES)},
                "delivers": nullable(string), "work_share": percent, "value_share": percent,
                "charter_confirmed": {"type": "boolean"}})},
            "shares": {"type": "string", "enum": ["unset", "agreed", "incomplete"]},
            "charter": closed_object({
                "state": {"type": "string", "enum": ["none", "waiting", "agreed"]},
                "version": integer, "payment_days": nullable(integer),
                "management_fee": percent}),
            "interest_expressed": {"type": "boolean"}, "page": uri}),
        "SubcontractPackage": closed_object({
            "id": integer, "title": string, "description": string, "opportunity": entry,
            "organisation": organisation,
            "cpv_codes": {"type": "array", "items": string},
            "area_codes": {"type": "array", "items": string},
            "value": nullable({"type": "integer", "minimum": 0}),
            "starts_on": nullable(date), "ends_on": nullable(date), "closes_on": date,
            "recommended_tier": nullable({"type": "integer", "minimum": 1, "maximum": 3}),
            "how_to_respond": nullable(string),
            "status": {"type": "string", "enum": ["open", "awarded", "withdrawn"]},
            "page": uri}),
        "SubcontractPackageList": list_envelope(ref("SubcontractPackage")),
        "ConsortiumList": closed_object({"items": {"type": "array", "items": ref("Consortium")}}),
    }
