"""A buyer's headline figures for anyone to see: how much notice its plan gives, how open it is
to VCSEs, and the share of its awards reaching VCSEs and SMEs. Counts and shares only: no
person, no bid and nothing unpublished."""
from portal.insight import outcomes, plan_health
from portal.insight.filters import InsightFilters

PUBLIC_STAGES = ("planned", "market_engagement", "open", "evaluation", "awarded")


def _share(share):
    return {"count": share.count, "total": share.total, "percent": share.percent}


def _year(row):
    return {"year": row.key, "awards": row.awards, "value": round(row.value),
            "vcse_value_percent": row.share("vcse_value").percent,
            "vcse_awards_percent": row.share("vcse_count").percent,
            "sme_value_percent": row.share("sme_value").percent}


def headlines(buyer):
    """The transparency figures of `buyer`, as plain data for the page and the API."""
    filters = InsightFilters()
    plan = plan_health.plan_health(buyer, filters)
    totals = outcomes.totals(buyer, filters)
    return {
        "organisation": {"id": buyer.id, "name": buyer.name},
        "entries_by_stage": {key: count for key, _, count in plan.stages
                             if key in PUBLIC_STAGES},
        "notice": {"median_months": plan.notice.median,
                   "at_least_three_months": _share(plan.notice.enough)},
        "contracts_of_three_years_or_more": _share(plan.long_contracts),
        "suitable_for_vcses": _share(plan.vcse_suitable),
        "divided_into_lots": _share(plan.with_lots),
        "awards": {"count": totals.awards, "value": round(totals.value),
                   "vcse_value_percent": totals.share("vcse_value").percent,
                   "vcse_awards_percent": totals.share("vcse_count").percent,
                   "sme_value_percent": totals.share("sme_value").percent,
                   "sme_awards_percent": totals.share("sme_count").percent},
        "by_year": [_year(row) for row in outcomes.by_year(buyer, filters)],
    }
