"""Rebuild places.csv.gz: place names beyond the authorities, counties, regions and nations in
seed/reference/areas.csv, each mapped to the current local authorities it covers.

Run from the repository root with the shared geography lookups beside it:

    python seed/reference/build_places.py ../shared/data/uk_geography

Sources (ONS Open Geography via drkane/geo-lookups; Open Government Licence v3.0): former
district names (abolished councils point at their successors), former and current upper-tier
names, combined authorities, and ward names that belong to exactly one authority. "Contains
National Statistics data © Crown copyright and database right."
"""
import csv
import gzip
import re
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Ward names end in these words ("Witney Central", "Aylesbury North"); without them they
# name a town.
WARD_SUFFIXES = re.compile(
    r"[\s,&-]+(north|south|east|west|central|town|rural|urban|north east|north west|"
    r"south east|south west|and district|with [a-z ]+|\d+)$")
# Ward names that are also everyday words ("Street", "Academy", "Phoenix"): in prose they name
# a thing far more often than a place.
COMMON_WORDS = set("""
academy bethel bridges brook brunel chapel common county douglas downs east end granby haven
highlands junction lawrence lodge march meadows orchard parks pennine phoenix saffron saints scott
station street wessex central park abbey castle valley village hospital church market bridge
riverside harbour forest green hill heath university college school cathedral priory grange
manor mill moor fields gardens garden lakes island islands marsh north south east west hope
victoria albert queens kings princes prince royal trinity st james st marys st john st johns
oak tree oak tree hall halls tower towers quay docks dock beach coast mount new town old town
""".split()) | {"east end", "oak tree", "st james", "st marys", "st johns", "st john", "st paul",
               "st martin", "new town", "old town", "st. james", "st paul's"}
# Hand-kept names people use for areas that are not councils today.
ALIASES = {
    "tyne and wear": ["Newcastle upon Tyne", "North Tyneside", "South Tyneside", "Gateshead",
                      "Sunderland"],
    "merseyside": ["Liverpool", "Knowsley", "Sefton", "St. Helens", "Wirral"],
    "west yorkshire": ["Leeds", "Bradford", "Calderdale", "Kirklees", "Wakefield"],
    "south yorkshire": ["Sheffield", "Rotherham", "Doncaster", "Barnsley"],
    "sussex": ["East Sussex", "West Sussex", "Brighton and Hove"],
    "lanarkshire": ["North Lanarkshire", "South Lanarkshire"],
    "ayrshire": ["North Ayrshire", "South Ayrshire", "East Ayrshire"],
    "teesside": ["Middlesbrough", "Stockton-on-Tees", "Redcar and Cleveland", "Hartlepool"],
    "oxon": ["Oxfordshire"],
    "yorkshire": ["Yorkshire and The Humber"],
    "greater london": ["London"],
    "london-wide": ["London"],
    "uk": ["England", "Wales", "Scotland", "Northern Ireland"],
    "united kingdom": ["England", "Wales", "Scotland", "Northern Ireland"],
    "great britain": ["England", "Wales", "Scotland"],
    "england and wales": ["England", "Wales"],
    "national/multi-regional": ["England", "Wales", "Scotland", "Northern Ireland"],
}


def read(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def norm(name):
    return re.sub(r"\s+", " ", name.lower().replace("&", " and ")).strip()


def main(source):
    source = Path(source)
    seed = read(HERE / "areas.csv")
    known = {norm(row["name"]) for row in seed}
    by_name = {norm(row["name"]): row["code"] for row in seed}
    rows = []
    groups = defaultdict(set)
    for row in read(source / "la_all_codes.csv"):
        groups[("former", norm(row["LADNM"]))].add(row["LADCD_ACTIVE"])
        groups[("county", norm(row["UTLANM"]))].add(row["LADCD_ACTIVE"])
        if row["CAUTHNM"]:
            groups[("combined", norm(row["CAUTHNM"]))].add(row["LADCD_ACTIVE"])
    wards, towns = defaultdict(set), defaultdict(set)
    for row in read(source / "ward_all_codes.csv"):
        name = norm(row["WDNM"])
        wards[name].add(row["LADCD_ACTIVE"])
        towns[WARD_SUFFIXES.sub("", name)].add(row["LADCD_ACTIVE"])
    for name, codes in list(wards.items()) + list(towns.items()):
        if len(codes) == 1 and len(name) >= 4 and name not in COMMON_WORDS \
                and not re.search(r"\d|:", name):
            groups[("ward", name)] |= codes
    seen = set(known)
    for kind in ("former", "county", "combined", "ward"):
        for (group_kind, name), codes in sorted(groups.items()):
            if group_kind == kind and name not in seen and name:
                rows.append((name, kind, " ".join(sorted(codes))))
                seen.add(name)
    for name, targets in ALIASES.items():
        rows.append((name, "alias", " ".join(by_name[norm(t)] for t in targets)))
    with gzip.open(HERE / "places.csv.gz", "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("name", "kind", "codes"))
        writer.writerows(sorted(rows))
    print(f"{len(rows)} places", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
