"""GET /api/v1/suppliers: the register of accredited providers as JSON, in the OpenAPI document."""
from flask import current_app, jsonify, request

from portal.accreditation import register
from portal.api import bp
from portal.api.openapi import json_content, nullable, paths, ref, schemas
from portal.api.views import MAX_PAGE, _positive_int


@bp.get("/suppliers")
def suppliers():
    query = register.parse_register_query(request.args)
    page = _positive_int("page", 1, MAX_PAGE)
    per_page = _positive_int("per_page", current_app.config["PER_PAGE"],
                             current_app.config["API_MAX_PER_PAGE"])
    return jsonify(register.suppliers_page(query, page, per_page))


def _query(name, description, schema):
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


@paths
def _supplier_paths():
    return {"/api/v1/suppliers": {"get": {
        "tags": ["accreditation"],
        "operationId": "listSuppliers",
        "summary": "Accredited providers: organisations with a current accreditation",
        "parameters": [
            _query("q", "Free text, matched against names and descriptions",
                   {"type": "string", "maxLength": 200}),
            _query("scheme", "Slug of an accreditation scheme", {"type": "string",
                                                                 "example": "kite-mark"}),
            _query("tier", "Readiness tier; matches providers accredited at this tier or above",
                   {"type": "integer", "minimum": 1, "maximum": 3}),
            _query("area", "GSS code of an authority, county, region or nation; matches "
                   "providers serving any authority inside it",
                   {"type": "string", "example": "E12000007"}),
            _query("cpv", "CPV code; matches the code and every code below it",
                   {"type": "string", "pattern": "^[0-9]{8}$", "example": "85300000"}),
            _query("sort", "Order of results", {"type": "string", "enum": list(register.SORTS)}),
            _query("page", "Page number, from 1", {"type": "integer", "minimum": 1, "default": 1}),
            _query("per_page", "Results per page",
                   {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
        ],
        "responses": {
            "200": {"description": "One page of accredited providers",
                    "content": json_content(ref("SupplierList"))},
            "400": {"$ref": "#/components/responses/BadRequest"},
        },
    }}}


def _object(properties):
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False}


@schemas
def _supplier_schemas():
    string, integer = {"type": "string"}, {"type": "integer"}
    return {
        "SupplierAccreditation": _object({
            "scheme": string, "scheme_name": string, "level": string, "level_rank": integer,
            "tier": integer, "largest_contract_value": nullable(integer),
            "accredited_from": {"type": "string", "format": "date"},
            "valid_until": {"type": "string", "format": "date"}}),
        "Supplier": _object({
            "id": integer, "name": string, "charity_number": nullable(string),
            "company_number": nullable(string), "income_band": nullable(string),
            "income_band_label": nullable(string), "tier": nullable(integer),
            "largest_contract_value": nullable(integer),
            "accreditations": {"type": "array", "items": ref("SupplierAccreditation")},
            "areas_summary": {"type": "array", "items": string},
            "cpv_codes": {"type": "array", "items": _object({"code": string,
                                                             "description": string})},
            "links": _object({"organisation": {"type": "string", "format": "uri"},
                              "profile": {"type": "string", "format": "uri"}})}),
        "SupplierList": _object({
            "items": {"type": "array", "items": ref("Supplier")},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 0}}),
    }
