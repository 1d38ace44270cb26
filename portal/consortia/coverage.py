"""What an entry needs against what a team brings: its categories, areas, client groups,
recommended accreditation level and the capacity its value implies. Each need is met, partly
met or a gap, with the members that meet it and, for a gap, partners suggested to close it."""
from dataclasses import dataclass, field, replace

from portal.accreditation.services import current_level
from portal.matching.query import MatchQuery
from portal.matching.ranking import MatchFilters
from portal.reference.places import gazetteer
from portal.reference.services import cpv_descendant_prefix

# A common test of financial standing in tenders: yearly income at least twice the contract's
# yearly value. Up to the value itself is a partial match; less is a gap.
INCOME_TO_VALUE = 2
SUGGESTED_PER_GAP = 3
MAX_GAPS_SUGGESTED = 5


@dataclass
class Need:
    kind: str  # category, area, client_group, level, capacity
    label: str
    state: str = "gap"  # met, partly, gap, unknown
    met_by: list = field(default_factory=list)
    note: str = ""
    query: MatchQuery | None = None
    # Suggestions for an area gap must work there; for other gaps, anywhere.
    filters: MatchFilters | None = None
    suggestions: list = field(default_factory=list)

    @property
    def state_label(self):
        return {"met": "Covered", "partly": "Partly covered", "gap": "Gap",
                "unknown": "Not known"}[self.state]


def _state(full, part):
    return "met" if full else ("partly" if part else "gap")


def _cpv_relation(wanted, offered):
    """2 when the member offers the category, one inside it, or its group (at least three
    digits); 1 when the two share a class; else 0."""
    w, o = cpv_descendant_prefix(wanted), cpv_descendant_prefix(offered)
    if o.startswith(w) or len(o) >= 3 and w.startswith(o):
        return 2
    return 1 if w[:4] == o[:4] and len(w) >= 4 and len(o) >= 4 else 0


def category_needs(entry, members, base):
    needs = []
    for cpv in _entry_categories(entry):
        best = {m.organisation.name: max((_cpv_relation(cpv.code, c.code)
                                          for c in m.organisation.cpv_codes), default=0)
                for m in members}
        full = [name for name, r in best.items() if r == 2]
        part = [name for name, r in best.items() if r == 1]
        # The entry's own words with this one category: the category's name is not evidence
        # about a supplier's service (its words are in every label of the category).
        needs.append(Need("category", cpv.description, _state(full, part), full or part,
                          query=replace(base, cpv_codes=(cpv.code,))))
    return needs


def _entry_categories(entry):
    parent = getattr(entry, "opportunity", None)
    if parent is not None:
        return list(entry.cpv_codes) or _entry_categories(parent)
    return [c for c in [entry.main_cpv, *entry.additional_cpv] if c is not None]


def area_needs(entry, members, base):
    gaz = gazetteer()
    areas = list(getattr(entry, "areas", None) or []) or \
        list(getattr(getattr(entry, "opportunity", None), "areas", None) or [])
    served = {m.organisation.name: gaz.expand([a.code for a in m.organisation.areas] +
                                              list(m.area_codes or []))
              for m in members}
    needs = []
    for area in areas:
        inside = gaz.expand([area.code]) or {area.code}
        full = [name for name, codes in served.items() if inside <= codes]
        part = [name for name, codes in served.items() if inside & codes and name not in full]
        needs.append(Need("area", area.name, _state(full, part), full or part,
                          query=replace(base, area_codes=(area.code,)),
                          filters=MatchFilters(area_codes=(area.code,))))
    return needs


def client_group_needs(opportunity, members, base):
    needs = []
    for term in opportunity.client_groups:
        full = [m.organisation.name for m in members
                if term.id in {t.id for t in m.organisation.client_groups}]
        needs.append(Need("client_group", term.value, _state(full, ()), full,
                          query=replace(base, title=f"{term.value}. {base.title}")))
    return needs


def level_need(opportunity, members):
    wanted = opportunity.accreditation_tier
    if not wanted:
        return []
    levels = {m.organisation.name: current_level(m.organisation) for m in members}
    full = [name for name, level in levels.items() if level and level.tier >= wanted]
    part = [name for name, level in levels.items() if level and name not in full]
    return [Need("level", f"Accredited at tier {wanted} or above", _state(full, part),
                 full or part, note="At least one member accredited at the level the buyer "
                                    "recommends")]


def yearly_value(entry, opportunity):
    value = entry.value_max or entry.value_min
    if not value:
        return None
    if opportunity.value_basis == "annual" or not opportunity.contract_months:
        return value
    return value * 12 // max(opportunity.contract_months, 12)


def capacity_need(entry, opportunity, members):
    yearly = yearly_value(entry, opportunity)
    if not yearly:
        return []
    income = sum(m.organisation.latest_income or 0 for m in members)
    unknown = [m.organisation.name for m in members if m.organisation.latest_income is None]
    if len(unknown) == len(members):
        return [Need("capacity", f"Capacity for about £{yearly:,} a year", "unknown", [],
                     note="No member has recorded its yearly income on its profile; tenders "
                          "often ask for at least twice a contract's yearly value.")]
    state = _state(income >= INCOME_TO_VALUE * yearly, income >= yearly)
    note = (f"The team's combined yearly income is £{income:,}; tenders often ask for at "
            "least twice a contract's yearly value.")
    if unknown:
        note += f" No income is recorded for {', '.join(unknown)}."
    return [Need("capacity", f"Capacity for about £{yearly:,} a year", state,
                 [m.organisation.name for m in members if m.organisation.latest_income],
                 note=note)]


def coverage(team, suggest=True):
    """The coverage matrix of a consortium, with suggested partners for its gaps."""
    from portal.consortia.suggestions import suggest as suggest_for

    opportunity, entry = team.opportunity, team.lot or team.opportunity
    members, base = team.members, MatchQuery.from_opportunity(entry)
    needs = (category_needs(entry, members, base) + area_needs(entry, members, base) +
             client_group_needs(opportunity, members, base) + level_need(opportunity, members) +
             capacity_need(entry, opportunity, members))
    if suggest:
        leave_out = {m.organisation_id for m in members}
        for need in [n for n in needs if n.state in ("gap", "partly") and n.query][
                :MAX_GAPS_SUGGESTED]:
            need.suggestions = list(suggest_for(need.query, leave_out, SUGGESTED_PER_GAP,
                                                need.filters))
    return needs
