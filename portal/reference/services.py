"""Lookups over reference data: the CPV hierarchy, areas and postcodes."""
import re
from collections import Counter, defaultdict
from functools import lru_cache

from sqlalchemy import case, or_, select

from portal.extensions import db
from portal.reference.loaders import CPV_LEVELS, read_seed_csv
from portal.reference.models import AREA_KINDS, Area, CpvCode

CHECK_DIGIT_RE = re.compile(r"^(\d{8})-\d$")
POSTCODE_RE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})$")


# --- CPV ---------------------------------------------------------------------------------

def cpv_descendant_prefix(code):
    """Return the digits every code under `code` starts with ("85311000" -> "85311").

    Divisions keep both digits: "80000000" -> "80", so nursing (85…) is not under education.
    """
    significant = code.rstrip("0")
    return code[: max(2, len(significant))]


def cpv_tokens(codes):
    """Every prefix from the division down: "85311000" -> 85, 853, 8531, 85311 (what an index
    holds so a search for a class finds its sub-codes)."""
    tokens = set()
    for code in codes:
        significant = cpv_descendant_prefix(code)
        tokens |= {significant[:n] for n in range(2, len(significant) + 1)}
    return sorted(tokens)


def is_cpv_within(code, ancestor_code):
    """True when `code` is `ancestor_code` or sits anywhere below it."""
    return code.startswith(cpv_descendant_prefix(ancestor_code))


def cpv_children(parent_code=None):
    """The codes directly below `parent_code`, or the divisions when it is None."""
    query = select(CpvCode).where(CpvCode.parent_code.is_(None) if parent_code is None
                                  else CpvCode.parent_code == parent_code)
    return db.session.scalars(query.order_by(CpvCode.code)).all()


def search_cpv(q, limit=20):
    """Find CPV codes by code prefix ("8531", "85311000-2") or by words in the description.

    Broader codes come first, then social-service codes, so a search for "welfare" offers
    the headings a VCSE is likely to want before narrow sub-categories.
    """
    q = (q or "").strip()
    if not q:
        return []
    digits = CHECK_DIGIT_RE.sub(r"\1", q.replace(" ", ""))
    if digits.isdigit():
        condition = CpvCode.code.startswith(digits)
    else:
        condition = db.and_(*[CpvCode.description.ilike(f"%{word}%") for word in q.split()])
    breadth = case({level: rank for rank, level in enumerate(CPV_LEVELS)}, value=CpvCode.level)
    query = (select(CpvCode).where(condition)
             .order_by(breadth, CpvCode.is_social_service.desc(), CpvCode.code).limit(limit))
    return db.session.scalars(query).all()


# --- areas -------------------------------------------------------------------------------

def expand_area_codes(codes):
    """Return the codes of the current local authorities inside any of `codes`.

    A country, region or county stands for every authority within it; an authority stands
    for itself. Unknown codes are ignored.
    """
    codes = {code for code in codes or () if code}
    if not codes:
        return set()
    query = select(Area.code).where(Area.kind == "authority", or_(
        Area.code.in_(codes), Area.county_code.in_(codes),
        Area.region_code.in_(codes), Area.country_code.in_(codes),
    ))
    return set(db.session.scalars(query))


def search_areas(q, limit=20):
    """Areas whose name contains `q`: exact names first, then names starting with `q`,
    then broader kinds of area before narrower ones."""
    q = (q or "").strip()
    if not q:
        return []
    closeness = case((db.func.lower(Area.name) == q.lower(), 0),
                     (Area.name.ilike(f"{q}%"), 1), else_=2)
    breadth = case({kind: rank for rank, kind in enumerate(AREA_KINDS)}, value=Area.kind)
    query = (select(Area).where(Area.name.ilike(f"%{q}%"))
             .order_by(closeness, breadth, Area.name).limit(limit))
    return db.session.scalars(query).all()


def get_area(code):
    return db.session.get(Area, code) if code else None


# --- postcodes ---------------------------------------------------------------------------

def clean_postcode(postcode):
    """Upper-case a postcode without spaces, or return None when it cannot be one.

    A letter O typed for a zero at the start of the inward part ("E5 OPD") is corrected,
    because the inward part always starts with a digit.
    """
    value = re.sub(r"\s+", "", (postcode or "").upper())
    if len(value) >= 5 and value[-3] == "O":
        value = value[:-3] + "0" + value[-2:]
    return value if POSTCODE_RE.match(value) else None


def authority_for_postcode(postcode):
    """Return the GSS code of the current local authority for a postcode, or None.

    The seed holds a sample of postcodes, not all of them. For a postcode outside the sample
    the answer is the authority most sample postcodes in the same sector ("SW1A 1") share,
    then the same district ("SW1A"): a best guess that is right for most postcodes.
    """
    value = clean_postcode(postcode)
    if value is None:
        return None
    exact, by_sector, by_district = _postcode_tables()
    outward = POSTCODE_RE.match(value).group(1)
    return (exact.get(value) or by_sector.get(value[:-2])
            or by_district.get(outward))


@lru_cache(maxsize=1)
def _postcode_tables():
    exact, sectors, districts = {}, defaultdict(Counter), defaultdict(Counter)
    for row in read_seed_csv("reference/postcodes.csv.gz"):
        postcode, authority = row["postcode"], row["authority_code"]
        exact[postcode] = authority
        sectors[postcode[:-2]][authority] += 1
        districts[POSTCODE_RE.match(postcode).group(1)][authority] += 1
    return exact, _majority(sectors), _majority(districts)


def _majority(counters):
    # Ties go to the lower code so the guess never depends on file order.
    return {key: min(c, key=lambda code: (-c[code], code)) for key, c in counters.items()}
