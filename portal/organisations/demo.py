"""Demo organisations and one demo account per role, built from real public data in seed/.

VCSEs come from 360Giving grant recipients, the Charity Commission for Northern Ireland
register and voluntary-sector suppliers named in contract award notices; commissioners are
the buyers in those notices; a few large suppliers stand in for prime contractors. Only
organisations are imported, never individuals, and no email address or phone number comes
across. The accreditation bodies and the demo accounts are fictional.

Everything is chosen in a fixed order (hashes of source ids, never random), so two loads of
the same seed give the same organisations.
"""
import hashlib
import html
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

import yaml
from sqlalchemy import select

from portal.accounts.models import User
from portal.core.audit import record
from portal.core.exceptions import DomainError
from portal.core.mixins import utcnow
from portal.extensions import db
from portal.organisations.models import (
    Organisation, PastWork, normalise_charity_number, normalise_company_number,
)
from portal.reference.loaders import SEED_DIR, read_seed_csv
from portal.reference.models import Area, CpvCode, VocabularyTerm
from portal.reference.services import authority_for_postcode, clean_postcode

DEMO_PASSWORD = "pathfinder-demo-2026"
DEMO_EMAIL_DOMAIN = "demo.pathfinder.test"

GRANT_RECIPIENTS = 850
CCNI_CHARITIES = 380
PRIME_CONTRACTORS = 12
MAX_CPV_CODES = 5
MAX_PAST_WORK = 8
BATCH_SIZE = 300

NO_TEXT = {"", "dummy", "n/a", "none"}
EMAIL_RE = re.compile(r"\S+@\S+")
PHONE_RE = re.compile(r"(?<!\d)(?:\+44\s?|0)\d[\d ]{8,11}\d(?!\d)")
COMPANY_SUFFIX_RE = re.compile(r"\b(ltd|limited|plc|llp)\b\.?", re.I)
CIC_RE = re.compile(r"\b(cic|c\.i\.c\.?|community interest company)\b", re.I)
SOCIETY_RE = re.compile(r"\b(co-?operative|community benefit society|society)\b", re.I)
CIO_RE = re.compile(r"\bcio\b", re.I)
SMALL_WORDS = {"of", "and", "the", "for", "in", "on", "at", "to", "by"}
ACRONYMS = {"NHS", "UK", "CIC", "YMCA", "HS1", "ICT", "BME", "NI", "CCTV"}

# Contract notices flag some firms as voluntary organisations; these words mark the ones
# that really are, so builders and consultancies flagged by mistake stay out.
VOLUNTARY_NAME_WORDS = re.compile(
    r"\b(age uk|mind|mencap|citizens advice|groundwork|community|centre|association|forum|"
    r"aid|care|trust|foundation|project|scheme|family|voice|vision|deaf|women|resource|"
    r"neighbourhood|voluntary|society)\b", re.I)
# Names of e-tendering platforms that publish on a buyer's behalf: not buyers themselves.
NOT_BUYERS = re.compile(r"e-tendering|tenders limited|eu supply", re.I)
NHS_WORDS = re.compile(r"\b(nhs|n h s|icb|ccg|health board|hospital|ambulance)\b", re.I)
COUNCIL_WORDS = re.compile(r"\b(council|borough|comhairle|cyngor)\b", re.I)
# Central bodies buy for a whole nation, so they serve its country, not their office's area.
NATIONAL_WORDS = re.compile(
    r"\b(department|ministry|cabinet office|home office|government|crown commercial|"
    r"national|agency|authority|commission|office|transport scotland|registers of scotland|"
    r"ofcom|ofwat|dvsa|desnz|defra|cps|fcdo)\b", re.I)
NOTICE_SOURCES = {
    "contracts_finder_2025": "Contracts Finder",
    "contracts_finder_2019_2020": "Contracts Finder",
    "sell2wales": "Sell2Wales",
    "public_contracts_scotland": "Public Contracts Scotland",
}


@dataclass
class OrgSpec:
    """Everything needed to create one organisation, before it touches the session."""

    source_ref: str
    name: str
    org_type: str
    legal_form: str | None = None
    other_names: str | None = None
    charity_number: str | None = None
    company_number: str | None = None
    postcode: str | None = None
    website: str | None = None
    income: int | None = None
    description: str | None = None
    contact_role: str | None = None
    cpv: list = field(default_factory=list)
    areas: list = field(default_factory=list)
    terms: list = field(default_factory=list)
    past_work: list = field(default_factory=list)


# --- entry point -------------------------------------------------------------------------

def load_demo(if_empty=False, progress=None):
    """Create the demo organisations and accounts.

    Returns None when `if_empty` is set and organisations already exist; otherwise
    {"organisations": number created, "accounts": {role label: email}}. Organisations and
    accounts that already exist (by source reference or email) are left as they are.
    """
    report = progress or (lambda message: None)
    if if_empty and db.session.scalar(select(Organisation.id).limit(1)) is not None:
        return None
    specs, picks = build_specs(report)
    created = _save(specs, report)
    accounts = _create_accounts(picks)
    record("demo.loaded", organisations=created, accounts=len(accounts))
    db.session.commit()
    report(f"demo accounts: {len(accounts)}")
    return {"organisations": created, "accounts": accounts}


def build_specs(report=lambda message: None):
    """Return (specs, picks): every demo organisation, and which ones the accounts join."""
    geo = Geography()
    if not geo.areas:
        raise RuntimeError("Load the reference data first (flask seed reference)")
    classifier = Classifier.from_seed()
    notices = _read_notices()
    specs = grant_recipient_specs(geo, classifier)
    report(f"grant recipients: {len(specs)}")
    taken = {_name_key(s.name) for s in specs} | {s.charity_number for s in specs}
    specs += ccni_specs(geo, classifier, taken)
    report(f"Northern Ireland charities: {len(specs)} organisations so far")
    specs += voluntary_supplier_specs(notices, geo, {_name_key(s.name) for s in specs})
    commissioners = commissioner_specs(notices, geo)
    specs += commissioners + prime_specs(notices, geo) + accreditation_specs()
    report(f"all sources: {len(specs)} organisations")
    picks = {
        "vcse": _pick_vcse(specs),
        "commissioner": _pick_commissioner(commissioners, notices),
        "prime": "DEMO-PRIME-1",
        "accreditation_body": "DEMO-ACCREDITATION-1",
    }
    return specs, picks


# --- shared helpers ----------------------------------------------------------------------

class Geography:
    """Postcodes and council names to area codes, using the reference tables."""

    def __init__(self):
        self.areas = {a.code: a for a in db.session.scalars(select(Area))}
        self.councils = {}
        for row in read_seed_csv("reference/council_org_ids.csv"):
            if row["area_code"] in self.areas:
                self.councils[_name_key(row["name"])] = row["area_code"]

    def authority(self, postcode):
        code = authority_for_postcode(postcode)
        return code if code in self.areas else None

    def widen(self, authority_code, scale):
        """The area an organisation of this scale serves, from the authority it is based in."""
        area = self.areas[authority_code]
        if scale.startswith("National") or scale == "Overseas":
            return area.country_code
        if scale == "Regional":
            return area.region_code or area.country_code
        return authority_code


class Classifier:
    """Keyword rules from seed/demo/classification.yaml."""

    def __init__(self, mapping, valid_codes):
        self.cpv = _compile(mapping["cpv_keywords"], valid_codes)
        self.term_cpv = {term: [c for c in codes if c in valid_codes]
                         for term, codes in mapping["ccni_terms_cpv"].items()}
        self.terms = (
            [("client_group", v, r) for v, r in _compile(mapping["client_group_keywords"])]
            + [("way_of_working", v, r) for v, r in _compile(mapping["way_of_working_keywords"])]
        )

    @classmethod
    def from_seed(cls):
        with open(SEED_DIR / "demo" / "classification.yaml", encoding="utf-8") as handle:
            mapping = yaml.safe_load(handle)
        return cls(mapping, set(db.session.scalars(select(CpvCode.code))))

    def cpv_for_text(self, text):
        """CPV codes whose keywords occur in `text`, most mentioned first."""
        hits = Counter({code: len(regex.findall(text)) for code, regex in self.cpv})
        return [code for code, n in hits.most_common() if n][:MAX_CPV_CODES]

    def terms_for_text(self, text):
        return [(vocabulary, value) for vocabulary, value, regex in self.terms
                if regex.search(text)]

    def cpv_for_terms(self, terms):
        codes = []
        for term in terms:
            codes += [c for c in self.term_cpv.get(term, []) if c not in codes]
        return codes


def _compile(mapping, valid_codes=None):
    compiled = []
    for key, keywords in mapping.items():
        key = str(key)
        if valid_codes is not None and key not in valid_codes:
            raise ValueError(f"classification.yaml names an unknown CPV code {key}")
        parts = [re.escape(k[:-1]) + r"\w*" if k.endswith("*") else re.escape(k) + "s?"
                 for k in (str(k).lower() for k in keywords)]
        compiled.append((key, re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.I)))
    return compiled


def _stable_order(key):
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def _slug(name):
    """A source-reference slug from a name, kept short but still unique for long names."""
    key = _name_key(name)
    return key if len(key) <= 60 else key[:52] + _stable_order(key)[:8]


def _buyer_name(name):
    """Buyer names without trailing asides such as "(the Authority)" or "(WCC)"."""
    name = tidy_name(name)
    while (trimmed := re.sub(r"\s*\([^()]*\)$", "", name)) != name and trimmed:
        name = trimmed
    return name


def _name_key(name):
    return re.sub(r"[^a-z0-9]", "", (name or "").lower())


def _clip(text, length):
    text = (text or "").strip()
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def scrub(text):
    """Tidy free text and remove anything that looks like an email address or phone number."""
    text = html.unescape(text or "").replace("rnrn", " ")
    text = PHONE_RE.sub("", EMAIL_RE.sub("", text))
    text = re.sub(r"\s+", " ", text).strip()
    return "" if text.lower() in NO_TEXT else text


def _sentence(text, length=240):
    text = _clip(scrub(text), length)
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."


def tidy_name(name):
    """Organisation names as people write them: no HTML entities, no shouting capitals."""
    name = re.sub(r"\s+", " ", html.unescape(name or "")).strip(" ,.")
    name = re.sub(r"\s+c/o\s.*$", "", name, flags=re.I)
    if name.isupper():
        words = [w if w in ACRONYMS else w.capitalize() for w in name.split()]
        name = " ".join(w.lower() if i and w.lower() in SMALL_WORDS else w
                        for i, w in enumerate(words))
    return name


def _charity_number(value):
    try:
        return normalise_charity_number(value)
    except DomainError:
        return None


def _company_number(value):
    value = (value or "").strip().upper()
    if not value or value.strip("0") == "":
        return None
    try:
        return normalise_company_number(value)
    except DomainError:
        return None


def _formatted_postcode(value):
    cleaned = clean_postcode(value)
    return f"{cleaned[:-3]} {cleaned[-3:]}" if cleaned else None


def _date(value):
    try:
        return date.fromisoformat((value or "")[:10])
    except ValueError:
        return None


def _amount(value):
    try:
        return int(round(float(value)))
    except (TypeError, ValueError):
        return None


# --- VCSEs from 360Giving grants ---------------------------------------------------------

def grant_recipient_specs(geo, classifier, limit=GRANT_RECIPIENTS):
    """Grant recipients with a registry number, a known location and a recognisable service."""
    grants = defaultdict(list)
    for grant in read_seed_csv("grants/grants_flat.csv.gz"):
        if grant["recipient_key"]:
            grants[grant["recipient_key"]].append(grant)
    recipients = [r for r in read_seed_csv("grants/recipients.csv.gz")
                  if r["registry"] in {"CHC", "COH", "SC", "NIC"} and r["recipient_key"] in grants]
    specs = []
    for recipient in sorted(recipients, key=lambda r: _stable_order(r["recipient_key"])):
        spec = _grant_recipient_spec(recipient, grants[recipient["recipient_key"]], geo, classifier)
        if spec:
            specs.append(spec)
            if len(specs) == limit:
                break
    return specs


def _grant_recipient_spec(recipient, grants, geo, classifier):
    authority = geo.authority(recipient["postcode"])
    grants = sorted(grants, key=lambda g: (g["award_date"], g["id"]), reverse=True)
    name = tidy_name(recipient["name"])
    text = " ".join([name] + [f"{g['title']} {scrub(g['description'])}" for g in grants])
    cpv = classifier.cpv_for_text(text)
    if not authority or not cpv:
        return None
    charity_number, company_number, legal_form = _grant_recipient_identity(recipient, grants)
    return OrgSpec(
        source_ref=recipient["recipient_key"], name=_clip(name, 200), org_type="vcse",
        legal_form=legal_form, other_names=_clip(scrub(recipient["other_names"]), 400) or None,
        charity_number=charity_number, company_number=company_number,
        postcode=_formatted_postcode(recipient["postcode"]),
        description=_grant_description(name, grants), contact_role="Chief executive's office",
        cpv=cpv, areas=[geo.widen(authority, recipient["ccew_area_scale"])],
        terms=classifier.terms_for_text(text),
        past_work=[_grant_work(g, name) for g in grants[:MAX_PAST_WORK]],
    )


def _grant_recipient_identity(recipient, grants):
    """(charity number, company number, legal form) from the registry the grant names."""
    registry, number = recipient["registry"], recipient["registration_number"]
    name = recipient["name"]
    company = next((g["recipient_company_number"] for g in grants
                    if g["recipient_company_number"]), "")
    if registry == "COH":
        if number.upper().startswith(("IP", "RS")) or SOCIETY_RE.search(name):
            return None, _company_number(number), "community_benefit_society"
        form = "cic" if CIC_RE.search(name) else "company_limited_by_guarantee"
        return None, _company_number(number), form
    if registry == "NIC" and number.isdigit():
        number = "NIC" + number
    form = "cio" if CIO_RE.search(name) else "registered_charity"
    return _charity_number(number), _company_number(company), form


def _is_generic_title(title, name):
    title = title.strip().lower()
    return not title or title.startswith("grant to") or title == name.lower()


def _grant_work(grant, name):
    description = _sentence(grant["description"], 1000) or None
    title = grant["title"]
    if _is_generic_title(title, name):
        # The first sentence of the description says what the money was for.
        first = re.split(r"(?<=[.!?])\s", description or "", maxsplit=1)[0]
        title = _clip(first, 120) or f"Grant from {grant['funder_name']}"
    gbp = grant["currency"] in ("", "GBP")
    return {
        "title": _clip(scrub(title).rstrip("."), 300), "description": description,
        "funder_name": _clip(grant["funder_name"], 200),
        "amount": _amount(grant["amount_awarded"]) if gbp else None,
        "awarded_on": _date(grant["award_date"]), "kind": "grant",
        "source": _clip("Contains data published to the 360Giving Data Standard by "
                        + grant["funder_name"], 200),
    }


def _grant_description(name, grants):
    """A short profile written from the grants: what was funded, by whom, and when."""
    seen, sentences = set(), []
    for grant in grants:
        sentence = _sentence(grant["description"]) or _sentence(
            "" if _is_generic_title(grant["title"], name) else grant["title"])
        if sentence and _name_key(sentence) not in seen:
            seen.add(_name_key(sentence))
            sentences.append(sentence)
    funders = sorted({g["funder_name"] for g in grants})
    years = sorted({g["award_date"][:4] for g in grants if g["award_date"]})
    funded = "Grant funding from " + _join(funders)
    if years:
        funded += f" in {years[0]}" if len(years) == 1 else f" between {years[0]} and {years[-1]}"
    return " ".join(sentences[:3] + [funded + "."])


def _join(items):
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# --- VCSEs from the Northern Ireland register --------------------------------------------

def ccni_specs(geo, classifier, taken, limit=CCNI_CHARITIES):
    """Registered NI charities (not removed) that say what they do in the register's terms."""
    rows = [r for r in read_seed_csv("charities/ccni_register_2020-06-30.csv.gz")
            if r["status"] != "Removed"]
    purposes = list(classifier.term_cpv)
    specs = []
    for row in sorted(rows, key=lambda r: _stable_order("CCNI-" + r["charity_number"])):
        spec = _ccni_spec(row, geo, classifier, purposes)
        if spec and spec.charity_number not in taken and _name_key(spec.name) not in taken:
            specs.append(spec)
            if len(specs) == limit:
                break
    return specs


def _ccni_spec(row, geo, classifier, purposes):
    authority = geo.authority(row["postcode"])
    how = _split_terms(row["how"])
    what = [p for p in purposes if p.startswith("The ") and p in row["what"]]
    cpv = classifier.cpv_for_terms(how + what)[:MAX_CPV_CODES]
    if not authority or not cpv:
        return None
    name = tidy_name(row["name"])
    website = row["website"].strip()
    income = int(row["total_income"]) if row["total_income"].isdigit() else None
    return OrgSpec(
        source_ref=f"CCNI-{row['charity_number']}", name=_clip(name, 200), org_type="vcse",
        legal_form="cic" if CIC_RE.search(name) else "registered_charity",
        charity_number=_charity_number("NIC" + row["charity_number"].zfill(6)),
        company_number=_ni_company_number(row["company_number"]),
        postcode=_formatted_postcode(row["postcode"]),
        website=_website(website), income=income,
        description=_ccni_description(row, what, how), contact_role="Charity office",
        cpv=cpv, areas=[authority],
        terms=[("client_group", v) for v in _split_terms(row["who"])]
        + [("way_of_working", v) for v in how],
    )


def _split_terms(value):
    # The who/how terms contain no commas of their own, unlike the "what" purposes.
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _ni_company_number(value):
    """CCNI drops the NI prefix: six digits or fewer are Northern Ireland companies."""
    value = (value or "").strip()
    if not value.isdigit() or int(value) == 0:
        return None
    return _company_number("NI" + value.zfill(6) if len(value) <= 6 else value)


def _website(value):
    if not value or "@" in value or " " in value:
        return None
    return _clip(value if value.lower().startswith("http") else "https://" + value, 300)


def _ccni_description(row, what, how):
    parts = []
    if row["registered_on"]:
        parts.append("Registered with the Charity Commission for Northern Ireland in "
                     f"{row['registered_on'][:4]}.")
    if what:
        parts.append("Purposes: " + "; ".join(p[4:] for p in what) + ".")
    if how:
        parts.append("Works through " + _some([h.lower() for h in how]) + ".")
    who = _split_terms(row["who"])
    if who:
        parts.append("Helps " + _some([w.lower() for w in who]) + ".")
    return " ".join(parts)


def _some(items, most=5):
    """Join a list for a sentence, saying "and others" rather than listing thirty terms."""
    return _join(items) if len(items) <= most else ", ".join(items[:most]) + " and others"


# --- organisations from contract notices -------------------------------------------------

def _read_notices():
    notices = read_seed_csv("procurement/notices_flat.csv.gz")
    return sorted(notices, key=lambda n: (n["date"], n["ocid"], n["release_id"]))


def _notice_area(notice, geo):
    return geo.authority(notice["buyer_postcode"]) or geo.authority(notice["delivery_postcodes"])


def _notice_work(notice, buyer, amount):
    source = NOTICE_SOURCES.get(notice["source"], "Contract notice")
    return {
        "title": _clip(scrub(notice["title"]), 300) or "Contract",
        "description": _clip(scrub(notice["description"]), 2000) or None,
        "funder_name": _clip(buyer, 200), "amount": amount,
        "awarded_on": _date(notice["award_date"] or notice["date"]), "kind": "contract",
        "source": _clip(f"{source} notice {notice['ocid']}", 200),
    }


def _suppliers(notice):
    """(name, flagged voluntary, size) for each supplier named in an award notice."""
    names = notice["supplier_names"].split("|") if notice["supplier_names"] else []
    flags, sizes = notice["supplier_is_vcse"].split("|"), notice["supplier_is_sme"].split("|")
    for i, name in enumerate(names):
        if name.strip():
            yield (tidy_name(name), i < len(flags) and flags[i] == "True",
                   sizes[i] if i < len(sizes) else "")


def _looks_voluntary(name, flagged):
    return flagged and not COMPANY_SUFFIX_RE.search(name) and VOLUNTARY_NAME_WORDS.search(name)


def _looks_like_a_prime(name, flagged, size):
    return (not flagged and size == "large" and COMPANY_SUFFIX_RE.search(name)
            and not CIC_RE.search(name))


def voluntary_supplier_specs(notices, geo, taken):
    """Voluntary organisations named as suppliers: VCSEs with a record of public contracts."""
    found = {}
    for notice in notices:
        suppliers = list(_suppliers(notice))
        for name, flagged, _size in suppliers:
            key = _name_key(name)
            if key in taken or not _looks_voluntary(name, flagged):
                continue
            amount = _amount(notice["award_value_total"]) if len(suppliers) == 1 else None
            spec = found.setdefault(key, _supplier_spec(name, "vcse", None, "Contracts team"))
            _add_notice(spec, notice, geo, amount)
    return sorted(found.values(), key=lambda s: s.source_ref)


def _supplier_spec(name, org_type, legal_form, contact_role):
    form = "cic" if org_type == "vcse" and CIC_RE.search(name) else legal_form
    return OrgSpec(source_ref=f"OCDS-SUPPLIER-{_slug(name)}", name=_clip(name, 200),
                   org_type=org_type, legal_form=form, contact_role=contact_role)


def _add_notice(spec, notice, geo, amount):
    buyer = _buyer_name(notice["buyer_name"])
    if len(spec.past_work) < MAX_PAST_WORK:
        spec.past_work.append(_notice_work(notice, buyer, amount))
    if notice["cpv_main"] and notice["cpv_main"] not in spec.cpv and len(spec.cpv) < MAX_CPV_CODES:
        spec.cpv.append(notice["cpv_main"])
    area = _notice_area(notice, geo)
    if area and area not in spec.areas:
        spec.areas.append(area)
    titles = [w["title"] for w in spec.past_work]
    spec.description = "Contracts include " + _join(titles[:3]) + "."


def commissioner_specs(notices, geo):
    """One commissioner per buyer named in the notices."""
    by_buyer = defaultdict(list)
    for notice in notices:
        name = _buyer_name(notice["buyer_name"])
        if name and not NOT_BUYERS.search(name):
            by_buyer[_name_key(name)].append((name, notice))
    return sorted((_commissioner_spec(rows, geo) for rows in by_buyer.values()),
                  key=lambda s: s.source_ref)


def _commissioner_spec(rows, geo):
    name = rows[0][0]
    notices = [n for _, n in rows]
    if COUNCIL_WORDS.search(name):
        form = "council"
    elif NHS_WORDS.search(name):
        form = "nhs_body"
    else:
        form = "other_public_body"
    titles = list(dict.fromkeys(_clip(scrub(n["title"]), 120) for n in notices if n["title"]))
    cpv = list(dict.fromkeys(n["cpv_main"] for n in notices if n["cpv_main"]))[:MAX_CPV_CODES]
    source = NOTICE_SOURCES.get(notices[0]["source"], "contract notices")
    return OrgSpec(
        source_ref=f"OCDS-BUYER-{_slug(name)}", name=_clip(name, 200),
        org_type="commissioner", legal_form=form,
        postcode=_formatted_postcode(notices[0]["buyer_postcode"]),
        description=f"Publishes opportunities on {source}. Recent notices: "
                    + "; ".join(titles[:3]) + ".",
        contact_role="Commissioning team", cpv=cpv, areas=_buyer_areas(name, form, notices, geo),
    )


def _buyer_areas(name, form, notices, geo):
    council_area = geo.councils.get(_name_key(name))
    if council_area:
        return [council_area]
    local = _notice_area(notices[0], geo)
    if local and form != "council" and NATIONAL_WORDS.search(name):
        return [geo.areas[local].country_code]
    return [local] if local else []


def prime_specs(notices, geo, limit=PRIME_CONTRACTORS):
    """Large companies that won contracts, plus a fictional prime for the demo account."""
    found = {}
    for notice in notices:
        suppliers = list(_suppliers(notice))
        for name, flagged, size in suppliers:
            if not _looks_like_a_prime(name, flagged, size):
                continue
            amount = _amount(notice["award_value_total"]) if len(suppliers) == 1 else None
            spec = found.setdefault(_name_key(name), _supplier_spec(
                name, "prime", "private_company", "Bid team"))
            _add_notice(spec, notice, geo, amount)
    chosen = sorted(found.values(), key=lambda s: _stable_order(s.source_ref))[:limit]
    return [_example_prime()] + sorted(chosen, key=lambda s: s.source_ref)


def _example_prime():
    return OrgSpec(
        source_ref="DEMO-PRIME-1", name="Example Prime Services Ltd", org_type="prime",
        legal_form="private_company", contact_role="Partnerships team",
        description="A fictional prime contractor for trying the portal: it leads bids for "
                    "large health and social care contracts and looks for VCSE partners to "
                    "deliver parts of them.",
        cpv=["85300000", "85312310", "85312500"], areas=["E92000001"],
    )


def accreditation_specs():
    """Two fictional bodies that check and accredit VCSEs."""
    return [
        OrgSpec(source_ref="DEMO-ACCREDITATION-1",
                name="Example Borough Accreditation Partnership", org_type="accreditation_body",
                legal_form="infrastructure_body", contact_role="Accreditation team",
                description="A fictional local infrastructure body that reviews VCSE policies "
                            "and awards a quality mark recognised by local commissioners.",
                areas=["E12000007"]),
        OrgSpec(source_ref="DEMO-ACCREDITATION-2", name="Example Quality Assessment Service",
                org_type="accreditation_body", legal_form="independent_assessor",
                contact_role="Assessment team",
                description="A fictional independent assessor that checks safeguarding, "
                            "insurance and governance for organisations across England.",
                areas=["E92000001"]),
    ]


# --- which organisations the demo accounts join ------------------------------------------

def _pick_vcse(specs):
    """A small local charity with a track record: a realistic first user."""
    candidates = [s for s in specs if s.org_type == "vcse" and s.source_ref.startswith("GB-CHC-")
                  and len(s.past_work) >= 3 and len(s.cpv) >= 2
                  and s.areas[0].startswith("E0")]
    return min(candidates, key=lambda s: s.source_ref).source_ref


def _pick_commissioner(commissioners, notices):
    """The English council with the most notices, so its account has most to look at."""
    counts = Counter(f"OCDS-BUYER-{_slug(_buyer_name(n['buyer_name']))}" for n in notices)
    councils = [s for s in commissioners
                if s.legal_form == "council" and s.areas and s.areas[0].startswith("E")]
    return min(councils, key=lambda s: (-counts[s.source_ref], s.source_ref)).source_ref


# --- writing to the database -------------------------------------------------------------

def _save(specs, report):
    """Create organisations that do not exist yet, one commit per batch."""
    existing = set(db.session.scalars(select(Organisation.source_ref)))
    specs = [s for s in specs if s.source_ref not in existing]
    cpv = _by_code(CpvCode, {c for s in specs for c in s.cpv})
    areas = _by_code(Area, {a for s in specs for a in s.areas})
    terms = {(t.vocabulary, t.value): t for t in db.session.scalars(select(VocabularyTerm))}
    for start in range(0, len(specs), BATCH_SIZE):
        batch = specs[start:start + BATCH_SIZE]
        db.session.add_all(_organisation(s, cpv, areas, terms) for s in batch)
        db.session.commit()
        report(f"organisations saved: {start + len(batch)}/{len(specs)}")
    return len(specs)


def _by_code(model, codes):
    return {row.code: row for row in db.session.scalars(select(model).where(model.code.in_(codes)))}


def _organisation(spec, cpv, areas, terms):
    org = Organisation(
        name=spec.name, other_names=spec.other_names, charity_number=spec.charity_number,
        company_number=spec.company_number, postcode=spec.postcode, website=spec.website,
        description=spec.description, contact_role=spec.contact_role, source_ref=spec.source_ref,
    )
    org.set_type(spec.org_type, spec.legal_form)
    if org.needs_verification:  # so the demo buyer and assessor can act from the start
        org.verify(None, "other", "Demo organisation, verified when the demo data was loaded")
    if spec.income is not None:
        org.set_income(spec.income)
    org.cpv_codes = [cpv[c] for c in dict.fromkeys(spec.cpv) if c in cpv]
    org.areas = [areas[a] for a in dict.fromkeys(spec.areas) if a in areas]
    org.terms = [terms[t] for t in dict.fromkeys(spec.terms) if t in terms]
    org.past_work = [PastWork(**work) for work in spec.past_work]
    return org


DEMO_ACCOUNTS = (
    # (role label, email local part, organisation pick, org role, site admin)
    ("VCSE admin", "vcse.admin", "vcse", "admin", False),
    ("VCSE member", "vcse.member", "vcse", "member", False),
    ("Commissioner", "commissioner", "commissioner", "admin", False),
    ("Prime contractor", "prime", "prime", "admin", False),
    # The assessor runs the body's account alone in the demo, so it needs admin rights.
    ("Accreditation assessor", "assessor", "accreditation_body", "admin", False),
    ("Site admin", "site.admin", None, "member", True),
)


def _create_accounts(picks):
    """One verified account per role; an account that already exists is kept as it is."""
    accounts = {}
    for label, local_part, pick, role, site_admin in DEMO_ACCOUNTS:
        email = f"{local_part}@{DEMO_EMAIL_DOMAIN}"
        accounts[label] = email
        if db.session.scalar(select(User.id).where(User.email == email)) is not None:
            continue
        org = None
        if pick:
            org = db.session.scalar(select(Organisation).where(
                Organisation.source_ref == picks[pick]))
        user = User(email=email, name=f"Demo user ({label})", organisation=org, org_role=role,
                    is_site_admin=site_admin, email_verified_at=utcnow())
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
    return accounts
