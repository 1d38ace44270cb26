"""The commissioner's dashboard: plan health, engagement and outcomes for one buyer (or every
buyer, for a site administrator), each figure a Table with its definition."""
from dataclasses import dataclass

from portal.insight import engagement as engagement_figures
from portal.insight import outcomes, plan_health
from portal.insight.models import SHARE_MEASURES
from portal.insight.shares import money, percent_text
from portal.insight.tables import Table


@dataclass
class Dashboard:
    buyer: object
    filters: object
    plan: plan_health.PlanHealth
    engagement: engagement_figures.Engagement
    totals: outcomes.OutcomeRow
    partners_value: float
    subcontract_value: float
    targets: list
    tables: dict


def _stage_table(plan):
    return Table("stages", "Entries by stage",
                 "Every entry of the plan (drafts included) by where it is in its lifecycle.",
                 ("Stage", "Entries"), [(label, count) for _, label, count in plan.stages])


def _plan_table(plan):
    rows = [("Entries giving at least 3 months' notice of the tender", *_parts(plan.notice.enough)),
            ("Contracts of 3 years or more", *_parts(plan.long_contracts)),
            ("Flagged suitable for VCSEs", *_parts(plan.vcse_suitable)),
            ("Divided into lots", *_parts(plan.with_lots)),
            ("Reserved for SMEs, VCSEs or local suppliers (below threshold)",
             *_parts(plan.reserved))]
    return Table("plan", "Forward plan health",
                 "Published entries. Notice runs from the day an entry was first published to "
                 "its planned tender date (entries imported from other notice sites are left "
                 "out of it); contract length excludes extensions.",
                 ("Measure", "Entries", "Out of", "Per cent"), rows)


def _parts(share):
    return share.count, share.total, share.percent


def _readability_table(plan):
    rows = [(row.reference, row.title, score.ease, score.verdict, score.hardest or "")
            for row, score in plan.hard_to_read]
    return Table("readability", "Descriptions that need plainer English",
                 "Live entries scored with the Flesch reading ease formula (60 or more is plain "
                 "English; under 30 is very hard), hardest first, with the hardest sentence.",
                 ("Reference", "Title", "Reading ease", "Verdict", "Hardest sentence"), rows)


def _engagement_tables(figures):
    by_size = Table("engagement_size", "Interest and questions by kind of organisation",
                    "Expressions of interest (not withdrawn) and questions on published entries, "
                    "by the organisation that sent them; per entry is divided by the number of "
                    "published entries.",
                    ("Kind of organisation", "Expressions of interest", "Questions",
                     "Interest per entry"),
                    [(label, *figures.by_size[size], figures.per_entry(size, "interests"))
                     for size, label in engagement_figures.SIZES.items()])
    by_quarter = Table("engagement_quarter", "Interest and questions over time",
                       "By the quarter they were sent.",
                       ("Quarter", "Expressions of interest", "Questions"), figures.by_quarter)
    return [by_size, by_quarter]


def _outcome_table(key, caption, rows, first_heading):
    body = [(row.label, row.awards, round(row.value), row.share("vcse_value").percent,
             row.share("vcse_count").percent, row.share("sme_value").percent) for row in rows]
    return Table(key, caption,
                 "Awards recorded on the portal. An award's value is split equally between its "
                 "winners; an award counts as a VCSE contract when any winner is a VCSE.",
                 (first_heading, "Awards", "Value (£)", "VCSE share of value (%)",
                  "VCSE share of awards (%)", "SME share of value (%)"), body)


def _target_table(progress):
    rows = [(f"{p.target.year}: {p.target.measure_label}", float(p.target.baseline_percent)
             if p.target.baseline_percent is not None else None,
             float(p.target.target_percent), p.actual.percent,
             "Met" if p.met else "Not yet met") for p in progress]
    return Table("targets", "Targets", "Baselines and targets you set, with the share reached "
                 "in that year by the same definition as the outcome tables.",
                 ("Target", "Baseline (%)", "Target (%)", "Reached (%)", "Status"), rows)


def build(buyer, filters):
    """Every dashboard figure for `buyer` (None: all buyers) under `filters`."""
    plan = plan_health.plan_health(buyer, filters)
    engaged = engagement_figures.engagement(buyer, filters)
    years = outcomes.by_year(buyer, filters)
    progress = outcomes.targets(buyer, years) if buyer is not None else []
    tables = [_stage_table(plan), _plan_table(plan), _readability_table(plan),
              *_engagement_tables(engaged),
              _outcome_table("outcomes_year", "Awards by year", years, "Year"),
              _outcome_table("outcomes_category", "Awards by category",
                             outcomes.by_category(buyer, filters), "Category"),
              _outcome_table("outcomes_area", "Awards by area",
                             outcomes.by_area(buyer, filters), "Area"),
              _target_table(progress)]
    return Dashboard(buyer, filters, plan, engaged, outcomes.totals(buyer, filters),
                     outcomes.partners_share_to_vcses(buyer, filters),
                     outcomes.subcontracted_to_vcses(buyer, filters), progress,
                     {table.key: table for table in tables})


TEMPLATE_HELPERS = {"money": money, "percent_text": percent_text, "share_measures": SHARE_MEASURES}
