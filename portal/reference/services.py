"""Lookups over reference data: the CPV hierarchy and the everyday words for its codes, areas
and postcodes."""
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache

from flask import g, has_request_context
from sqlalchemy import case, or_, select

from portal.extensions import db
from portal.reference.loaders import CPV_LEVELS, everyday_term_rows, read_seed_csv
from portal.reference.models import AREA_KIND_LABELS, AREA_KINDS, Area, CpvCode

CHECK_DIGIT_RE = re.compile(r"^(\d{8})-\d$")
POSTCODE_RE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})$")
WORD_RE = re.compile(r"[^\W_]+")
# Left out of every comparison, so "drug and alcohol" also reads "drugs or alcohol".
STOPWORDS = frozenset({"a", "an", "and", "the", "of", "or"})
# Query words a search need not account for: "services for carers" is a search for carers.
QUERY_FILLERS = frozenset({"for", "with", "to", "in", "at", "on", "by", "from", "service"})
IRREGULAR_PLURALS = {"children": "child", "women": "woman"}
# A query word this long may be the start of a term's word ("counsel" -> "counselling").
MIN_PREFIX = 5
PROJECT_SOURCE = "project"
# How closely a query fits an everyday term, closest first.
SAME, IN_TERM, STARTS_TERM, PART_OF_QUERY = range(4)


# --- CPV ---------------------------------------------------------------------------------

def cpv_descendant_prefix(code):
    """Return the digits every code under `code` starts with ("85311000" -> "85311").

    Divisions keep both digits: "80000000" -> "80", so nursing (85…) is not under education.
    """
    significant = code.rstrip("0")
    return code[: max(2, len(significant))]


def cpv_labels(codes):
    """{code: "code description"} for the CPV codes given (unknown codes are left out)."""
    codes = list(dict.fromkeys(codes))
    if not codes:
        return {}
    return {c.code: c.label for c in db.session.scalars(
        select(CpvCode).where(CpvCode.code.in_(codes)))}


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
    """Find CPV codes by code ("8531", "85311000-2"), by everyday words or by the words of
    the official description, as `CpvMatch` results.

    People rarely know CPV wording, so codes found through an everyday term ("mental health"
    -> Community health services) come first, closest fit first, labelled with the term's
    plain name. Codes whose description holds every query word follow, broader codes and then
    social-service codes first, so "welfare" offers the headings a VCSE is likely to want
    before narrow sub-categories; last come codes for terms that cover only part of the query.
    Plurals are folded on both sides ("carer" finds "carers"). A code search answers as it
    always has: the codes under that prefix, broadest first.
    """
    q = (q or "").strip()
    if not q:
        return []
    digits = CHECK_DIGIT_RE.sub(r"\1", q.replace(" ", ""))
    if digits.isdigit():
        return [CpvMatch(cpv) for cpv in _cpv_ranked(CpvCode.code.startswith(digits), limit)]
    typed = _words(q)
    if not typed:
        return []
    whole, partial = _plain_matches(tuple(_fold_plural(word) for word in typed))
    described = _cpv_ranked(_description_has_all(typed), limit)
    codes = list(dict.fromkeys([*whole, *(cpv.code for cpv in described), *partial]))[:limit]
    found = {cpv.code: cpv for cpv in db.session.scalars(
        select(CpvCode).where(CpvCode.code.in_(codes)))}
    labels = partial | whole
    return [CpvMatch(found[code], labels.get(code)) for code in codes if code in found]


@dataclass(frozen=True)
class CpvMatch:
    """A CPV code a search found, with the plain label of the everyday term that found it."""

    cpv: CpvCode
    plain_label: str | None = None

    @property
    def code(self):
        return self.cpv.code

    @property
    def description(self):
        return self.cpv.description

    @property
    def level(self):
        return self.cpv.level

    @property
    def is_social_service(self):
        return self.cpv.is_social_service

    @property
    def display_label(self):
        """The plain name first, then the official wording and the code:
        "Mental health support — Community health services (85323000)"."""
        official = f"{self.cpv.description} ({self.cpv.code})"
        return f"{self.plain_label} — {official}" if self.plain_label else official


def _description_has_all(words):
    """Every word in the description, as typed or with its plural folded ("families" also
    finds "Family allowances")."""
    return db.and_(*[
        or_(*[CpvCode.description.ilike(f"%{form}%")
              for form in dict.fromkeys((word, _fold_plural(word)))])
        for word in words])


def _cpv_ranked(condition, limit):
    breadth = case({level: rank for rank, level in enumerate(CPV_LEVELS)}, value=CpvCode.level)
    query = (select(CpvCode).where(condition)
             .order_by(breadth, CpvCode.is_social_service.desc(), CpvCode.code).limit(limit))
    return db.session.scalars(query).all()


# --- everyday words for CPV codes ----------------------------------------------------------------

@dataclass(frozen=True)
class EverydayTerm:
    """A word people use for a service, one CPV code it stands for, and the label to show."""

    term: str
    words: tuple
    code: str
    label: str
    source: str
    label_words: frozenset


def everyday_words(text):
    """The words of `text` as everyday terms are compared: lower case, apostrophes dropped,
    plurals folded ("carers" -> "carer", "families" -> "family"), "and", "or", "of" and "the"
    left out."""
    return tuple(_fold_plural(word) for word in _words(text))


def _words(text):
    text = re.sub(r"['’]", "", (text or "").lower())
    return [word for word in WORD_RE.findall(text) if word not in STOPWORDS]


def _fold_plural(word):
    """A simple plural fold, applied alike to terms and to what is compared with them, so
    its occasional odd stem ("news" -> "new") still matches itself."""
    word = IRREGULAR_PLURALS.get(word, word)
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return IRREGULAR_PLURALS.get(word[:-1], word[:-1])
    return word


@lru_cache(maxsize=1)
def everyday_terms():
    """Every row of seed/reference/cpv_everyday_terms.csv, each term's best code first."""
    return tuple(EverydayTerm(row["term"], everyday_words(row["term"]), row["code"],
                              row["label"], row["source"], frozenset(everyday_words(row["label"])))
                 for row in everyday_term_rows())


def everyday_cpv_codes(text):
    """CPV codes whose everyday terms occur in `text`: evidence of the kind of work it
    describes, for ranking and suggestions.

    Terms match whole words with plurals folded ("young carers" matches "young carer").
    Where terms overlap the longest wins, so "mental health" is not also read as "health".
    Codes come in the order their terms first appear, each term's best fit first.
    """
    words = everyday_words(text)
    starts, codes_for = _everyday_phrases()
    codes, position = [], 0
    while position < len(words):
        phrase = next((p for p in starts.get(words[position], ())
                       if words[position:position + len(p)] == p), None)
        codes += codes_for[phrase] if phrase else []
        position += len(phrase) if phrase else 1
    return list(dict.fromkeys(codes))


@lru_cache(maxsize=1)
def _everyday_phrases():
    """Terms by their first word (longest first), and each term's codes (project terms first)."""
    terms = sorted(everyday_terms(), key=lambda t: t.source != PROJECT_SOURCE)
    codes_for = defaultdict(list)
    for term in terms:
        if term.words and term.code not in codes_for[term.words]:
            codes_for[term.words].append(term.code)
    starts = defaultdict(list)
    for phrase in sorted(codes_for, key=len, reverse=True):
        starts[phrase[0]].append(phrase)
    return dict(starts), dict(codes_for)


def _plain_matches(words):
    """Codes whose everyday terms fit the query words, closest first, each with its label:
    those whose terms account for the whole query, and those whose terms are only part of it."""
    terms = everyday_terms()
    scored = sorted((fit, *_closeness(words, term), position)
                    for position, term in enumerate(terms)
                    if (fit := _term_fit(words, term.words)) is not None)
    whole, partial = {}, {}
    for fit, *_closer, position in scored:
        term = terms[position]
        (partial if fit == PART_OF_QUERY else whole).setdefault(term.code, term.label)
    return whole, partial


def _closeness(words, term):
    """Among terms that fit alike, the closer first: more of the query's words covered, fewer
    words the query did not ask for, the query's words in the label, the project's own terms."""
    needed = (set(words) - QUERY_FILLERS) or set(words)
    return (-len(needed & set(term.words)), len(set(term.words) - set(words)),
            not needed <= term.label_words, term.source != PROJECT_SOURCE)


def _term_fit(query, term):
    """How a query fits a term's words (SAME … PART_OF_QUERY), or None when it does not."""
    query, term = set(query), set(term)
    needed = (query - QUERY_FILLERS) or query
    if not term:
        return None
    if needed == term or query == term:
        return SAME
    if needed <= term:
        return IN_TERM
    if all(word in term or (len(word) >= MIN_PREFIX and any(t.startswith(word) for t in term))
           for word in needed):
        return STARTS_TERM
    return PART_OF_QUERY if term <= query else None


# --- areas -------------------------------------------------------------------------------

def expand_area_codes(codes):
    """Return the codes of the current local authorities inside any of `codes`.

    A country, region or county stands for every authority within it; an authority stands
    for itself. Unknown codes are ignored.
    """
    codes = {code for code in codes or () if code}
    if not codes:
        return set()
    if has_request_context():  # pages expand many areas: one query for all of them
        inside = _authorities_inside()
        return set().union(*(inside.get(code, ()) for code in codes))
    query = select(Area.code).where(Area.kind == "authority", or_(
        Area.code.in_(codes), Area.county_code.in_(codes),
        Area.region_code.in_(codes), Area.country_code.in_(codes),
    ))
    return set(db.session.scalars(query))


def area_rows():
    """Every area's code, name, kind, county, region and nation: read once per request by
    whatever needs them (filters, facets, expansions), outside one from the database each time
    (the areas change only when the reference data is loaded again)."""
    if not has_request_context():
        return _read_area_rows()
    if "area_rows" not in g:
        g.area_rows = _read_area_rows()
    return g.area_rows


def _read_area_rows():
    return db.session.execute(select(Area.code, Area.name, Area.kind, Area.county_code,
                                     Area.region_code, Area.country_code)).all()


def _authorities_inside():
    """{area code: codes of the authorities inside it (an authority: itself)}, worked out once
    per request."""
    if "authorities_inside" not in g:
        inside = defaultdict(set)
        for a in area_rows():
            if a.kind == "authority":
                for code in (a.code, a.county_code, a.region_code, a.country_code):
                    if code:
                        inside[code].add(a.code)
        g.authorities_inside = dict(inside)
    return g.authorities_inside


@dataclass(frozen=True)
class AreaChoice:
    """An area as a filter's choice list needs it (a full row each cost a page 10 ms)."""

    code: str
    name: str
    kind: str

    @property
    def kind_label(self):
        return AREA_KIND_LABELS[self.kind]

    @property
    def label(self):
        return f"{self.name} ({self.kind_label})"


def area_choices():
    """Every area, nations first, then regions, counties and authorities, each by name."""
    return sorted((AreaChoice(a.code, a.name, a.kind) for a in area_rows()),
                  key=lambda a: (AREA_KINDS.index(a.kind), a.name))


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
