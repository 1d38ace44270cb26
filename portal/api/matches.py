"""Matches and recommendations in the JSON API, and their OpenAPI description.

Both need a signed-in person or an organisation API token. An entry's matches follow the same
rules as the page (its buyer at any stage; suppliers and site admins once it is published); a
supplier's recommendations are for that supplier's own organisation or a site admin. Anything
else is a 404, as if it did not exist.
"""
from flask import jsonify, url_for

from portal.api.blueprint import bp
from portal.api.auth import api_auth_required
from portal.api.formats import uk_moment, utc_moment
from portal.api.openapi import (
    area_query, closed_object, id_schema, json_content, nullable, page_parameters, path_id, paths,
    query, ref, schemas, secured,
)
from portal.api.params import query_param
from portal.core.exceptions import NotFound
from portal.matching import services
from portal.matching.ranking import SUPPLIER_TYPES

MAX_LIMIT = 100


def _filters():
    return services.build_filters(
        accredited_only=query_param("accredited_only"), tier=query_param("tier"),
        area=query_param("area"), org_type=query_param("type"))


def _strength(pair):
    return {"strength": pair[0], "strength_label": pair[1]}


@bp.get("/opportunities/<int:opportunity_id>/matches")
@api_auth_required
def opportunity_matches(opportunity_id, principal):
    viewer = services.acting_organisation(principal.organisation_id)
    opportunity = services.get_matchable_opportunity(opportunity_id, viewer,
                                                     principal.is_site_admin)
    lot = services.get_lot(opportunity, query_param("lot"))
    rows = services.find_matches(opportunity, viewer, _filters(), lot=lot,
                                 limit=query_param("limit"))
    return jsonify({
        "opportunity": {"id": opportunity.id, "title": opportunity.title,
                        "status": opportunity.status,
                        "page": url_for("pipeline.show", opportunity_id=opportunity.id,
                                        _external=True)},
        "lot": {"id": lot.id, "number": lot.number, "title": lot.title} if lot else None,
        "items": [_match(row) for row in rows],
        # Suppliers with relevant experience that may not take part, by the rule they fail.
        "left_out": getattr(rows, "left_out", {}),
    })


def _match(row):
    org = row.organisation
    return {
        "rank": row.rank,
        "organisation": {"id": org.id, "name": org.name, "org_type": org.org_type,
                         "profile": url_for("organisations.show", org_id=org.id,
                                            _external=True)},
        "score": round(row.match.score, 4),
        **_strength(row.strength),
        "signals": row.match.signals,
        "reasons": row.match.reasons,
        "explanation": row.match.explanation,
        "invited": row.invitation is not None,
        "interest_registered": row.interest is not None,
        "can_receive_invitations": row.reachable,
    }


@bp.get("/suppliers/<int:organisation_id>/recommendations")
@api_auth_required
def supplier_recommendations(organisation_id, principal):
    if principal.organisation_id != organisation_id and not principal.is_site_admin:
        raise NotFound("Organisation not found")
    organisation = services.get_supplier(organisation_id)
    result = services.recommendations(organisation, query_param("page"),
                                      query_param("per_page"))
    return jsonify({
        "organisation": {"id": organisation.id, "name": organisation.name},
        "items": [_recommendation(item) for item in result.items],
        "page": result.page, "per_page": result.per_page, "total": result.total,
        "pages": result.pages,
    })


def _recommendation(item):
    opportunity = item.opportunity
    return {
        "opportunity": {
            "id": opportunity.id, "title": opportunity.title, "status": opportunity.status,
            "buyer": {"id": opportunity.organisation_id, "name": opportunity.organisation.name},
            "closing": uk_moment(opportunity.closing_at),
            "page": url_for("pipeline.show", opportunity_id=opportunity.id, _external=True),
        },
        "rank": item.row.rank,
        "score": round(item.row.score, 4),
        **_strength(item.strength),
        "reasons": item.reasons,
        "explanation": item.explanation,
        "computed_at": utc_moment(item.row.computed_at),
    }


# --- OpenAPI ------------------------------------------------------------------------------------

@paths
def _matching_paths():
    return {
        "/api/v1/opportunities/{id}/matches": {"get": secured({
            "tags": ["matching"],
            "operationId": "getOpportunityMatches",
            "summary": "Suppliers ranked for a forward-plan entry, each with the reasons why",
            "description": "For the entry's buyer at any stage; for VCSEs, prime contractors "
                           "and site admins once it is published.",
            "parameters": [
                path_id("id", "The forward-plan entry"),
                query("lot", "Rank for one lot of the entry (its id)", id_schema()),
                query("accredited_only", "Only suppliers with a current accreditation",
                      {"type": "boolean", "default": False}),
                query("tier", "Only suppliers accredited at this tier or above",
                      {"type": "integer", "minimum": 1, "maximum": 3}),
                area_query("GSS code; only suppliers serving somewhere inside it"),
                query("type", "Only this type of supplier",
                      {"type": "string", "enum": list(SUPPLIER_TYPES)}),
                query("limit", "How many suppliers, best first",
                      {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 20}),
            ],
            "responses": {"200": {"description": "Ranked suppliers",
                                  "content": json_content(ref("MatchList"))},
                      "503": {"$ref": "#/components/responses/SearchRebuilding"}},
        })},
        "/api/v1/suppliers/{id}/recommendations": {"get": secured({
            "tags": ["matching"],
            "operationId": "getSupplierRecommendations",
            "summary": "Forward-plan entries recommended for a supplier, best first",
            "description": "Only for the supplier's own organisation (or a site admin). "
                           "Dismissed entries and entries the supplier has already registered "
                           "interest in are left out.",
            "parameters": [
                path_id("id", "The supplier organisation"),
                *page_parameters(MAX_LIMIT),
            ],
            "responses": {"200": {"description": "One page of recommendations",
                                  "content": json_content(ref("RecommendationList"))}},
        })},
    }


@schemas
def _matching_schemas():
    string, integer, number = {"type": "string"}, {"type": "integer"}, {"type": "number"}
    uri = {"type": "string", "format": "uri"}
    strength = {"type": "string", "enum": ["strong", "good", "possible"]}
    reasons = {"type": "array", "items": string,
               "description": "Why, in plain words, most telling first"}
    return {
        "Match": closed_object({
            "rank": integer,
            "organisation": closed_object({"id": integer, "name": string,
                                     "org_type": {"type": "string",
                                                  "enum": list(SUPPLIER_TYPES)},
                                     "profile": uri}),
            "score": number, "strength": strength, "strength_label": string,
            "signals": {"type": "object", "additionalProperties": number,
                        "description": "Each signal's strength from 0 to 1"},
            "reasons": reasons, "explanation": string,
            "invited": {"type": "boolean",
                        "description": "Whether the caller's organisation has invited it"},
            "interest_registered": {"type": "boolean"},
            "can_receive_invitations": {
                "type": "boolean",
                "description": "Whether anyone there has a confirmed account to be emailed"}}),
        "MatchList": closed_object({
            "opportunity": closed_object({"id": integer, "title": string, "status": string,
                                    "page": uri}),
            "lot": {"anyOf": [closed_object({"id": integer, "number": integer, "title": string}),
                              {"type": "null"}]},
            "items": {"type": "array", "items": ref("Match")},
            "left_out": {"type": "object", "additionalProperties": integer,
                         "description": "Suppliers with relevant experience that may not take "
                                        "part (a required tier, a reservation), counted by the "
                                        "rule they fail"}}),
        "Recommendation": closed_object({
            "opportunity": closed_object({"id": integer, "title": string, "status": string,
                                    "buyer": closed_object({"id": integer, "name": string}),
                                    "closing": nullable({"type": "string",
                                                         "format": "date-time"}),
                                    "page": uri}),
            "rank": integer, "score": number, "strength": strength, "strength_label": string,
            "reasons": reasons, "explanation": string,
            "computed_at": {"type": "string", "format": "date-time"}}),
        "RecommendationList": closed_object({
            "organisation": closed_object({"id": integer, "name": string}),
            "items": {"type": "array", "items": ref("Recommendation")},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 0}}),
    }
