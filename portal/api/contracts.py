"""A commissioner's contracts register in the JSON API, and its OpenAPI description.

Anyone may read it, as the transparency of who holds a buyer's contracts and when they end is
the point: a supplier sees what is coming up for re-procurement. A re-procurement entry is named
only once it is published."""
from flask import jsonify, url_for

from portal.api.blueprint import bp
from portal.api.formats import day
from portal.api.openapi import (
    closed_object, json_content, list_envelope, nullable, page_parameters, path_id, paths,
    query, ref, schemas,
)
from portal.api.params import query_param
from portal.insight import contracts
from portal.insight.contracts import ENDING, SORTS


@bp.get("/commissioners/<int:organisation_id>/contracts")
def commissioner_contracts(organisation_id):
    register_query = contracts.parse_register_query(
        {"ending": query_param("ending"), "sort": query_param("sort")}, default_ending="all")
    result = contracts.public_register(organisation_id, register_query, query_param("page"),
                                       query_param("per_page"))
    return jsonify({"items": [_contract(c) for c in result.items], "page": result.page,
                    "per_page": result.per_page, "total": result.total,
                    "pages": result.pages})


def _contract(contract):
    entry = contract.reprocurement
    published = entry is not None and entry.is_public
    return {"id": contract.id, "title": contract.title, "suppliers": contract.supplier_names,
            "value": contract.value, "starts_on": day(contract.starts_on),
            "ends_on": day(contract.ends_on),
            "extension_ends_on": day(contract.extension_ends_on),
            "any_vcse": contract.any_vcse, "any_sme": contract.any_sme,
            "reprocurement_id": entry.id if published else None,
            "reprocurement": url_for("api.opportunity", opportunity_id=entry.id,
                                     _external=True) if published else None}


# --- OpenAPI ------------------------------------------------------------------------------------

@paths
def _contract_paths():
    return {
        "/api/v1/commissioners/{organisation_id}/contracts": {"get": {
            "tags": ["contracts"], "operationId": "listCommissionerContracts",
            "summary": "A commissioning organisation's contracts: who holds them, their value "
                       "and when they end, and the published re-procurement entry of each",
            "parameters": [
                path_id("organisation_id", "The commissioning organisation"),
                query("ending", "Which contracts: current, ending within so many months (from "
                      "today, counting any extension), ended, or all (the default)",
                      {"type": "string", "enum": list(ENDING), "default": "all"}),
                query("sort", "end: soonest ending first (latest first for ended contracts); "
                      "value: highest first", {"type": "string", "enum": list(SORTS),
                                               "default": "end"}),
                *page_parameters(),
            ],
            "responses": {
                "200": {"description": "One page of contracts",
                        "content": json_content(ref("ContractList"))},
                "400": {"$ref": "#/components/responses/BadRequest"},
                "404": {"$ref": "#/components/responses/NotFound"}}}},
    }


@schemas
def _contract_schemas():
    string, date = {"type": "string"}, {"type": "string", "format": "date"}
    return {
        "Contract": closed_object({
            "id": {"type": "integer"}, "title": string, "suppliers": nullable(string),
            "value": nullable({"type": "integer", "minimum": 0}), "starts_on": date,
            "ends_on": date, "extension_ends_on": nullable(date),
            "any_vcse": {"type": "boolean"}, "any_sme": {"type": "boolean"},
            "reprocurement_id": nullable({"type": "integer"}),
            "reprocurement": nullable({"type": "string", "format": "uri"})}),
        "ContractList": list_envelope(ref("Contract")),
    }
