"""Rebuild the files in seed/ from the shared public data sets.

Run from the repository root:  python seed/build_seed.py [--data ../shared/data]

The portal never runs this: it reads only the files written here. The script trims columns
and rows the portal does not use, derives the small area table, and compresses large files.
Output is deterministic (sorted rows, gzip without a timestamp) so a rebuild of unchanged
inputs gives byte-identical files and a clean diff.
"""
import argparse
import csv
import gzip
import io
import re
import shutil
from datetime import datetime
from pathlib import Path

SEED_DIR = Path(__file__).resolve().parent
DEFAULT_DATA = SEED_DIR.parent.parent / "shared" / "data"

POSTCODE_RE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}$")
POSTCODE_AT_END = re.compile(r"([A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})\W*$")
# ONS names some authorities "Bristol, City of"; people say "Bristol".
ONS_NAME_SUFFIX = re.compile(r", (City|County) of$")


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _gzip_writer(path):
    raw = open(path, "wb")
    return gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0), raw


def write_csv(path, fieldnames, rows):
    """Write rows as CSV, gzipped when the name ends in .gz."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=fieldnames, lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    if path.suffix == ".gz":
        zipped, raw = _gzip_writer(path)
        with raw, zipped:
            zipped.write(data)
    else:
        path.write_bytes(data)
    print(f"{path.relative_to(SEED_DIR)}: {len(rows)} rows")


def gzip_copy(source, target):
    """Compress a file unchanged (or copy it when it is already gzipped)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.suffix == ".gz":
        shutil.copyfile(source, target)
    else:
        zipped, raw = _gzip_writer(target)
        with raw, zipped, open(source, "rb") as handle:
            shutil.copyfileobj(handle, zipped)
    print(f"{target.relative_to(SEED_DIR)}: copied")


# --- reference ---------------------------------------------------------------------------

def build_cpv(data):
    rows = sorted(read_csv(data / "cpv_codes" / "cpv_2008_en.csv"), key=lambda r: r["code"])
    write_csv(SEED_DIR / "reference" / "cpv_codes.csv.gz",
              ["code", "description", "level", "parent_code"], rows)
    social = read_csv(data / "cpv_codes" / "cpv_social_services_eforms_en.csv")
    social = [{"code": r["code"], "label": r["label_en"]} for r in social]
    write_csv(SEED_DIR / "reference" / "cpv_social_services.csv", ["code", "label"],
              sorted(social, key=lambda r: r["code"]))


def known_name(name):
    return ONS_NAME_SUFFIX.sub("", name.strip())


def build_areas(data):
    """One table of countries, English regions, counties and current authorities."""
    geo = data / "uk_geography"
    authorities = [r for r in read_csv(geo / "la_all_codes.csv") if r["Current"] == "TRUE"]
    rows = [_area(r["CTRYCD"], r["CTRYNM"], "country")
            for r in read_csv(geo / "ctry_all_codes.csv")]
    rows += [_area(r["RGNCD"], r["RGNNM"], "region", country=r["CTRYCD"])
             for r in read_csv(geo / "rgn_all_codes.csv")]
    counties = {}
    for la in authorities:
        # An upper tier that differs from the authority itself is a two-tier county (E10).
        if la["UTLACD"] and la["UTLACD"] != la["LADCD"]:
            counties[la["UTLACD"]] = _area(la["UTLACD"], la["UTLANM"], "county",
                                           region=la["RGNCD"], country=la["CTRYCD"])
    rows += counties.values()
    rows += [_area(la["LADCD"], la["LADNM"], "authority",
                   county=la["UTLACD"] if la["UTLACD"] in counties else "",
                   region=la["RGNCD"], country=la["CTRYCD"]) for la in authorities]
    write_csv(SEED_DIR / "reference" / "areas.csv",
              ["code", "name", "kind", "county_code", "region_code", "country_code"],
              sorted(rows, key=lambda r: r["code"]))
    return {la["LADCD"]: la["LADCD_ACTIVE"] for la in read_csv(geo / "la_all_codes.csv")}


def _area(code, name, kind, county="", region="", country=""):
    return {"code": code, "name": known_name(name), "kind": kind, "county_code": county,
            "region_code": region, "country_code": country}


def build_postcodes(data, active_lad):
    """Postcode -> current authority, for the sample of postcodes the shared data covers."""
    rows = []
    for row in read_csv(data / "uk_geography" / "postcode_to_lad_sample.csv"):
        authority = row["ladcd_active"] or active_lad.get(row["laua"], "")
        # Old "NPT" Newport codes do not have the shape of a postcode people type today.
        if authority and POSTCODE_RE.match(row["pcd_nospace"]):
            rows.append({"postcode": row["pcd_nospace"], "authority_code": authority})
    write_csv(SEED_DIR / "reference" / "postcodes.csv.gz", ["postcode", "authority_code"],
              sorted(rows, key=lambda r: r["postcode"]))


def build_council_ids(data, active_lad):
    """Council org-ids (GB-LAE-…) -> the area they govern today, when it still exists."""
    rows = []
    for row in read_csv(data / "uk_geography" / "la_orgid_to_gss.csv"):
        code = active_lad.get(row["gss_code"], row["gss_code"])
        rows.append({"org_id": row["org_id"], "name": row["name"],
                     "short_name": row["normalised_name"], "area_code": code,
                     "active": row["active"]})
    write_csv(SEED_DIR / "reference" / "council_org_ids.csv",
              ["org_id", "name", "short_name", "area_code", "active"],
              sorted(rows, key=lambda r: r["org_id"]))


def build_vocabularies(data):
    """CCNI 'who' and 'how' terms, alphabetical (see loaders.py for why)."""
    names = {"ccni_who": "client_group", "ccni_how": "way_of_working"}
    observed = read_csv(data / "charity_classifications"
                        / "register_category_vocabularies_observed.csv")
    rows = []
    for source, vocabulary in names.items():
        values = sorted((r["value"] for r in observed if r["vocabulary"] == source),
                        key=str.casefold)
        rows += [{"vocabulary": vocabulary, "value": value, "position": position}
                 for position, value in enumerate(values, start=1)]
    write_csv(SEED_DIR / "reference" / "vocabulary_terms.csv",
              ["vocabulary", "value", "position"], rows)


# --- organisations and grants ------------------------------------------------------------

def build_ccni(data):
    """The NI register without street addresses, emails or phone numbers (often personal)."""
    rows = []
    for row in read_csv(data / "charities_ni_ccni_register" / "ccni_register_2020-06-30.csv"):
        match = POSTCODE_AT_END.search(row["Public address"].upper().strip())
        rows.append({
            "charity_number": row["Reg charity number"], "name": row["Charity name"].strip(),
            "registered_on": _iso_date(row["Date registered"]), "status": row["Status"],
            "financial_year_end": row["Date for financial year ending"],
            "total_income": row["Total income"], "total_spending": row["Total spending"],
            "postcode": match.group(1) if match else "", "website": row["Website"].strip(),
            "company_number": row["Company number"], "what": row["What the charity does"],
            "who": row["Who the charity helps"], "how": row["How the charity works"],
        })
    write_csv(SEED_DIR / "charities" / "ccni_register_2020-06-30.csv.gz", list(rows[0]),
              sorted(rows, key=lambda r: int(r["charity_number"])))


def _iso_date(value):
    try:
        return datetime.strptime(value.strip(), "%d/%m/%Y").date().isoformat()
    except ValueError:
        return ""


def build_grants(data):
    source = data / "grants_360giving"
    gzip_copy(source / "grants_shared_flat.csv", SEED_DIR / "grants" / "grants_flat.csv.gz")
    # Titles and descriptions are per grant in grants_flat; the profile keeps the identity only.
    columns = ["recipient_key", "registry", "registration_number", "name", "other_names",
               "postcode", "ccew_area_scale", "n_grants", "total_awarded", "first_award", "last_award"]
    rows = read_csv(source / "recipient_profiles_from_shared_grants.csv")
    write_csv(SEED_DIR / "grants" / "recipients.csv.gz", columns,
              sorted(rows, key=lambda r: r["recipient_key"]))


def build_copies(data):
    oscr = data / "charities_scotland_oscr_removed" / "oscr_removed_charities_2020-07-06.csv.gz"
    gzip_copy(oscr, SEED_DIR / "charities" / oscr.name)
    ocds = data / "uk_procurement_ocds"
    for path in sorted(ocds.glob("*.json")) + [ocds / "notices_flat.csv"]:
        gzip_copy(path, SEED_DIR / "procurement" / (path.name + ".gz"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="folder holding the shared data sets (default: ../shared/data)")
    data = parser.parse_args().data.resolve()
    build_cpv(data)
    active_lad = build_areas(data)
    build_postcodes(data, active_lad)
    build_council_ids(data, active_lad)
    build_vocabularies(data)
    build_ccni(data)
    build_grants(data)
    build_copies(data)


if __name__ == "__main__":
    main()
