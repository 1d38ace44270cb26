"""Who may take part in an entry at all. A funder may require an accreditation tier (grant
funding only), and a below-threshold procurement may be reserved for SMEs and VCSEs or for
suppliers based in an area: suppliers outside those rules are never matched or recommended,
and the matches page says how many were left out and why."""
from portal.matching.features import held_tier
from portal.reference.places import gazetteer

# The largest turnover of a medium-sized company (Companies Act 2006, s.465, as amended from
# 6 April 2025): a prime contractor whose income is known to be below it is an SME.
SME_TURNOVER = 54_000_000


def split(matches, query, features):
    """(eligible matches in order, {reason: count of those left out})."""
    kept, left_out = [], {}
    for match in matches:
        reason = why_ineligible(query, features.get(match.organisation_id) or {})
        if reason is None:
            kept.append(match)
        else:
            left_out[reason] = left_out.get(reason, 0) + 1
    return kept, left_out


def why_ineligible(query, supplier):
    """The rule a supplier fails, in words, or None when it may take part."""
    if query.required_tier:
        tier = held_tier(supplier)[0]
        if not tier or tier < query.required_tier:
            return f"not accredited at Tier {query.required_tier} or above, which is required"
    if query.reservation == "sme_vcse" and not is_sme_or_vcse(supplier):
        return "not an SME or a VCSE, which the contract is reserved for"
    if query.reservation == "location" and not is_based_in(supplier,
                                                          query.reservation_area_code):
        return f"not based in {_area_name(query.reservation_area_code)}, " \
            "which the contract is reserved for"
    return None


def is_sme_or_vcse(supplier):
    if supplier.get("org_type") == "vcse":
        return True
    income = supplier.get("income")
    return income is not None and income < SME_TURNOVER


def is_based_in(supplier, area_code):
    """Based in the area by its postcode; without one, by serving only places inside it."""
    if not area_code:
        return False
    inside = gazetteer().expand([area_code])
    home, served = supplier.get("home"), supplier.get("served") or ()
    if home:
        return home in inside
    return bool(served) and gazetteer().expand(served) <= inside


def _area_name(code):
    row = gazetteer().areas.get(code)
    return row["name"] if row else "the named area"
