"""A buyer's transparency figures in the JSON API (public, like its transparency page), and their
OpenAPI description."""
from flask import jsonify

from portal.api.blueprint import bp
from portal.api.openapi import closed_object, json_content, nullable, path_id, paths, ref, schemas
from portal.insight import access, transparency


@bp.get("/commissioners/<int:org_id>/insight")
def commissioner_insight(org_id):
    return jsonify(transparency.headlines(access.public_buyer(org_id)))


@paths
def _insight_paths():
    return {"/api/v1/commissioners/{id}/insight": {"get": {
        "tags": ["insight"], "operationId": "getCommissionerInsight",
        "summary": "A buyer's headline figures: notice given, openness to VCSEs and the share "
                   "of awarded value reaching VCSEs and SMEs (counts and shares only)",
        "parameters": [path_id("id", "The commissioning organisation")],
        "responses": {"200": {"description": "The figures",
                              "content": json_content(ref("CommissionerInsight"))},
                      "404": {"$ref": "#/components/responses/NotFound"}},
    }}}


@schemas
def _insight_schemas():
    count = {"type": "integer", "minimum": 0}
    percent = nullable({"type": "number", "minimum": 0, "maximum": 100})
    share = closed_object({"count": count, "total": count, "percent": percent})
    year = closed_object({"year": {"type": "integer"}, "awards": count, "value": count,
                          "vcse_value_percent": percent, "vcse_awards_percent": percent,
                          "sme_value_percent": percent})
    awards = closed_object({"count": count, "value": count, "vcse_value_percent": percent,
                            "vcse_awards_percent": percent, "sme_value_percent": percent,
                            "sme_awards_percent": percent})
    return {"CommissionerInsight": closed_object({
        "organisation": closed_object({"id": {"type": "integer"}, "name": {"type": "string"}}),
        "entries_by_stage": {"type": "object", "additionalProperties": count},
        "notice": closed_object({"median_months": nullable({"type": "number"}),
                                 "at_least_three_months": share}),
        "contracts_of_three_years_or_more": share,
        "suitable_for_vcses": share,
        "divided_into_lots": share,
        "awards": awards,
        "by_year": {"type": "array", "items": year},
    })}
