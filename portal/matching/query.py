"""What an opportunity looks like to the matcher, and what the matcher reads out of it."""
import re
from dataclasses import dataclass
from functools import cached_property

from portal.matching.features import normalise_funder
from portal.reference.places import Place, find_places, gazetteer
from portal.matching.programmes import programme_places
from portal.search.services import surface_forms, terms

# Capitalised short words that are acronyms but say nothing about who the supplier is.
COMMON_ACRONYMS = {
    "UK", "NHS", "CIC", "CIO", "LTD", "PLC", "COVID", "LGBT", "LGBTQ", "BAME", "BME", "SEND",
    "ESOL", "ICT", "IT", "CEO", "GP", "GPS", "DCLG", "DWP", "ADHD", "HIV", "AIDS", "NEET", "NEETS",
    "PTSD", "ASD", "FTE", "MP", "EU", "TV", "CV", "OK", "II", "III", "IV", "AND", "THE", "FOR",
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
        if getattr(whole, "reservation_area_code", None):
            areas.append(whole.reservation_area_code)
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
        )

    # --- what the matcher reads out of it -----------------------------------------------------

    @cached_property
    def text(self):
        return f"{self.title}\n{self.description}"

    @cached_property
    def weighted_terms(self):
        """Each distinct index term once; words in the title count a little more."""
        title_terms = set(terms(self.title))
        weights = {}
        for term in terms(self.text):
            weights[term] = 1.5 if term in title_terms else 1.0
        return sorted(weights.items())

    @cached_property
    def surface(self):
        return surface_forms(self.text)

    @cached_property
    def places(self):
        """Where the work is: named areas, the location given, places in the text and in the
        buyer's name (a county council or a community foundation names its patch), and the
        patch of the buyer's programme when it runs one per region."""
        gaz = gazetteer()
        found = [p for code in self.area_codes if code in gaz.areas
                 for p in [_area_place(gaz, code)] if p]
        found += find_places(self.location_text, strict=False)
        # Titles are often in Title Case, where a village or ward name is just a word.
        found += find_places(self.title, wards=False)
        found += find_places(self.description)
        found += find_places(self.buyer_name, wards=False)
        # A regional programme of the buyer ("XA6 - Community") says where without a place name.
        found += programme_places(self.buyer_key, self.programme)
        unique = {}
        for place in found:
            unique.setdefault(place.codes, place)
        return list(unique.values())

    @cached_property
    def acronyms(self):
        words = ACRONYM_RE.findall(f"{self.text}\n{self.location_text}")
        return sorted({w.replace("&", "") for w in words} - COMMON_ACRONYMS)

    @cached_property
    def buyer_key(self):
        return normalise_funder(self.buyer_name) if self.buyer_name else ""


def _codes(values):
    for value in values or ():
        yield getattr(value, "code", value)


def _area_place(gaz, code):
    codes = gaz.expand([code])
    return Place(gaz.areas[code]["name"], gaz.areas[code]["kind"], frozenset(codes)) \
        if codes else None

