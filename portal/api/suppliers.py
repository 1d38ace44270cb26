"""GET /api/v1/suppliers: the register of accredited providers as JSON, in the OpenAPI document."""
from flask import jsonify, request

from portal.accreditation import register
from portal.accreditation.schemes import SLUG_RE, scheme_exists, scheme_slugs
from portal.api.blueprint import bp
from portal.api.openapi import (
    ReferenceCodes, area_query, cpv_query, json_content, list_envelope, nullable, page_parameters,
    paths, query, ref, register_codes, schemas, text_query,
)
from portal.api.params import query_param


@bp.get("/suppliers")
def suppliers():
    filters = register.parse_register_query(request.args)
    return jsonify(register.suppliers_page(filters, query_param("page"), query_param("per_page")))


# A handful of schemes: the document lists them.
register_codes("SchemeSlug", ReferenceCodes(
    schema={"type": "string", "pattern": SLUG_RE.pattern, "example": "kite-mark",
            "description": "Slug of an accreditation scheme"},
    noun="scheme", exists=scheme_exists, values=scheme_slugs))


@paths
def _supplier_paths():
    return {"/api/v1/suppliers": {"get": {
        "tags": ["accreditation"],
        "operationId": "listSuppliers",
        "summary": "Accredited providers: organisations with a current accreditation",
        "parameters": [
            text_query("Free text, matched against names and descriptions"),
            query("scheme", "Slug of an accreditation scheme", ref("SchemeSlug")),
            query("tier", "Readiness tier; matches providers accredited at this tier or above",
                  {"type": "integer", "minimum": 1, "maximum": 3}),
            area_query("GSS code of an authority, county, region or nation; matches "
                       "providers serving any authority inside it"),
            cpv_query("CPV code; matches the code and every code below it"),
            query("sort", "Order of results", {"type": "string", "enum": list(register.SORTS)}),
            *page_parameters(),
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
        "SupplierList": list_envelope(ref("Supplier")),
    }
