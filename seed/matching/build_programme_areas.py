"""Rebuild programme_areas.csv: the patch each regional grant programme covers.

Some funders run a programme per region ("XA6 - Community" is Lloyds Bank Foundation's
programme for Wales). The grant records name the programme but not the region, so this reads
where each programme's recipients are based and keeps the programmes whose grants sit in a
clearly bounded patch. The table lists areas only, no organisations or grants.

Run from the repository root:

    python seed/matching/build_programme_areas.py \
        --exclude ../shared/data/grants_360giving/dev_benchmark/queries.jsonl

`--exclude` (repeatable) names JSON-lines files whose `grant_id`s are left out, so grants kept
back for measuring the matcher do not shape the table. Standard library only; the output of the
same inputs is byte-identical.
"""
import argparse
import csv
import gzip
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from portal.matching.features import normalise_funder  # noqa: E402
from portal.reference.places import gazetteer  # noqa: E402
from portal.matching.programmes import normalise_programme  # noqa: E402
from portal.reference.services import authority_for_postcode  # noqa: E402

GRANTS = ROOT / "seed" / "grants" / "grants_flat.csv.gz"
OUTPUT = Path(__file__).resolve().parent / "programme_areas.csv"
# A programme needs this many grants with a known place before its patch is trusted.
MIN_GRANTS = 20
# A county or region belongs to the patch when it holds at least this many of the grants.
MIN_UNIT_GRANTS = 2
# The patch must hold this share of the programme's grants...
MIN_SHARE = 0.9
# ...cover at most this share of the country's authorities...
MAX_AUTHORITY_SHARE = 0.6
# ...and hold at most this share of all the funder's grants (otherwise the programme simply
# goes where the funder goes, and the patch tells nothing).
MAX_FUNDER_SHARE = 0.6


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grants", default=str(GRANTS))
    parser.add_argument("--exclude", action="append", default=[])
    parser.add_argument("--output", default=str(OUTPUT))
    args = parser.parse_args()
    skip = {json.loads(line)["grant_id"] for path in args.exclude
            for line in open(path, encoding="utf-8") if line.strip()}
    counts, names, funder_counts = read_grants(args.grants, skip)
    rows = [row for key, places in sorted(counts.items())
            for row in [patch(key, places, funder_counts[key[0]], names[key])] if row]
    with open(args.output, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["funder", "programme", "name", "level", "codes",
                                         "grants", "share"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} regional programmes written to {args.output}", file=sys.stderr)


def read_grants(path, skip):
    counts, names, funder_counts = defaultdict(Counter), defaultdict(Counter), defaultdict(Counter)
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            authority = authority_for_postcode(row["recipient_postcode"])
            if row["id"] in skip or not authority:
                continue
            funder = normalise_funder(row["funder_name"])
            funder_counts[funder][authority] += 1
            for programme in row["grant_programme"].split("|"):
                key = (funder, normalise_programme(programme))
                if key[1]:
                    counts[key][authority] += 1
                    names[key][programme.strip()] += 1
    return counts, names, funder_counts


def patch(key, places, funder_places, names):
    """The smallest units (counties, else regions) that hold the programme's grants."""
    total = sum(places.values())
    if total < MIN_GRANTS:
        return None
    gaz = gazetteer()
    for level, unit in (("county", _county), ("region", _region)):
        units = Counter()
        for authority, count in places.items():
            units[unit(gaz, authority)] += count
        kept = sorted(u for u, count in units.items() if count >= MIN_UNIT_GRANTS)
        covered = gaz.expand(kept)
        share = sum(units[u] for u in kept) / total
        funder_share = (sum(c for a, c in funder_places.items() if a in covered)
                        / sum(funder_places.values()))
        if (share >= MIN_SHARE and len(covered) <= MAX_AUTHORITY_SHARE * gaz.total_authorities
                and funder_share <= MAX_FUNDER_SHARE):
            name = min(names.items(), key=lambda item: (-item[1], item[0]))[0]
            return {"funder": key[0], "programme": key[1], "name": name, "level": level,
                    "codes": " ".join(kept), "grants": total, "share": f"{share:.2f}"}
    return None


def _county(gaz, authority):
    return gaz.areas[authority]["county_code"] or authority


def _region(gaz, authority):
    row = gaz.areas[authority]
    return row["region_code"] or row["country_code"]


if __name__ == "__main__":
    main()
