"""Places named in text, resolved to the current local authorities they cover.

"Where is the work" against "where does this organisation work" is one of the strongest
signals a commissioner weighs, so the matcher reads place names, postcodes and outward codes
("RG9") out of free text. Everything here comes from files under
seed/reference, not the database, so it is loaded once per process and costs no queries.
"""
import csv
import gzip
import math
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from portal.reference.loaders import SEED_DIR, read_seed_csv
from portal.reference.services import authority_for_postcode, clean_postcode

PLACES_FILE = SEED_DIR / "reference" / "places.csv.gz"
MAX_NAME_WORDS = 6
TOKEN_RE = re.compile(r"[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F'.-]*|\d+|&")
FULL_POSTCODE_RE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})\b")
OUTWARD_RE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?$")
# Lower-case words allowed inside a capitalised place name ("Newcastle upon Tyne").
JOINING_WORDS = {"and", "upon", "on", "of", "the", "in", "le", "with", "under", "by", "en", "y"}
# Prefixes people put in front of place names that the lists do not carry.
LEADING_NOISE = ("city of ", "county of ", "borough of ", "royal borough of ", "london borough of ")


@dataclass(frozen=True)
class Place:
    """A named place and the current local authorities it covers."""

    name: str
    kind: str  # authority, county, region, country, former, combined, ward, alias, postcode
    codes: frozenset

    @property
    def breadth(self):
        return len(self.codes)


class Gazetteer:
    """Place names (lower case, '&' spelt 'and') mapped to the authorities they cover."""

    def __init__(self, areas, extra_places):
        self.areas = {row["code"]: row for row in areas}
        self.authorities = {code for code, row in self.areas.items() if row["kind"] == "authority"}
        self.names = {}
        for row in areas:
            self._add(row["name"], row["kind"], self.expand([row["code"]]))
        for name, kind, codes in extra_places:
            self._add(display_name(name), kind, self.expand(codes))

    @cached_property
    def first_words(self):
        """Every word a place name can start with, prefixes like "City of" included."""
        words = {key.split(" ", 1)[0] for key in self.names}
        return frozenset(words | {prefix.split(" ", 1)[0] for prefix in LEADING_NOISE})

    def _add(self, name, kind, codes):
        key = normalise_name(name)
        if key and codes and key not in self.names:
            self.names[key] = Place(name, kind, frozenset(codes))

    def expand(self, codes):
        """Authority codes inside any of `codes` (an authority stands for itself)."""
        result = set()
        for code in codes:
            if code in self.authorities:
                result.add(code)
            elif code in self.areas:
                result |= {a for a in self.authorities if code in _parents(self.areas[a])}
        return result

    def parents(self, authority_code):
        """The county, region and nation an authority sits in."""
        row = self.areas.get(authority_code)
        return _parents(row) if row else ()

    @property
    def total_authorities(self):
        return len(self.authorities)

    def specificity(self, codes):
        """1 for a single authority, falling towards 0 for the whole country."""
        n = len(codes)
        if n == 0:
            return 0.0
        return max(0.0, 1.0 - math.log(n) / math.log(self.total_authorities))


def _parents(row):
    return tuple(c for c in (row["county_code"], row["region_code"], row["country_code"]) if c)


def display_name(name):
    """'blackbird leys' -> 'Blackbird Leys', 'newcastle upon tyne' -> 'Newcastle upon Tyne'."""
    if len(name) <= 3:
        return name.upper()  # "UK"
    words = name.split(" ")
    return " ".join(w if i and w in JOINING_WORDS else w[:1].upper() + w[1:]
                    for i, w in enumerate(words))


def normalise_name(name):
    value = re.sub(r"[\s\-]+", " ", (name or "").lower().replace("&", " and ")).strip()
    return re.sub(r"\s+", " ", value.replace(".", ""))


def _lookup(gaz, words):
    """The place a run of words names, also without a prefix like "City of"."""
    key = normalise_name(" ".join(words))
    place = gaz.names.get(key)
    if place is None:
        for prefix in LEADING_NOISE:
            if key.startswith(prefix):
                return gaz.names.get(key[len(prefix):])
    return place


@lru_cache(maxsize=1)
def gazetteer():
    areas = [{**row, **{k: row[k] or None for k in ("county_code", "region_code", "country_code")}}
             for row in read_seed_csv("reference/areas.csv")]
    with gzip.open(PLACES_FILE, "rt", encoding="utf-8", newline="") as handle:
        extra = [(row["name"], row["kind"], row["codes"].split()) for row in csv.DictReader(handle)]
    return Gazetteer(areas, extra)


def find_places(text, strict=True, wards=True):
    """Places named in `text`, longest names first, each once.

    With `strict` (prose) a name must be written with a capital letter, so "reading" and
    "bath" as words are not read as places; ward and village names are only trusted when
    every word is capitalised. Location fields pass `strict=False`; names of organisations
    pass `wards=False`, since "Lloyds" or "St Thomas'" there names a bank or a hospital.
    """
    gaz = gazetteer()
    tokens = TOKEN_RE.findall(text or "")
    found, i = {}, 0
    while i < len(tokens):
        match = _longest_at(gaz, tokens, i, strict, wards)
        if match:
            place, width = match
            found.setdefault(place.name, place)
            i += width
        else:
            i += 1
    for place in _postcode_places(text or "", whole_field=not strict):
        found.setdefault(place.name, place)
    return list(found.values())


def _longest_at(gaz, tokens, start, strict, wards):
    if strict and not tokens[start][0].isupper():
        return None
    # Most words start no place name: say so before trying every width.
    if normalise_name(tokens[start]).split(" ", 1)[0] not in gaz.first_words:
        return None
    for width in range(min(MAX_NAME_WORDS, len(tokens) - start), 0, -1):
        words = tokens[start:start + width]
        place = _lookup(gaz, words)
        if place and (wards or place.kind != "ward") \
                and (not strict or _capitalised(words, place.kind)):
            return place, width
    return None


def _capitalised(words, kind):
    if kind not in ("ward",):
        return words[-1][0].isupper() or words[-1].isdigit()
    return all(w[0].isupper() for w in words if w.lower() not in JOINING_WORDS) and \
        len(" ".join(words)) >= 5


def _postcode_places(text, whole_field):
    """Full postcodes anywhere; a bare outward code ("RG9") only when it is a whole field entry."""
    places = []
    for outward, inward in FULL_POSTCODE_RE.findall(text.upper()):
        authority = authority_for_postcode(outward + inward)
        if authority:
            places.append(Place(f"{outward} {inward}", "postcode", frozenset([authority])))
    if whole_field:
        for part in re.split(r"[|,;/]", text.upper()):
            part = part.strip()
            if OUTWARD_RE.match(part):
                # Any inward part falls back to the district's usual authority.
                authority = authority_for_postcode(part + "1AA")
                if authority:
                    places.append(Place(part, "postcode", frozenset([authority])))
    return places


def home_authority(postcode):
    """The local authority of a postcode, or None."""
    return authority_for_postcode(postcode) if clean_postcode(postcode) else None


def area_tokens(areas, home=None):
    """Each area's code with the codes of the county, region and nation around it (what an
    index holds so a search in one authority also finds wider areas covering it)."""
    gaz = gazetteer()
    codes = {a.code for a in areas} | ({home} if home else set())
    return sorted(codes | {parent for code in codes for parent in gaz.parents(code)})
