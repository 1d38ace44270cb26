"""The forward plan in the public JSON API, its OCDS exports and their OpenAPI description.

The whole plan as OCDS comes in pages (`page`, `per_page`, with `links.next` and `links.prev` in
the package, as OCDS suggests for APIs) and each page is cached until the plan changes.
"""
from flask import current_app, jsonify, request, url_for

from portal.api.blueprint import bp as api_bp
from portal.api.cache import app_cache
from portal.api.formats import day, uk_moment, utc_moment
from portal.api.openapi import (
    area_query, cpv_query, id_schema, json_content, list_envelope, nullable, page_parameters,
    path_id, paths, query, ref, schemas, text_query,
)
from portal.api.params import query_param
from portal.organisations.services import area_labels
from portal.pipeline import ocds, queries, services
from portal.pipeline.models import PUBLIC_STATUSES, ROUTES, STATUSES, uk_now
from portal.pipeline.queries import CLOSING_WITHIN, SORTS, VALUE_BANDS

OCDS_PER_PAGE = 100
OCDS_MAX_PER_PAGE = 1000


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
            "market_engagement": day(opportunity.market_engagement_on),
            "tender_publication": day(opportunity.tender_publish_on),
            "question_deadline": uk_moment(opportunity.question_deadline),
            "closing": uk_moment(opportunity.closing_at),
            "contract_start": day(opportunity.contract_start_on),
        },
        "suitable_vcse": opportunity.suitable_vcse,
        "suitable_sme": opportunity.suitable_sme,
        "consortium_welcome": opportunity.consortium_welcome,
        "subcontracting_expected": opportunity.subcontracting_expected,
        "updated_at": utc_moment(opportunity.updated_at),
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
                       "answered_at": utc_moment(q.answered_at)}
                      for q in opportunity.published_questions()],
        "documents": [{"title": d.title, "size": d.size, "content_type": d.content_type,
                       "url": url_for("pipeline.document", opportunity_id=opportunity.id,
                                      document_id=d.id, _external=True)}
                      for d in opportunity.documents],
        "award": None if award is None else {
            "awarded_on": day(award.awarded_on), "value": award.value,
            "winners": [{"name": w.name, "organisation_id": w.organisation_id,
                         "is_vcse": w.is_vcse, "is_sme": w.is_sme} for w in award.winners]},
    }


@api_bp.get("/opportunities")
def opportunities():
    query = queries.parse_plan_query(request.args)
    results = queries.search_plan(query, query_param("page"), query_param("per_page"))
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
    """One page of the plan as a release package, served from the cache while the plan is
    unchanged (building a page reads every entry's lots, documents, answers and award)."""
    query = queries.parse_plan_query(request.args)
    cache, key = app_cache("plan_ocds"), _plan_cache_key(query)
    body = cache.get(key)
    if body is None:
        body = jsonify(_plan_package(query)).get_data()
        cache.put(key, body)
    response = current_app.response_class(body, mimetype="application/json")
    response.add_etag()
    return response.make_conditional(request)


def _plan_cache_key(query):
    # The URL covers host, filters and page; "closing within" also moves with the clock.
    clock = uk_now().strftime("%Y%m%d%H%M") if query.closing_within else None
    return request.url, ocds.ocid_prefix(), queries.public_plan_version(), clock


def _plan_package(query):
    results = queries.releases_page(query, query_param("page"), query_param("per_page"))
    package = ocds.release_package(results.items, request.url)
    package["links"] = _page_links(query, results)
    return package


def _page_links(query, results):
    """OCDS-style links to the neighbouring pages, carrying the same filters."""
    args = {**{k: v for k, v in query.as_args().items() if k != "sort"},
            "per_page": results.per_page}
    links = {}
    if results.has_next:
        links["next"] = url_for("api.plan_ocds", page=results.page + 1, **args, _external=True)
    if results.page > 1:
        links["prev"] = url_for("api.plan_ocds", page=min(results.page - 1, results.pages or 1),
                                **args, _external=True)
    return links


# --- OpenAPI ------------------------------------------------------------------------------------

def _flag(name, description):
    return query(name, description, {"type": "string", "enum": ["1"]})


def _filter_parameters():
    return [
        text_query("Words that must all appear in the title or description"),
        query("status", "Stage; without it, entries that are planned, in market engagement, "
              "open or being evaluated", {"type": "string", "enum": list(PUBLIC_STATUSES)}),
        cpv_query("CPV code; matches the code and every code below it"),
        area_query("GSS code of an authority, county, region or nation"),
        query("value_band", "Estimated whole-life value",
              {"type": "string", "enum": list(VALUE_BANDS)}),
        query("buyer", "Id of the buying organisation", id_schema()),
        query("route", "Procurement route", {"type": "string", "enum": list(ROUTES)}),
        _flag("vcse", "1 for entries suitable for VCSEs"),
        _flag("consortium", "1 for entries welcoming consortium bids"),
        query("closing_within", "Open entries closing within this many days",
              {"type": "string", "enum": [str(n) for n in CLOSING_WITHIN]}),
    ]


def _id_parameter():
    return [path_id("opportunity_id", "The forward-plan entry")]


def _ocds_response(description):
    return {"description": description, "content": json_content({
        "type": "object", "required": ["uri", "version", "publisher", "publishedDate",
                                       "releases"],
        "properties": {"releases": {"type": "array", "items": {"type": "object"}}},
        "description": "An OCDS 1.1 release package: "
                       "https://standard.open-contracting.org/1.1/en/schema/release_package/"})}


def _plan_ocds_operation():
    links = {"type": "object", "additionalProperties": False, "properties": {
        "next": {"type": "string", "format": "uri"},
        "prev": {"type": "string", "format": "uri"}}}
    ok = _ocds_response("One page of the plan as a release package; `links.next` is the next "
                        "page, missing on the last")
    ok["content"]["application/json"]["schema"]["properties"]["links"] = links
    ok["headers"] = {"ETag": {"description": "Send it back as If-None-Match to get a 304 while "
                                             "the page is unchanged",
                              "schema": {"type": "string"}}}
    return {
        "tags": ["forward plan"], "operationId": "getPlanOcds",
        "summary": "The forward plan (with the same filters) as OCDS release packages, a page "
                   "at a time, oldest entry first",
        "parameters": _filter_parameters() + page_parameters(OCDS_MAX_PER_PAGE, OCDS_PER_PAGE),
        "responses": {"200": ok,
                      "304": {"description": "Not modified since the ETag in If-None-Match"},
                      "400": {"$ref": "#/components/responses/BadRequest"}}}


@paths
def _pipeline_paths():
    list_parameters = [query("sort", "Order of results", {"type": "string", "enum": list(SORTS)}),
                       *page_parameters()]
    return {
        "/api/v1/opportunities": {"get": {
            "tags": ["forward plan"], "operationId": "listOpportunities",
            "summary": "List and filter published forward-plan entries",
            "parameters": _filter_parameters() + list_parameters,
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
            "responses": {"200": _ocds_response("The entry as a release package"),
                          "404": {"$ref": "#/components/responses/NotFound"}}}},
        "/api/v1/ocds": {"get": _plan_ocds_operation()},
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


def _date():
    return {"type": "string", "format": "date"}


def _moment():
    return {"type": "string", "format": "date-time"}


def _summary_schema():
    date, moment = nullable(_date()), nullable(_moment())
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
        "subcontracting_expected": _b(), "updated_at": _moment(),
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
            {"question": _s(), "answer": _s(), "answered_at": nullable(_moment())})},
        "documents": {"type": "array", "items": _object(
            {"title": _s(), "size": _i(), "content_type": _s(), "url": _s()})},
        "award": {"oneOf": [{"type": "null"}, _object({
            "awarded_on": _date(), "value": n_i,
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
        "OpportunityList": list_envelope(ref("OpportunitySummary")),
    }
