"""Grant programmes that cover a region: where a funder's programme does its work.

A programme title can say where the work is without naming a place: Lloyds Bank Foundation's
"XA6 - Community" programme funds in Wales. seed/matching/programme_areas.csv (built by the
script beside it from where past recipients are based) maps such programmes to the counties or
regions they cover, so the matcher reads them like a place named in the text.
"""
import re
from functools import lru_cache

from portal.reference.places import Place, gazetteer
from portal.reference.loaders import read_seed_csv

PROGRAMME_AREAS = "matching/programme_areas.csv"


def normalise_programme(title):
    """A key for a programme title: lower case, spaces collapsed."""
    return re.sub(r"\s+", " ", (title or "").strip().lower())


@lru_cache(maxsize=1)
def programme_areas():
    """(funder key, programme key) -> Place covering the programme's patch."""
    gaz = gazetteer()
    table = {}
    for row in read_seed_csv(PROGRAMME_AREAS):
        codes = frozenset(gaz.expand(row["codes"].split()))
        if codes:
            table[(row["funder"], row["programme"])] = Place(
                f"the area of the '{row['name']}' programme", "programme", codes)
    return table


def programme_places(funder_key, programmes):
    """Places covered by the named programmes of a funder (`programmes` may be '|'-joined)."""
    if not funder_key or not programmes:
        return []
    table = programme_areas()
    keys = (normalise_programme(p) for p in programmes.split("|"))
    return [table[(funder_key, key)] for key in keys if (funder_key, key) in table]
