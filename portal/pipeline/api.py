"""The forward plan in the public JSON API, its OCDS exports and their OpenAPI description."""
from flask import current_app, jsonify, request, url_for

from portal.api import bp as api_bp
from portal.api.openapi import json_content, nullable, paths, ref, schemas
from portal.core.exceptions import DomainError
from portal.extensions import db
from portal.organisations.services import area_labels
from portal.pipeline import ocds, queries, services
from portal.pipeline.models import ROUTES, STATUSES
from portal.pipeline.queries import CLOSING_WITHIN, SORTS, VALUE_BANDS

MAX_PAGE = 100_000
MAX_OCDS_RELEASES = 5_000


def _positive_int(name, default, maximum):
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise DomainError(f"{name} must be a whole number, 1 or more", field=name)
    if int(raw) > maximum:
        raise DomainError(f"{name} must be {maximum} or less", field=name)
    return int(raw)


def _iso(value):
    return value.isoformat() if value else None


def serialize_opportunity(opportunity, detail=False):
    """An entry as public JSON; the detail adds lots, Q&A, award and documents."""
    data = {
        "id": opportunity.id,
        "ocid": ocds.ocid_for(opportunity),
        "reference": opportunity.reference,
        "title": opportunity.title,
        "status": opportunity.status,
        "status_label": opportunity.status_label,
        "buyer": {"id": opportunity.organisation_id, "name": opportunity.organisation.name},
        "description": opportunity.description,
        "main_cpv": _cpv(opportunity.main_cpv) if opportunity.main_cpv else None,
        "areas_summary": area_labels(opportunity.areas),
        "value": {"min": opportunity.value_min, "max": opportunity.value_max,
                  "basis": opportunity.value_basis,
                  "whole_life_estimate": opportunity.whole_life_value},
        "procurement_route": opportunity.procurement_route,
        "dates": {
            "market_engagement": _iso(opportunity.market_engagement_on),
            "tender_publication": _iso(opportunity.tender_publish_on),
            "question_deadline": _iso(opportunity.question_deadline),
            "closing": _iso(opportunity.closing_at),
            "contract_start": _iso(opportunity.contract_start_on),
        },
        "suitable_vcse": opportunity.suitable_vcse,
        "suitable_sme": opportunity.suitable_sme,
        "consortium_welcome": opportunity.consortium_welcome,
        "subcontracting_expected": opportunity.subcontracting_expected,
        "updated_at": _iso(opportunity.updated_at),
        "links": {
            "self": url_for("api.opportunity", opportunity_id=opportunity.id, _external=True),
            "page": url_for("pipeline.show", opportunity_id=opportunity.id, _external=True),
            "ocds": url_for("api.opportunity_ocds", opportunity_id=opportunity.id,
                            _external=True),
        },
    }
    if detail:
        data.update(_detail(opportunity))
    return data


def _cpv(code):
    return {"code": code.code, "description": code.description}


def _detail(opportunity):
    award = opportunity.award
    return {
        "outcomes": opportunity.outcomes,
        "additional_cpv": [_cpv(c) for c in opportunity.additional_cpv],
        "areas": [{"code": a.code, "name": a.name} for a in opportunity.areas],
        "client_groups": [t.value for t in opportunity.client_groups],
        "contract_months": opportunity.contract_months,
        "extension_months": opportunity.extension_months,
        "engagement_details": opportunity.engagement_details,
        "reservation": opportunity.reservation,
        "accreditation": {"tier": opportunity.accreditation_tier,
                          "requirement": opportunity.accreditation_requirement},
        "social_value": [{"theme": p.theme, "label": p.theme_label, "weighting": p.weighting}
                         for p in opportunity.social_value],
        "contact_role": opportunity.contact_role,
        "status_reason": opportunity.status_reason,
        "lots": [{"number": lot.number, "title": lot.title, "description": lot.description,
                  "value_min": lot.value_min, "value_max": lot.value_max,
                  "cpv_codes": [c.code for c in lot.cpv_codes],
                  "areas": [a.code for a in lot.areas]} for lot in opportunity.lots],
        "questions": [{"question": q.published_question, "answer": q.answer,
                       "answered_at": _iso(q.answered_at)}
                      for q in opportunity.published_questions()],
        "documents": [{"title": d.title, "size": d.size, "content_type": d.content_type,
                       "url": url_for("pipeline.document", opportunity_id=opportunity.id,
                                      document_id=d.id, _external=True)}
                      for d in opportunity.documents],
        "award": None if award is None else {
            "awarded_on": _iso(award.awarded_on), "value": award.value,
            "winners": [{"name": w.name, "organisation_id": w.organisation_id,
                         "is_vcse": w.is_vcse, "is_sme": w.is_sme} for w in award.winners]},
    }


@api_bp.get("/opportunities")
def opportunities():
    query = queries.parse_plan_query(request.args)
    page = _positive_int("page", 1, MAX_PAGE)
    per_page = _positive_int("per_page", current_app.config["PER_PAGE"],
                             current_app.config["API_MAX_PER_PAGE"])
    results = queries.search_plan(query, page, per_page)
    return jsonify({"items": [serialize_opportunity(o) for o in results.items],
                    "page": results.page, "per_page": results.per_page,
                    "total": results.total, "pages": results.pages})


@api_bp.get("/opportunities/<int:opportunity_id>")
def opportunity(opportunity_id):
    found = services.get_public_opportunity(opportunity_id)
    return jsonify(serialize_opportunity(found, detail=True))


@api_bp.get("/opportunities/<int:opportunity_id>/ocds")
def opportunity_ocds(opportunity_id):
    found = services.get_public_opportunity(opportunity_id)
    return jsonify(ocds.release_package([found], request.base_url))


@api_bp.get("/ocds")
def plan_ocds():
    query = queries.parse_plan_query(request.args)
    stmt = queries.filtered_statement(query).limit(MAX_OCDS_RELEASES)
    found = db.session.scalars(stmt).all()
    return jsonify(ocds.release_package(found, request.url))


# --- OpenAPI ------------------------------------------------------------------------------------

def _query(name, description, schema):
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


def _filter_parameters():
    return [
        _query("q", "Words that must all appear in the title or description",
               {"type": "string", "maxLength": 200}),
        _query("status", "Stage; without it, entries that are planned, in market engagement, "
               "open or being evaluated", {"type": "string",
                                           "enum": [s for s in STATUSES if s != "draft"]}),
        _query("cpv", "CPV code; matches the code and every code below it",
               {"type": "string", "pattern": "^[0-9]{8}$", "example": "85300000"}),
        _query("area", "GSS code of an authority, county, region or nation",
               {"type": "string", "example": "E12000003"}),
        _query("value_band", "Estimated whole-life value", {"type": "string",
                                                            "enum": list(VALUE_BANDS)}),
        _query("buyer", "Id of the buying organisation", {"type": "integer", "minimum": 1}),
        _query("route", "Procurement route", {"type": "string", "enum": list(ROUTES)}),
        _query("vcse", "1 for entries suitable for VCSEs", {"type": "string", "enum": ["1"]}),
        _query("consortium", "1 for entries welcoming consortium bids",
               {"type": "string", "enum": ["1"]}),
        _query("closing_within", "Open entries closing within this many days",
               {"type": "string", "enum": [str(n) for n in CLOSING_WITHIN]}),
    ]


def _id_parameter():
    return [{"name": "opportunity_id", "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 1}}]


@paths
def _pipeline_paths():
    page_parameters = [
        _query("sort", "Order of results", {"type": "string", "enum": list(SORTS)}),
        _query("page", "Page number, from 1", {"type": "integer", "minimum": 1, "default": 1}),
        _query("per_page", "Results per page",
               {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
    ]
    ocds_response = {"description": "An OCDS 1.1 release package",
                     "content": json_content({"type": "object", "description":
                                              "See https://standard.open-contracting.org/1.1/"})}
    return {
        "/api/v1/opportunities": {"get": {
            "tags": ["forward plan"], "operationId": "listOpportunities",
            "summary": "List and filter published forward-plan entries",
            "parameters": _filter_parameters() + page_parameters,
            "responses": {"200": {"description": "One page of entries",
                                  "content": json_content(ref("OpportunityList"))},
                          "400": {"$ref": "#/components/responses/BadRequest"}}}},
        "/api/v1/opportunities/{opportunity_id}": {"get": {
            "tags": ["forward plan"], "operationId": "getOpportunity",
            "summary": "One published entry with its lots, answers, documents and award",
            "parameters": _id_parameter(),
            "responses": {"200": {"description": "The entry",
                                  "content": json_content(ref("Opportunity"))},
                          "404": {"$ref": "#/components/responses/NotFound"}}}},
        "/api/v1/opportunities/{opportunity_id}/ocds": {"get": {
            "tags": ["forward plan"], "operationId": "getOpportunityOcds",
            "summary": "One entry as an OCDS 1.1 release package",
            "parameters": _id_parameter(),
            "responses": {"200": ocds_response,
                          "404": {"$ref": "#/components/responses/NotFound"}}}},
        "/api/v1/ocds": {"get": {
            "tags": ["forward plan"], "operationId": "getPlanOcds",
            "summary": "The forward plan (with the same filters) as one OCDS release package",
            "parameters": _filter_parameters(),
            "responses": {"200": ocds_response,
                          "400": {"$ref": "#/components/responses/BadRequest"}}}},
    }


def _object(properties):
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False}


def _s():
    return {"type": "string"}


def _i():
    return {"type": "integer"}


def _b():
    return {"type": "boolean"}


def _summary_schema():
    date = nullable({"type": "string", "format": "date"})
    moment = nullable({"type": "string", "format": "date-time"})
    return {
        "id": _i(), "ocid": _s(), "reference": _s(), "title": _s(),
        "status": {"type": "string", "enum": list(STATUSES)}, "status_label": _s(),
        "buyer": _object({"id": _i(), "name": _s()}),
        "description": nullable(_s()),
        "main_cpv": {"oneOf": [ref("PipelineCpv"), {"type": "null"}]},
        "areas_summary": {"type": "array", "items": _s()},
        "value": _object({"min": nullable(_i()), "max": nullable(_i()),
                          "basis": {"type": "string", "enum": ["whole_life", "annual"]},
                          "whole_life_estimate": nullable(_i())}),
        "procurement_route": {"type": ["string", "null"], "enum": [*ROUTES, None]},
        "dates": _object({"market_engagement": date, "tender_publication": date,
                          "question_deadline": moment, "closing": moment,
                          "contract_start": date}),
        "suitable_vcse": _b(), "suitable_sme": _b(), "consortium_welcome": _b(),
        "subcontracting_expected": _b(), "updated_at": nullable(_s()),
        "links": _object({"self": _s(), "page": _s(), "ocds": _s()}),
    }


def _detail_schema():
    n_i, n_s = nullable(_i()), nullable(_s())
    return {
        "outcomes": n_s, "additional_cpv": {"type": "array", "items": ref("PipelineCpv")},
        "areas": {"type": "array", "items": _object({"code": _s(), "name": _s()})},
        "client_groups": {"type": "array", "items": _s()},
        "contract_months": n_i, "extension_months": n_i, "engagement_details": n_s,
        "reservation": n_s,
        "accreditation": _object({"tier": n_i, "requirement": _s()}),
        "social_value": {"type": "array", "items": _object(
            {"theme": _s(), "label": _s(), "weighting": _i()})},
        "contact_role": n_s, "status_reason": n_s,
        "lots": {"type": "array", "items": _object({
            "number": _i(), "title": _s(), "description": n_s, "value_min": n_i,
            "value_max": n_i, "cpv_codes": {"type": "array", "items": _s()},
            "areas": {"type": "array", "items": _s()}})},
        "questions": {"type": "array", "items": _object(
            {"question": _s(), "answer": _s(), "answered_at": n_s})},
        "documents": {"type": "array", "items": _object(
            {"title": _s(), "size": _i(), "content_type": _s(), "url": _s()})},
        "award": {"oneOf": [{"type": "null"}, _object({
            "awarded_on": _s(), "value": n_i,
            "winners": {"type": "array", "items": _object({
                "name": _s(), "organisation_id": n_i, "is_vcse": _b(), "is_sme": _b()})}})]},
    }


@schemas
def _pipeline_schemas():
    summary = _summary_schema()
    return {
        "PipelineCpv": _object({"code": _s(), "description": _s()}),
        "OpportunitySummary": _object(summary),
        "Opportunity": _object({**summary, **_detail_schema()}),
        "OpportunityList": _object({
            "items": {"type": "array", "items": ref("OpportunitySummary")},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 0}}),
    }
