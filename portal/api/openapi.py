"""The OpenAPI 3.1 description of the public API, assembled from small functions.

A later feature describes its endpoints with `@paths` and its data with `@schemas`; each
decorated function returns a dict that is merged into the document.
"""
from portal.organisations.models import INCOME_BANDS, ORG_TYPES
from portal.organisations.services import SORTS

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
_PATH_BUILDERS = []
_SCHEMA_BUILDERS = []


def paths(builder):
    """Register a function returning {path: path item}."""
    _PATH_BUILDERS.append(builder)
    return builder


def schemas(builder):
    """Register a function returning {schema name: JSON Schema}."""
    _SCHEMA_BUILDERS.append(builder)
    return builder


def build_document():
    """The whole OpenAPI document as a dict."""
    document = {
        "openapi": OPENAPI_VERSION,
        "info": _info(),
        "servers": [{"url": "/"}],
        "tags": [{"name": "organisations", "description": "The directory of organisations"},
                 {"name": "forward plan", "description": "What commissioners plan to buy"},
                 {"name": "service", "description": "Service status"}],
        "paths": {},
        "components": {"schemas": {}, "responses": _responses(),
                       "securitySchemes": {
                           "bearerToken": {"type": "http", "scheme": "bearer",
                                           "description": "An organisation API token (Team → API tokens)"},
                           "session": {"type": "apiKey", "in": "cookie", "name": "pathfinder_session"},
                       }},
    }
    for builder in _PATH_BUILDERS:
        document["paths"].update(builder())
    for builder in _SCHEMA_BUILDERS:
        document["components"]["schemas"].update(builder())
    return document


def _info():
    return {
        "title": "Pathfinder public API",
        "version": API_VERSION,
        "summary": "Read-only data about organisations that deliver public services.",
        "description": ("Public profiles from the Pathfinder directory of voluntary, community and "
                        "social enterprise organisations and the bodies that commission them. "
                        "No personal data is published."),
        "license": {"name": "Open Government Licence v3.0", "url": OGL_URL},
    }


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema):
    """Allow null as well as `schema`'s type (JSON Schema 2020-12 style, as OpenAPI 3.1 uses)."""
    return {**schema, "type": [schema["type"], "null"]}


def json_content(schema):
    return {"application/json": {"schema": schema}}


def _responses():
    error = {"content": json_content(ref("Error"))}
    return {
        "BadRequest": {"description": "A parameter was not valid", **error},
        "NotFound": {"description": "No such resource, or it is not public", **error},
        "Unauthorised": {"description": "No valid sign-in or API token", **error},
    }


def _query(name, description, schema):
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


def _list_parameters():
    return [
        _query("q", "Free text, matched against names, descriptions and track record",
               {"type": "string", "maxLength": 200}),
        _query("type", "Type of organisation", {"type": "string", "enum": list(ORG_TYPES)}),
        _query("area", "GSS code of a local authority, county, region or nation; matches "
               "organisations serving any authority inside it",
               {"type": "string", "example": "E12000001"}),
        _query("cpv", "CPV code; matches the code and every code below it in the hierarchy",
               {"type": "string", "pattern": "^[0-9]{8}$", "example": "85300000"}),
        _query("income_band", "Income band", {"type": "string", "enum": list(INCOME_BANDS)}),
        _query("sort", "Order of results: relevance (default with q) or name (default without)",
               {"type": "string", "enum": list(SORTS)}),
        _query("page", "Page number, from 1", {"type": "integer", "minimum": 1, "default": 1}),
        _query("per_page", "Results per page", {"type": "integer", "minimum": 1, "maximum": 100,
                                                "default": 20}),
    ]


@paths
def _organisation_paths():
    return {
        "/api/v1/organisations": {"get": {
            "tags": ["organisations"],
            "operationId": "listOrganisations",
            "summary": "List and filter active organisations",
            "parameters": _list_parameters(),
            "responses": {
                "200": {"description": "One page of organisations",
                        "content": json_content(ref("OrganisationList"))},
                "400": {"$ref": "#/components/responses/BadRequest"},
            },
        }},
        "/api/v1/organisations/{id}": {"get": {
            "tags": ["organisations"],
            "operationId": "getOrganisation",
            "summary": "The full public profile of one organisation",
            "parameters": [{"name": "id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 1}}],
            "responses": {
                "200": {"description": "The organisation",
                        "content": json_content(ref("Organisation"))},
                "404": {"$ref": "#/components/responses/NotFound"},
            },
        }},
    }


@paths
def _service_paths():
    return {
        "/api/v1/openapi.json": {"get": {
            "tags": ["service"], "operationId": "getOpenApi",
            "summary": "This document",
            "responses": {"200": {"description": "OpenAPI 3.1 document",
                                  "content": json_content({"type": "object"})}},
        }},
        "/api/v1/me": {"get": {
            "tags": ["service"], "operationId": "getCaller",
            "summary": "The organisation the API is acting for",
            "security": [{"bearerToken": []}, {"session": []}],
            "responses": {
                "200": {"description": "The caller", "content": json_content(_object({
                    "via": {"type": "string", "enum": ["token", "session"]},
                    "organisation": {"anyOf": [ref("OrganisationSummary"), {"type": "null"}]},
                }))},
                "401": {"$ref": "#/components/responses/Unauthorised"},
            },
        }},
        "/healthz": {"get": {
            "tags": ["service"], "operationId": "getHealth",
            "summary": "Whether the database and search index are working",
            "responses": {
                "200": {"description": "Healthy", "content": json_content(ref("Health"))},
                "503": {"description": "A dependency is failing",
                        "content": json_content(ref("Health"))},
            },
        }},
    }


def _object(properties, required=None):
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required,
            "additionalProperties": False}


def _string(**extra):
    return {"type": "string", **extra}


def _cpv_schema():
    return _object({"code": _string(pattern="^[0-9]{8}$"), "description": _string(),
                    "is_social_service": {"type": "boolean"}})


def _summary_properties():
    return {
        "id": {"type": "integer"},
        "name": _string(),
        "other_names": nullable(_string()),
        "org_type": _string(enum=list(ORG_TYPES)),
        "org_type_label": _string(),
        "legal_form": nullable(_string()),
        "legal_form_label": nullable(_string()),
        "charity_number": nullable(_string()),
        "company_number": nullable(_string()),
        "postcode": nullable(_string()),
        "website": nullable(_string()),
        "income_band": {"type": ["string", "null"], "enum": [*INCOME_BANDS, None]},
        "income_band_label": nullable(_string()),
        "latest_income": nullable({"type": "integer"}),
        "description": nullable(_string()),
        "cpv_codes": {"type": "array", "items": ref("CpvCode")},
        "areas_summary": {"type": "array", "items": _string(),
                          "description": "Nations or regions covered in full, otherwise authorities"},
        "links": _object({"self": _string(format="uri"), "profile": _string(format="uri")}),
    }


def _detail_properties():
    return {
        "address": nullable(_string()),
        "staff_count": nullable({"type": "integer"}),
        "volunteer_count": nullable({"type": "integer"}),
        "areas": {"type": "array", "items": _object({
            "code": _string(), "name": _string(),
            "kind": _string(enum=["country", "region", "county", "authority"])})},
        "client_groups": {"type": "array", "items": _string()},
        "ways_of_working": {"type": "array", "items": _string()},
        "credentials": {"type": "array", "items": ref("Credential")},
        "contact": _object({"role": nullable(_string()), "email": nullable(_string())}),
        "past_work_total": {"type": "integer"},
        "past_work": {"type": "array", "items": ref("PastWork"),
                      "description": "The 50 most recent grants and contracts"},
        "updated_at": nullable(_string(format="date-time")),
    }


@schemas
def _organisation_schemas():
    summary = _summary_properties()
    return {
        "CpvCode": _cpv_schema(),
        "Credential": _object({
            "kind": _string(), "kind_label": _string(), "title": _string(),
            "reference": nullable(_string()), "cover_amount": nullable({"type": "integer"}),
            "expires_on": nullable(_string(format="date")), "expired": {"type": "boolean"}}),
        "PastWork": _object({
            "title": _string(), "description": nullable(_string()),
            "funder_name": nullable(_string()), "amount": nullable({"type": "integer"}),
            "awarded_on": nullable(_string(format="date")), "kind": _string(),
            "source": nullable(_string())}),
        "OrganisationSummary": _object(summary),
        "Organisation": _object({**summary, **_detail_properties()}),
        "OrganisationList": _object({
            "items": {"type": "array", "items": ref("OrganisationSummary")},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 0},
        }),
    }


@schemas
def _service_schemas():
    return {
        "Error": _object({"status": {"type": "integer"}, "error": _string(), "message": _string()}),
        "Health": {"type": "object", "required": ["status", "checks"],
                   "properties": {"status": _string(enum=["ok", "error"]),
                                  "checks": {"type": "object"}}},
    }
