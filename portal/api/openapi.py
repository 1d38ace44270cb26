"""The OpenAPI 3.1 description of the public API, assembled from small functions.

A later feature describes its endpoints with `@paths` and its data with `@schemas`; each
decorated function returns a dict that is merged into the document. Query parameters whose
values are rows of reference data (areas, CPV codes, schemes) point at a schema registered with
`register_codes`: a short list is written into the document as an enum; a long one (hundreds of
areas, thousands of CPV codes) is given by its shape, and a well-formed code that does not exist
is a 404, since listing them all would bloat the document and every client that reads it.

The document is also the contract requests are checked against (portal/api/params.py), so what
it says a parameter accepts is exactly what the API accepts.
"""
from dataclasses import dataclass
from typing import Callable

from flask import current_app

from portal.core.routing import MAX_PAGE
from portal.extensions import db
from portal.organisations.models import INCOME_BANDS, ORG_TYPES
from portal.organisations.directory import SORTS
from portal.reference.models import Area, CpvCode

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
# Id columns are `Integer`: 32 bits on PostgreSQL, which refuses to compare one with anything
# larger (the path converter allows 64 bits, SQLite's width), so the API's ids stop here.
MAX_ID = 2**31 - 1
_PATH_BUILDERS = []
_SCHEMA_BUILDERS = []
REFERENCE_CODES = {}


@dataclass(frozen=True)
class ReferenceCodes:
    """A kind of code that names a row of reference data."""

    schema: dict  # its shape: type, pattern, description, example
    noun: str  # what a code names, for error messages: "area", "CPV code"
    exists: Callable[[str], bool]
    values: Callable[[], list] | None = None  # given for short lists, written into the document


def paths(builder):
    """Register a function returning {path: path item}."""
    _PATH_BUILDERS.append(builder)
    return builder


def schemas(builder):
    """Register a function returning {schema name: JSON Schema}."""
    _SCHEMA_BUILDERS.append(builder)
    return builder


def register_codes(name, codes):
    """Make `codes` (ReferenceCodes) the component schema `name`."""
    REFERENCE_CODES[name] = codes


def build_document(with_reference_values=True):
    """The whole OpenAPI document as a dict; without the listed reference values (for checking
    requests, which looks codes up instead) it needs no database."""
    document = {
        "openapi": OPENAPI_VERSION,
        "info": _info(),
        "servers": [{"url": "/"}],
        "tags": [{"name": "organisations", "description": "The directory of organisations"},
                 {"name": "forward plan", "description": "What commissioners plan to buy"},
                 {"name": "accreditation", "description": "Accredited providers"},
                 {"name": "matching", "description": "Suppliers for entries, and entries for "
                                                     "suppliers"},
                 {"name": "consortia", "description": "Teaming, consortia and sub-contracting"},
                 {"name": "insight", "description": "Buyers' published figures and contracts"},
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
    document["components"]["schemas"].update(_reference_schemas(with_reference_values))
    _add_common_responses(document)
    return document


def _reference_schemas(with_values):
    return {name: {**codes.schema, "enum": codes.values()} if with_values and codes.values
            else dict(codes.schema) for name, codes in REFERENCE_CODES.items()}


def reference_codes(schema):
    """The ReferenceCodes a parameter schema points at, if any."""
    return REFERENCE_CODES.get(schema.get("$ref", "").rsplit("/", 1)[-1])


def unlisted_codes(schema):
    """The ReferenceCodes a parameter schema points at, when they are not listed as an enum."""
    codes = reference_codes(schema)
    return codes if codes is not None and codes.values is None else None


def _add_common_responses(document):
    """Responses that follow from what an operation takes, or that any operation can give."""
    for path_item in document["paths"].values():
        for operation in path_item.values():
            responses = operation["responses"]
            if any(unlisted_codes(p["schema"]) for p in operation.get("parameters", [])):
                responses.setdefault("404", {"$ref": "#/components/responses/UnknownCode"})
            responses.setdefault("414", {"$ref": "#/components/responses/UriTooLong"})


def _info():
    return {
        "title": "Pathfinder public API",
        "version": API_VERSION,
        "summary": "Read-only data about organisations that deliver public services.",
        "description": ("Public profiles from the Pathfinder directory of voluntary, community and "
                        "social enterprise organisations and the bodies that commission them. "
                        "No personal data is published.\n\n"
                        "Query parameters are checked against this document: a value that is "
                        "empty, outside the listed choices or range, or given twice is a 400 "
                        "error whose message names the parameter; an area or CPV code that is "
                        "well formed but does not exist is a 404. Parameters this document "
                        "does not list are ignored. Times are RFC 3339 date-times with an "
                        "offset; days are RFC 3339 full dates."),
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
        "UnknownCode": {"description": "An area or CPV code in the query is well formed but "
                                       "does not exist", **error},
        "SearchRebuilding": {
            "description": "Matching is being rebuilt after a fault; try again after the "
                           "seconds in Retry-After", **error,
            "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 0}}}},
        "UriTooLong": {"description": "The URL is longer than the server accepts (about 4 KB); "
                                      "the answer comes from the web server, not as JSON"},
    }


def query(name, description, schema):
    """An optional query parameter."""
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


def text_query(description):
    """Free text; empty is the same as leaving it out (forms send it so)."""
    return query("q", description + ". Empty is the same as leaving it out",
                 {"type": "string", "maxLength": 200})


def id_schema():
    return {"type": "integer", "format": "int32", "minimum": 1, "maximum": MAX_ID}


def path_id(name, description):
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": id_schema()}


def page_parameters(max_per_page=None, default_per_page=None, max_page=MAX_PAGE):
    """`page` and `per_page`, by default with the limits the app is configured with."""
    max_per_page = max_per_page or current_app.config["API_MAX_PER_PAGE"]
    default_per_page = default_per_page or current_app.config["PER_PAGE"]
    return [
        query("page", "Page number, from 1",
              {"type": "integer", "minimum": 1, "maximum": max_page, "default": 1}),
        query("per_page", "Results per page", {"type": "integer", "minimum": 1,
                                               "maximum": max_per_page,
                                               "default": default_per_page}),
    ]


def list_envelope(item_schema, max_per_page=None):
    """The schema of a page of items with the numbers a client needs to fetch the rest."""
    return {"type": "object", "additionalProperties": False,
            "required": ["items", "page", "per_page", "total", "pages"],
            "properties": {
                "items": {"type": "array", "items": item_schema},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1,
                             "maximum": max_per_page or current_app.config["API_MAX_PER_PAGE"]},
                "total": {"type": "integer", "minimum": 0},
                "pages": {"type": "integer", "minimum": 0}}}


def area_query(description):
    return query("area", description, ref("AreaCode"))


def cpv_query(description):
    return query("cpv", description, ref("CpvCodeValue"))


register_codes("AreaCode", ReferenceCodes(
    schema={"type": "string", "pattern": "^[ENSW][0-9]{8}$", "example": "E12000001",
            "description": "GSS code of a nation, region, county or local authority"},
    noun="area", exists=lambda code: db.session.get(Area, code) is not None))
register_codes("CpvCodeValue", ReferenceCodes(
    schema={"type": "string", "pattern": "^[0-9]{8}$", "example": "85300000",
            "description": "A code of the Common Procurement Vocabulary (2008)"},
    noun="CPV code", exists=lambda code: db.session.get(CpvCode, code) is not None))


def _list_parameters():
    return [
        text_query("Free text, matched against names, descriptions and track record"),
        query("type", "Type of organisation", {"type": "string", "enum": list(ORG_TYPES)}),
        area_query("GSS code of a local authority, county, region or nation; matches "
                   "organisations serving any authority inside it"),
        cpv_query("CPV code; matches the code and every code below it in the hierarchy"),
        query("income_band", "Income band", {"type": "string", "enum": list(INCOME_BANDS)}),
        query("tier", "Readiness tier; matches organisations with a current accreditation at "
              "this tier or above", {"type": "integer", "minimum": 1, "maximum": 3}),
        query("sort", "Order of results: relevance (default with q) or name (default without)",
              {"type": "string", "enum": list(SORTS)}),
        *page_parameters(),
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
            "parameters": [path_id("id", "The organisation")],
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


def closed_object(properties, required=None):
    """An object with exactly these properties, all required unless `required` says which."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required,
            "additionalProperties": False}


_object = closed_object


def secured(operation):
    """An operation for a signed-in person or an organisation token, with the answers a
    caller without either, or asking for what is not theirs, gets."""
    return {**operation, "security": [{"bearerToken": []}, {"session": []}], "responses": {
        **operation["responses"],
        "400": {"$ref": "#/components/responses/BadRequest"},
        "401": {"$ref": "#/components/responses/Unauthorised"},
        "404": {"$ref": "#/components/responses/NotFound"}}}


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
        "accreditation": {
            "anyOf": [ref("CurrentAccreditation"), {"type": "null"}],
            "description": "The strongest current accreditation; null when none"},
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
        "CurrentAccreditation": _object({
            "tier": {"type": "integer", "minimum": 1, "maximum": 3},
            "level": _string(description="The level's name in its scheme"),
            "valid_until": _string(format="date", description="The last day it runs to")}),
        "OrganisationSummary": _object(summary),
        "Organisation": _object({**summary, **_detail_properties()}),
        "OrganisationList": list_envelope(ref("OrganisationSummary")),
    }


@schemas
def _service_schemas():
    return {
        "Error": _object({"status": {"type": "integer"}, "error": _string(), "message": _string()}),
        "Health": {"type": "object", "required": ["status", "checks"],
                   "properties": {"status": _string(enum=["ok", "error"]),
                                  "checks": {"type": "object"}}},
    }
