"""Rebuild cpv_everyday_terms.csv: the words people use for VCSE services, each mapped to the
CPV codes a public body would buy that service under, with a plain label to show first.

Run from the repository root with the shared charity classification lists beside it:

    python seed/reference/build_cpv_terms.py ../shared/data/charity_classifications

Inputs:
- cpv_everyday_terms.yaml beside this script (written for this project): the services, their
  plain labels, one to three CPV codes each, the everyday words for them, and which charity
  register terms point at which service;
- cpv_codes.csv.gz beside it: every code in the YAML must exist there with the description
  the YAML gives for it, so a code is never used without its official wording being read;
- the charity classification lists (CCNI "who" and "how" terms and OSCR purposes and
  beneficiaries as observed in the registers, OGL v3; the Charity Commission classification,
  ICNPO and ICNPTSO lists from drkane/charity-lookups, ODbL 1.0): every register term named
  in the YAML must appear in them, spelled the same.

Output columns: term, cpv_code, label, source. Rows of one term are in order of fit, best
first; the file is sorted by term and is byte-identical for the same inputs.

`--evidence` prints, instead of writing, which CPV codes buyers chose for the contract notices
in seed/procurement whose text uses each service's words: a check to read by eye, not an input.
"""
import argparse
import csv
import gzip
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SPEC = HERE / "cpv_everyday_terms.yaml"
OUTPUT = HERE / "cpv_everyday_terms.csv"
NOTICES = HERE.parent / "procurement" / "notices_flat.csv.gz"
PROJECT = "project"
# Where each vocabulary in the YAML is found, and how the source column names it.
VOCABULARIES = {
    "ccni_who": ("register_category_vocabularies_observed.csv", "value", "CCNI register (who)"),
    "ccni_how": ("register_category_vocabularies_observed.csv", "value", "CCNI register (how)"),
    "oscr_purposes": ("register_category_vocabularies_observed.csv", "value",
                      "OSCR register (purposes)"),
    "oscr_beneficiaries": ("register_category_vocabularies_observed.csv", "value",
                           "OSCR register (beneficiaries)"),
    "ccew": ("ccew_classification_codes.csv", "name", "Charity Commission classification"),
    "icnpo": ("icnpo_categories.csv", "icnpo_desc", "ICNPO"),
    "icnptso": ("icnptso_categories.csv", "Title", "ICNPTSO"),
}
MAX_CODES = 3


def read_csv(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def read_spec(path=SPEC):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def cpv_descriptions(path=HERE / "cpv_codes.csv.gz"):
    return {row["code"]: row["description"] for row in read_csv(path)}


def register_terms(folder):
    """The terms each vocabulary really holds, read from the classification lists."""
    terms = defaultdict(set)
    for vocabulary, (filename, column, _name) in VOCABULARIES.items():
        for row in read_csv(Path(folder) / filename):
            if filename.startswith("register_") and row["vocabulary"] != vocabulary:
                continue
            terms[vocabulary].add((row[column] or "").strip())
    return terms


def problems(spec, descriptions, known_terms):
    """Everything in the YAML that does not agree with its sources; empty when all is well."""
    found = [f"{code}: not a CPV code" for code in spec["codes"] if code not in descriptions]
    found += [f"{code}: the CPV says {descriptions[code]!r}, not {text!r}"
              for code, text in spec["codes"].items()
              if code in descriptions and descriptions[code] != text]
    for service in spec["services"]:
        codes = service["codes"]
        if not 1 <= len(codes) <= MAX_CODES or len(set(codes)) != len(codes):
            found.append(f"{service['label']}: needs one to {MAX_CODES} different codes")
        found += [f"{service['label']}: {code} is not listed under codes"
                  for code in codes if code not in spec["codes"]]
    labels = {service["label"] for service in spec["services"]}
    for vocabulary, mapping in spec["vocabularies"].items():
        for term, pointers in mapping.items():
            if term not in known_terms.get(vocabulary, ()):
                found.append(f"{vocabulary}: {term!r} is not in the source list")
            found += [f"{vocabulary}: {term!r} points at unknown service {label!r}"
                      for label in pointers if label not in labels]
    return found


def rows(spec):
    """One row per (term, code): the project's own words first, then the register terms.

    A term already given the same code by an earlier source is not repeated.
    """
    services = {service["label"]: service for service in spec["services"]}
    candidates = [(term, service, PROJECT)
                  for service in spec["services"] for term in service["terms"]]
    for vocabulary, mapping in spec["vocabularies"].items():
        source = VOCABULARIES[vocabulary][2]
        candidates += [(term, services[label], source)
                       for term, pointers in mapping.items() for label in pointers]
    seen, out = set(), []
    for term, service, source in candidates:
        for code in service["codes"]:
            key = (term.casefold(), code)
            if key not in seen:
                seen.add(key)
                out.append({"term": term, "cpv_code": code, "label": service["label"],
                            "source": source})
    # A stable sort keeps each term's codes in their order of fit.
    return sorted(out, key=lambda row: row["term"].casefold())


def write(table, path=OUTPUT):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["term", "cpv_code", "label", "source"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)


def evidence(spec, notices):
    """For each service: notices using its words, and how many of them carry each of its codes."""
    lines = []
    for service in spec["services"]:
        pattern = re.compile(r"(?<!\w)(?:" + "|".join(
            re.escape(term.lower()) for term in service["terms"]) + r")s?(?!\w)")
        hits = [n for n in notices
                if pattern.search(f"{n['title']} {n['description']}".lower())]
        used = Counter(code for n in hits for code in _notice_codes(n))
        ours = ", ".join(f"{code}×{used[code]}" for code in service["codes"])
        others = ", ".join(f"{code}×{count}" for code, count in used.most_common(4)
                           if code not in service["codes"])
        lines.append(f"{service['label']}: {len(hits)} notices; ours {ours}; others {others}")
    return lines


def _notice_codes(notice):
    codes = [notice["cpv_main"]] + notice["cpv_additional"].split("|")
    return dict.fromkeys(code for code in codes if code)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("classifications", type=Path,
                        help="folder holding the charity classification lists")
    parser.add_argument("--evidence", action="store_true",
                        help="print the contract-notice check instead of writing the file")
    args = parser.parse_args(argv)
    spec = read_spec()
    found = problems(spec, cpv_descriptions(), register_terms(args.classifications))
    if found:
        sys.exit("\n".join(found))
    if args.evidence:
        print("\n".join(evidence(spec, read_csv(NOTICES))))
        return
    table = rows(spec)
    write(table)
    services = len(spec["services"])
    words = sum(len(service["terms"]) for service in spec["services"])
    print(f"{OUTPUT.name}: {len(table)} rows; {services} services, {words} everyday terms, "
          f"{len({row['term'] for row in table}) - words} register terms")


if __name__ == "__main__":
    main()
