"""What an opportunity looks like to the matcher, and what the matcher reads out of it."""
import re
from dataclasses import dataclass
from functools import cached_property

from portal.matching.evidence import Scale, place_terms, service_terms, telling_terms
from portal.matching.features import normalise_funder
from portal.matching.programmes import programme_places
from portal.reference.places import Place, find_places, gazetteer
from portal.search.services import surface_forms, terms

# Capitalised short words that are acronyms but say nothing about who the supplier is.
COMMON_ACRONYMS = {
    "UK", "NHS", "CIC", "CIO", "LTD", "PLC", "COVID", "LGBT", "LGBTQ", "BAME", "BME", "SEND",
    "ESOL", "ICT", "IT", "CEO", "GP", "GPS", "DCLG", "DWP", "ADHD", "HIV", "AIDS", "NEET", "NEETS",
    "PTSD", "ASD", "FTE", "MP", "EU", "TV", "CV", "OK", "II", "III", "IV", "AND", "THE", "FOR",
    # The language of tendering: invitations, questionnaires and notices.
    "ITT", "ITQ", "RFQ", "RFP", "RFI", "PQQ", "SQ", "PIN", "OJEU", "FTS", "TUPE", "KPI", "KPIS",
    "SLA", "VAT", "GDPR", "DBS", "DPS", "SME", "SMES", "VCSE", "VCSES", "VCS", "PPN", "LTD",
}
ACRONYM_RE = re.compile(r"\b[A-Z][A-Z&]{2,7}\b")


@dataclass
class MatchQuery:
    """An opportunity as the matcher sees it. Every field is optional."""

    title: str = ""
    description: str = ""
    cpv_codes: tuple = ()
    area_codes: tuple = ()
    value: float | None = None
    buyer_name: str = ""
    programme: str = ""
    location_text: str = ""
    recommended_tier: int | None = None
    # Who may take part at all: a tier the funder requires, and a reservation ("sme_vcse", or
    # "location" with the area the supplier must be based in).
    required_tier: int | None = None
    reservation: str | None = None
    reservation_area_code: str | None = None
    # What the reasons call the thing being matched: an "entry", or a "role" or "package"
    # within one.
    noun: str = "entry"

    @classmethod
    def from_opportunity(cls, opp):
        """Read a forward-plan Opportunity, or one of its Lots (portal.pipeline.models).

        A lot has its own title, description, value, categories and areas; what it lacks (the
        buyer, the recommended tier, often the areas) comes from its opportunity.
        """
        parent = getattr(opp, "opportunity", None)
        whole = parent or opp
        cpv = [getattr(opp, "main_cpv_code", None)]
        cpv += _codes(getattr(opp, "additional_cpv", None) or getattr(opp, "cpv_codes", None))
        areas = list(_codes(getattr(opp, "areas", None))) or list(_codes(whole.areas))
        reserved_area = getattr(whole, "reservation_area_code", None)
        if reserved_area:
            areas.append(reserved_area)
        extra = [getattr(opp, "outcomes", None)]
        extra += [t.value for t in getattr(whole, "client_groups", None) or ()]
        buyer = getattr(whole, "organisation", None)
        return cls(
            title=opp.title or "",
            description="\n".join(t for t in [opp.description, *extra] if t),
            cpv_codes=tuple(dict.fromkeys(c for c in cpv if c)),
            area_codes=tuple(dict.fromkeys(areas)),
            value=opp.value_max or opp.value_min,
            buyer_name=getattr(buyer, "name", "") or "",
            recommended_tier=getattr(whole, "accreditation_tier", None),
            required_tier=getattr(whole, "accreditation_tier", None)
            if getattr(whole, "accreditation_requirement", None) == "required" else None,
            reservation=getattr(whole, "reservation", None),
            reservation_area_code=reserved_area,
        )

    # --- what the matcher reads out of it -----------------------------------------------------

    @cached_property
    def text(self):
        return f"{self.title}\n{self.description}"

    @cached_property
    def title_terms(self):
        return frozenset(terms(self.title))

    @cached_property
    def weighted_terms(self):
        """Each distinct index term that can say what the service is, once; words in the title
        count a little more. Place names are left to the area signal, and the words of any
        notice ("services", "provider", "council") to nobody."""
        weights = {}
        for term in terms(self.text):
            weights[term] = 1.5 if term in self.title_terms else 1.0
        return service_terms(sorted(weights.items()), leave_out=self.place_words)

    @cached_property
    def evidence_scale(self):
        """The entry's telling words weighed by rarity (see portal.matching.evidence)."""
        return Scale.of(telling_terms(self.weighted_terms))

    @cached_property
    def place_words(self):
        """Index terms of the places the entry names or works in."""
        named = find_places(self.text, wards=False) + find_places(self.location_text,
                                                                   strict=False)
        return place_terms(self.places + named)

    @cached_property
    def surface(self):
        return surface_forms(self.text)

    @cached_property
    def places(self):
        """Where the work is. An entry that names its areas is delivered there, whatever
        its text mentions ("Hackney carriage" licensing in Nottinghamshire, a hospital's
        "Western" wing). Otherwise: the location given, places in the text and in the
        buyer's name (a county council or a community foundation names its patch), and the
        patch of the buyer's programme when it runs one per region."""
        gaz = gazetteer()
        found = [p for code in self.area_codes if code in gaz.areas
                 for p in [_area_place(gaz, code)] if p]
        if found:
            return _unique(found)
        found += find_places(self.location_text, strict=False)
        patch = find_places(self.buyer_name, wards=False)
        # Notices are often in Title Case, where a ward name ("Billing", "Western") is a word.
        in_text = find_places(self.title, wards=False) + \
            find_places(self.description, wards=False)
        found += _within(in_text, patch) + patch
        # A regional programme of the buyer ("XA6 - Community") says where without a place name.
        found += programme_places(self.buyer_key, self.programme)
        return _unique(found)

    @cached_property
    def weighted_places(self):
        """(place, weight) for each place that counts: how specific it is (a district more
        than a region, the whole country hardly at all), and an entry delivered across many
        areas no more specific than all of them together. The same for every supplier, so
        worked out once."""
        gaz = gazetteer()
        scope = gaz.specificity(self.area_scope) if self.area_codes else 1.0
        weighted = [(place, min(scope, gaz.specificity(place.codes))) for place in self.places]
        return [(place, weight) for place, weight in weighted if weight > 0]

    @cached_property
    def area_scope(self):
        """Every authority the entry's places cover."""
        return frozenset().union(*(place.codes for place in self.places))

    @cached_property
    def acronyms(self):
        words = ACRONYM_RE.findall(f"{self.text}\n{self.location_text}")
        return sorted({w.replace("&", "") for w in words} - COMMON_ACRONYMS)

    @cached_property
    def buyer_key(self):
        return normalise_funder(self.buyer_name) if self.buyer_name else ""


def _within(places, patch):
    """The places inside the buyer's patch, when its name gives one: a county council's
    notice that mentions somewhere far away is not delivered there."""
    if not patch:
        return places
    covered = frozenset().union(*(p.codes for p in patch))
    return [p for p in places if p.codes & covered]


def _unique(places):
    unique = {}
    for place in places:
        unique.setdefault(place.codes, place)
    return list(unique.values())


def _codes(values):
    for value in values or ():
        yield getattr(value, "code", value)


def _area_place(gaz, code):
    codes = gaz.expand([code])
    return Place(gaz.areas[code]["name"], gaz.areas[code]["kind"], frozenset(codes)) \
        if codes else None

