"""Open Contracting Data Standard (OCDS 1.1): importing release packages as forward-plan
entries and awards, and exporting entries as release packages."""
import gzip
import hashlib
import json
import re
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from flask import current_app, url_for
from sqlalchemy import func, select

from portal.core import audit
from portal.core.mixins import utcnow
from portal.core.text import clean_imported_text
from portal.extensions import db
from portal.organisations import identity
from portal.organisations import services as organisations
from portal.organisations.models import Organisation
from portal.pipeline.models import (
    UK_TIME, Award, AwardWinner, Lot, Opportunity, uk_now,
)
from portal.reference import services as reference
from portal.reference.models import Area, CpvCode

OCDS_VERSION = "1.1"
DEFAULT_OCID_PREFIX = "ocds-pthfnd"
EXTENSIONS = [
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/master/extension.json",
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_enquiry_extension/master/extension.json",
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_location_extension/master/extension.json",
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_partyDetails_scale_extension/master/extension.json",
]
OGL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
MAX_LOTS = 50
# Award statuses that stand: "cancelled" and "unsuccessful" ones name no winner.
AWARDS_IN_FORCE = (None, "active", "pending")


# --- Reading ------------------------------------------------------------------------------------

# A package bigger than this, once unpacked, is refused before it is parsed: a .json.gz of a
# few kilobytes can unpack to gigabytes. Published monthly packages are a few megabytes.
MAX_PACKAGE_BYTES = 256 * 1024 * 1024
# Real OCDS nests a handful of levels (a release, its tender, a lot, an amount); anything much
# deeper is not a release package and would exhaust the stack when releases are merged.
MAX_DEPTH = 32


def read_package(path):
    """A release package from a .json or .json.gz file, in UTF-8 (with or without a byte-order
    mark), UTF-16 or UTF-32. Anything else raises ValueError with a message for the operator."""
    data = _parse(_read_bounded(path))
    if isinstance(data, list):
        data = {"releases": data}
    if not isinstance(data, dict) or not isinstance(data.get("releases"), list):
        raise ValueError("The file is not an OCDS release package (it has no 'releases' list)")
    if _depth_over(data, MAX_DEPTH):
        raise ValueError(f"The file nests its values more than {MAX_DEPTH} levels deep, which "
                         "no OCDS release package does")
    return data


def _read_bounded(path):
    with open(path, "rb") as handle:
        head = handle.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read(MAX_PACKAGE_BYTES + 1)
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise ValueError(f"The file could not be unpacked as gzip ({error})") from None
    if len(raw) > MAX_PACKAGE_BYTES:
        raise ValueError(f"The file unpacks to more than {MAX_PACKAGE_BYTES // (1024 * 1024)} MB; "
                         "split it into smaller packages")
    return raw


def _parse(raw):
    try:
        return json.loads(raw)  # bytes: the encoding is worked out from the first bytes
    except RecursionError:
        raise ValueError("The file nests its values too deeply to be an OCDS release "
                         "package") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"The file is not UTF-8 text: byte {error.start + 1} is not valid "
                         "UTF-8. Save it as UTF-8.") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"The file is not valid JSON: {error.msg} at line {error.lineno}, "
                         f"column {error.colno}") from None


def _depth_over(data, limit):
    """Whether `data` nests lists and objects more than `limit` levels deep (without recursion,
    so any depth can be measured)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else \
            value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _merge(older, newer):
    """Later releases replace earlier values; objects merge key by key, as OCDS compiles them."""
    if isinstance(older, dict) and isinstance(newer, dict):
        merged = dict(older)
        for key, value in newer.items():
            merged[key] = _merge(older.get(key), value) if value is not None else older.get(key)
        return merged
    return newer if newer not in (None, "", [], {}) else older


def compile_releases(releases, repeats=None, unreadable=None):
    """One compiled release per ocid, awards gathered from every release.

    Later releases of an ocid update earlier ones. A release given twice (same ocid and id) is
    read once; with a `repeats` list, (position, ocid, reason) is added to it for each repeat.
    With an `unreadable` list, ("release N", reason) is added for each entry that is not a
    release with an ocid, so none is left out without a word. Each compiled release keeps the
    position in the package of its ocid's first release.
    """
    groups, positions, first_seen = defaultdict(list), {}, {}
    for position, release in enumerate(releases, start=1):
        ocid = release.get("ocid") if isinstance(release, dict) else None
        if not isinstance(ocid, str) or not ocid.strip():
            if unreadable is not None:
                unreadable.append((f"release {position}", "it is not a release with an ocid"
                                   if isinstance(release, dict) else "it is not a release"))
            continue
        key = (ocid, str(release["id"]) if release.get("id") else None)
        if release.get("id") and key in first_seen:
            if repeats is not None:
                repeats.append((position, release["ocid"],
                                f"repeats release {first_seen[key]} of the file"))
            continue
        first_seen.setdefault(key, position)
        positions.setdefault(release["ocid"], position)
        groups[release["ocid"]].append(release)
    return [_compiled(group, positions[ocid]) for ocid, group in groups.items()]


def _compiled(group, position):
    group.sort(key=lambda r: str(r.get("date") or ""))
    result, awards = {}, {}
    for release in group:
        for award in release.get("awards") or []:
            awards[str(award.get("id"))] = award
        result = _merge(result, {k: v for k, v in release.items() if k != "awards"})
    result["awards"] = list(awards.values())
    result["_tags"] = sorted({t for r in group for t in r.get("tag") or []})
    result["_position"] = position
    return result


def _parse_when(value):
    """An OCDS date-time as a naive UK time."""
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UK_TIME).replace(tzinfo=None)
    return moment


def _day(value):
    moment = _parse_when(value)
    return moment.date() if moment else None


def _amount(value):
    if not isinstance(value, dict):
        return None
    amount, currency = value.get("amount"), value.get("currency") or "GBP"
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or currency != "GBP":
        return None
    # Notices often give 0, or a token 0.01, for "not stated": less than a pound is unknown.
    pounds = int(round(amount)) if amount > 0 else 0
    return pounds or None


def _tidy(text):
    """Notice text often has line breaks flattened to 'rn', HTML and doubled entities."""
    return clean_imported_text(text)


def _tidy_line(text):
    """A title or a name: cleaned like notice text, on one line."""
    return clean_imported_text(text, multiline=False)


def _parties(release):
    return {str(p.get("id")): p for p in release.get("parties") or [] if isinstance(p, dict)}


def _buyer(release):
    parties = _parties(release)
    buyer = release.get("buyer") or {}
    party = parties.get(str(buyer.get("id"))) if buyer.get("id") is not None else None
    if party is None:
        party = next((p for p in parties.values() if "buyer" in (p.get("roles") or [])), None)
    name = buyer.get("name") or (party or {}).get("name")
    postcode = ((party or {}).get("address") or {}).get("postalCode")
    return name, postcode


def _cpv_ids(tender):
    ids = []

    def add(classification):
        if isinstance(classification, dict) and (classification.get("scheme") or "CPV").upper() \
                == "CPV" and classification.get("id"):
            ids.append(str(classification["id"])[:8])
    add(tender.get("classification"))
    for item in tender.get("additionalClassifications") or []:
        add(item)
    for item in tender.get("items") or []:
        add(item.get("classification"))
        for extra in item.get("additionalClassifications") or []:
            add(extra)
    return list(dict.fromkeys(ids))


ROUTE_PATTERNS = (
    (re.compile(r"dynamic purchasing|dynamic market", re.I), "dynamic"),
    (re.compile(r"single tender|direct award|without prior publication", re.I), "direct_award"),
    (re.compile(r"below threshold|non-ojeu|competitive quotation", re.I), "below_threshold"),
    (re.compile(r"restricted|competitive dialogue|negotiat|innovation partnership", re.I),
     "competitive_flexible"),
    (re.compile(r"\bopen\b", re.I), "open"),
)


def _route(tender):
    details = " ".join(str(tender.get(k) or "") for k in ("procurementMethodDetails",
                                                           "procurementMethod"))
    if "open" in details.lower() and "below threshold" in details.lower():
        return "below_threshold"
    for pattern, route in ROUTE_PATTERNS:
        if pattern.search(details):
            return route
    return None


def _suitability(tender):
    suitable = tender.get("suitability") or {}
    legacy = tender.get("xClassifications") or {}
    return (bool(suitable.get("vcse") or legacy.get("isSuitableForVco")),
            bool(suitable.get("sme") or legacy.get("isSuitableForSme")))


@dataclass
class Notice:
    """What an entry needs from one compiled OCDS release."""

    ocid: str
    title: str
    description: str | None
    buyer_name: str | None
    buyer_postcode: str | None
    cpv: list
    value_min: int | None
    value_max: int | None
    published_on: date | None
    question_deadline: datetime | None
    closing_at: datetime | None
    contract_start_on: date | None
    contract_months: int | None
    route: str | None
    suitable_vcse: bool
    suitable_sme: bool
    tender_status: str | None
    tags: list
    postcodes: list
    regions: list
    lots: list = field(default_factory=list)
    award: dict | None = None


def notice_from(release):
    """Pull the fields an entry uses out of a compiled release."""
    tender = release.get("tender") or {}
    planning = release.get("planning") or {}
    budget = planning.get("budget") or {}
    value = _amount(tender.get("value"))
    minimum = _amount(tender.get("minValue"))
    if value is None:
        value = _amount(budget.get("amount")) or sum(
            _amount(b.get("amount")) or 0 for b in budget.get("budgetBreakdown") or []) or None
    contract = tender.get("contractPeriod") or {}
    start, end = _day(contract.get("startDate")), _day(contract.get("endDate"))
    months = None
    if start and end and end > start:
        months = max(1, round((end - start).days / 30.44))
    elif isinstance(contract.get("durationInDays"), (int, float)):
        months = max(1, round(contract["durationInDays"] / 30.44))
    buyer_name, buyer_postcode = _buyer(release)
    vcse, sme = _suitability(tender)
    addresses = [a for item in tender.get("items") or [] for a in item.get("deliveryAddresses") or []]
    return Notice(
        ocid=release["ocid"], title=_tidy_line(tender.get("title")) or "Untitled notice",
        description=_tidy(tender.get("description")) or None,
        buyer_name=buyer_name, buyer_postcode=buyer_postcode, cpv=_cpv_ids(tender),
        value_min=minimum if minimum is not None and value is not None and minimum < value
        else value, value_max=value if minimum is not None and value is not None
        and minimum < value else None,
        published_on=_day(tender.get("datePublished") or (tender.get("tenderPeriod") or {})
                          .get("startDate") or release.get("date")),
        question_deadline=_parse_when((tender.get("enquiryPeriod") or {}).get("endDate")),
        closing_at=_parse_when((tender.get("tenderPeriod") or {}).get("endDate")),
        contract_start_on=start, contract_months=months, route=_route(tender),
        suitable_vcse=vcse, suitable_sme=sme, tender_status=tender.get("status"),
        tags=release.get("_tags") or release.get("tag") or [],
        postcodes=[a["postalCode"] for a in addresses if a.get("postalCode")],
        regions=[a["region"] for a in addresses if a.get("region")],
        lots=[lot for lot in tender.get("lots") or [] if isinstance(lot, dict)][:MAX_LOTS],
        award=_award(release),
    )


def _supplier_flags(party, supplier):
    details = (party or {}).get("details") or {}
    is_vcse = bool(details.get("vcse") or (party or {}).get("vco"))
    is_sme = details.get("scale") in ("sme", "micro") or bool((party or {}).get("sme"))
    return is_vcse, is_sme


def _award(release):
    parties = _parties(release)
    for award in release.get("awards") or []:
        suppliers = [s for s in award.get("suppliers") or [] if s.get("name")]
        if award.get("status") in AWARDS_IN_FORCE and suppliers:
            winners, seen = [], set()
            for supplier in suppliers:
                if _name_key(supplier["name"]) in seen:
                    continue
                seen.add(_name_key(supplier["name"]))
                party = parties.get(str(supplier.get("id")))
                is_vcse, is_sme = _supplier_flags(party, supplier)
                winners.append({"name": _tidy_line(supplier["name"]), "is_vcse": is_vcse,
                                "is_sme": is_sme})
            return {"date": _day(award.get("date") or award.get("datePublished")),
                    "value": _amount(award.get("value")), "winners": winners}
    return None


@dataclass
class AwardedSupplier:
    """One supplier of one award in force, with what the award says about it."""

    award_id: str
    supplier_id: str
    supplier: identity.NamedSupplier
    share: int | None
    awarded_on: date | None
    lot: dict | None


def awarded_suppliers(release):
    """Every supplier of every award in force in a compiled release."""
    parties, lots = _parties(release), _lots_by_id(release)
    found = []
    for award in release.get("awards") or []:
        if award.get("status") not in AWARDS_IN_FORCE:
            continue
        suppliers = [s for s in award.get("suppliers") or [] if isinstance(s, dict)]
        related = [lots[str(i)] for i in award.get("relatedLots") or [] if str(i) in lots]
        for supplier in suppliers:
            party = parties.get(str(supplier.get("id"))) or {}
            found.append(AwardedSupplier(
                award_id=str(award.get("id")), supplier_id=str(supplier.get("id")),
                supplier=_named_supplier(supplier, party),
                share=_share(award, party, len(suppliers)),
                awarded_on=_day(award.get("date") or award.get("datePublished")),
                lot=related[0] if len(related) == 1 else None))
    return found


def _lots_by_id(release):
    lots = (release.get("tender") or {}).get("lots") or []
    return {str(lot.get("id")): lot for lot in lots if isinstance(lot, dict)}


def _named_supplier(supplier, party):
    """The supplier as the notice describes it: name, registered numbers and postcode."""
    identifiers = [i for source in (party, supplier) for i in
                   [source.get("identifier")] + list(source.get("additionalIdentifiers") or [])
                   if isinstance(i, dict)]
    address = party.get("address") or {}
    postcode = address.get("postalCode") or identity.postcode_in(" ".join(
        str(address.get(k) or "") for k in ("streetAddress", "locality", "region")))
    return identity.NamedSupplier.described(
        _tidy_line(party.get("name") or supplier.get("name")),
        [(i.get("scheme"), i.get("id")) for i in identifiers], postcode)


def _share(award, party, supplier_count):
    """What this supplier won: its own value where the notice gives one (Contracts Finder
    does), the award's value when it won alone, otherwise not known."""
    own = _amount(party.get("x_awardValue"))
    if own:
        return own
    return (_amount(award.get("value")) or None) if supplier_count == 1 else None


# --- Stage and date shifting --------------------------------------------------------------------

def natural_status(notice, now):
    """The stage an imported notice is at, judged from its status, tags and dates."""
    status = notice.tender_status
    if status in ("cancelled", "unsuccessful"):
        return "cancelled"
    if status == "withdrawn":
        return "withdrawn"
    if notice.award and notice.award["date"]:
        return "awarded"
    if status in ("planning", "planned") or (not status and "planning" in notice.tags):
        return "planned"
    if notice.closing_at and notice.closing_at > now:
        return "open"
    return "evaluation"


def _shift_years(day, years):
    if day is None:
        return None
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def shift_into_future(notice, now):
    """Move a live notice's dates forward by whole years, so it lands in the coming year with
    its season and weekday pattern intact. Returns the number of years moved."""
    anchor = notice.closing_at or notice.contract_start_on or notice.published_on
    if anchor is None:
        return 0
    anchor = anchor if isinstance(anchor, datetime) else datetime.combine(anchor, datetime.min.time())
    years = 0
    while _shift_years(anchor, years) <= now + timedelta(days=7):
        years += 1
    if years:
        for name in ("published_on", "question_deadline", "closing_at", "contract_start_on"):
            setattr(notice, name, _shift_years(getattr(notice, name), years))
    return years


OPEN_SHARE = 0.4


def _fraction(text, salt=""):
    """A stable number in [0, 1) from a string: the same notice always gets the same one."""
    return int(hashlib.sha256((salt + text).encode()).hexdigest()[:8], 16) / 2**32


def shift_to_open(notice, now):
    """Move a notice by whole weeks so that it closes one to twelve weeks from now."""
    target = now + timedelta(days=7 + int(_fraction(notice.ocid, "close") * 77))
    weeks = -(-(target - notice.closing_at).days // 7)
    offset = timedelta(weeks=weeks)
    for name in ("published_on", "question_deadline", "closing_at", "contract_start_on"):
        value = getattr(notice, name)
        setattr(notice, name, value + offset if value else None)


def _drop_contradictions(notice):
    """Real notices sometimes contradict themselves; keep the closing date, drop the rest."""
    closing = notice.closing_at.date() if notice.closing_at else None
    if closing and notice.published_on and notice.published_on > closing:
        notice.published_on = None
    if notice.question_deadline and notice.closing_at and notice.question_deadline > notice.closing_at:
        notice.question_deadline = None
    if notice.contract_start_on:
        earlier = [d for d in (closing, notice.published_on) if d]
        if earlier and notice.contract_start_on <= max(earlier):
            notice.contract_start_on = None


# --- Writing entries ----------------------------------------------------------------------------

@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    awards: int = 0
    buyers_created: int = 0
    skipped: list = field(default_factory=list)  # (ocid, reason)
    # (position of the release in the file, ocid, reason): notices given more than once
    duplicates: list = field(default_factory=list)

    @property
    def total(self):
        return self.created + self.updated


NOT_BUYERS = re.compile(r"e-tendering|tenders limited|eu supply", re.I)


def _name_key(name):
    return re.sub(r"[^a-z0-9]", "", (name or "").lower())


class BuyerFinder:
    """Finds the commissioner for a buyer name, creating one when none exists.

    The demo named buyers with the organisations package's rules, so those rules are used to
    find its source references first.
    """

    def __init__(self, report):
        from portal.organisations import demo as organisation_demo
        self._demo = organisation_demo
        self.report = report
        commissioners = db.session.scalars(select(Organisation).where(
            Organisation.org_type == "commissioner")).all()
        self.by_ref = {o.source_ref: o for o in commissioners if o.source_ref}
        self.by_key = {}
        for org in commissioners:
            self.by_key.setdefault(_name_key(org.name), org)

    def find(self, name, postcode):
        if not name or NOT_BUYERS.search(name):
            return None
        tidy = self._demo._buyer_name(name)
        ref = f"OCDS-BUYER-{self._demo._slug(tidy)}"
        org = self.by_ref.get(ref) or self.by_key.get(_name_key(tidy))
        if org is None:
            org = self._create(tidy, ref, postcode)
        return org

    def _create(self, name, ref, postcode):
        org = Organisation(name=name[:200], source_ref=ref, contact_role="Commissioning team",
                           description="Buyer named in imported contract notices.")
        words = name.lower()
        legal = "council" if re.search(r"council|borough", words) else (
            "nhs_body" if re.search(r"\bnhs\b|health|hospital|icb", words) else "other_public_body")
        org.set_type("commissioner", legal)
        authority = reference.authority_for_postcode(postcode) if postcode else None
        if authority:
            org.areas = [db.session.get(Area, authority)]
        db.session.add(org)
        db.session.flush()
        audit.record("organisation.created_from_notice", org, source="OCDS import")
        self.by_ref[ref] = org
        self.by_key[_name_key(name)] = org
        self.report.buyers_created += 1
        return org


def _areas_for(notice, buyer):
    codes = set()
    for postcode in notice.postcodes:
        authority = reference.authority_for_postcode(postcode)
        if authority:
            codes.add(authority)
    if not codes and buyer.areas:
        codes = {a.code for a in buyer.areas}
    if not codes:
        for region in notice.regions:
            area = db.session.scalar(select(Area).where(func.lower(Area.name) == region.lower()))
            if area is not None:
                codes |= reference.expand_area_codes([area.code])
    if not codes and notice.buyer_postcode:
        authority = reference.authority_for_postcode(notice.buyer_postcode)
        codes = {authority} if authority else set()
    expanded = reference.expand_area_codes(codes) or codes
    return db.session.scalars(select(Area).where(Area.code.in_(sorted(expanded)))).all()


def _cpv_rows(ids):
    found = {c.code: c for c in db.session.scalars(select(CpvCode).where(CpvCode.code.in_(ids)))}
    return [found[i] for i in ids if i in found]


def _sync_lots(opportunity, notice):
    """Update lots in place by number: replacing them would insert before deleting and
    break the one-number-per-entry rule."""
    existing = {lot.number: lot for lot in opportunity.lots}
    wanted = []
    for index, raw in enumerate(notice.lots, start=1):
        number = int(raw["id"]) if str(raw.get("id", "")).isdigit() else index
        while number in {lot.number for lot in wanted}:
            number += 1
        lot = existing.get(number) or Lot(number=number)
        lot.title = (_tidy_line(raw.get("title")) or f"Lot {number}")[:300]
        lot.description = _tidy(raw.get("description")) or None
        lot.value_min, lot.value_max = _amount(raw.get("value")), None
        wanted.append(lot)
    for lot in list(opportunity.lots):
        if lot not in wanted:
            opportunity.lots.remove(lot)
    for lot in wanted:
        if lot not in opportunity.lots:
            opportunity.lots.append(lot)


def _winner(raw, suppliers):
    org = suppliers.get(_name_key(raw["name"]))
    is_vcse = raw["is_vcse"] or (org is not None and org.org_type == "vcse")
    return AwardWinner(organisation=org, name=(org.name if org else raw["name"])[:300],
                       is_vcse=is_vcse, is_sme=raw["is_sme"])


def _apply_notice(opportunity, notice, buyer, suppliers, status):
    cpv = _cpv_rows(notice.cpv)
    opportunity.title = notice.title[:300]
    opportunity.description = notice.description
    opportunity.main_cpv = cpv[0] if cpv else None
    opportunity.main_cpv_code = cpv[0].code if cpv else None
    opportunity.additional_cpv = cpv[1:]
    opportunity.areas = _areas_for(notice, buyer)
    opportunity.procurement_route = notice.route
    opportunity.suitable_vcse, opportunity.suitable_sme = notice.suitable_vcse, notice.suitable_sme
    opportunity.tender_publish_on = notice.published_on if status != "planned" or (
        notice.published_on and notice.published_on > uk_now().date()) else None
    opportunity.question_deadline = notice.question_deadline
    opportunity.closing_at = notice.closing_at
    opportunity.contract_start_on = notice.contract_start_on
    opportunity.set_value(notice.value_min, notice.value_max, "whole_life", notice.contract_months)
    _sync_lots(opportunity, notice)
    if status == "awarded":
        found = notice.award
        award = opportunity.award or Award()
        award.awarded_on, award.value = found["date"], found["value"]
        award.winners = [_winner(w, suppliers) for w in found["winners"]]
        opportunity.award = award
    elif opportunity.award is not None:
        opportunity.award = None
    opportunity.load_status(status)


def _supplier_index():
    orgs = db.session.scalars(select(Organisation).where(
        Organisation.org_type.in_(("vcse", "prime")))).all()
    index = {}
    for org in orgs:
        index.setdefault(_name_key(org.name), org)
    return index


def import_package(package, source_label, shift_dates=False, now=None, progress=None):
    """Load every contracting process in a release package as an entry (with its award).

    An ocid already imported updates its entry, so loading the same file twice changes
    nothing. A release given twice, or a second notice for the same work under another ocid,
    is skipped and listed in the report's `duplicates`. With `shift_dates`, notices still in
    progress move forward by whole years so the forward plan shows them as coming up. One
    commit at the end.
    """
    report = ImportReport()
    run = _Run(source_label, shift_dates, now or uk_now(), report, BuyerFinder(report),
               _supplier_index(), {o.ocid: o for o in db.session.scalars(
                   select(Opportunity).where(Opportunity.ocid.is_not(None)))})
    releases = compile_releases(package.get("releases") or [], repeats=report.duplicates,
                                unreadable=report.skipped)
    for count, release in enumerate(releases, start=1):
        _import_one(release, run)
        if progress and count % 100 == 0:
            progress(f"{source_label}: {count} notices read")
    report.duplicates.sort(key=lambda d: d[0])
    audit.record("pipeline.ocds_imported", None, source=source_label, created=report.created,
                 updated=report.updated, skipped=len(report.skipped),
                 duplicates=len(report.duplicates))
    db.session.commit()
    return report


@dataclass
class _Run:
    """What one import carries from notice to notice."""

    source_label: str
    shift_dates: bool
    now: datetime
    report: ImportReport
    buyers: BuyerFinder
    suppliers: dict
    existing: dict  # ocid -> entry
    signatures: dict = field(default_factory=dict)  # signature -> first ocid that had it


def _import_one(release, run):
    try:
        notice = notice_from(release)
    except (AttributeError, TypeError, ValueError, KeyError):
        # A field of the wrong type (a tender that is a string, a list for a name...): the
        # release is left out and reported, and the rest of the package is still read.
        run.report.skipped.append((release["ocid"], "its fields are not laid out as OCDS "
                                                    "sets out, so it cannot be read"))
        return
    buyer = run.buyers.find(notice.buyer_name, notice.buyer_postcode)
    if buyer is None:
        run.report.skipped.append((notice.ocid, "the buyer is not named"))
        return
    if _is_duplicate(notice, buyer, release, run):
        return
    status = _stage(notice, run)
    opportunity = run.existing.get(notice.ocid)
    if opportunity is not None and opportunity.organisation_id != buyer.id:
        run.report.skipped.append((notice.ocid, "already imported for another buyer"))
        return
    created = opportunity is None
    if created:
        opportunity = Opportunity(organisation=buyer, reference=notice.ocid[:60], ocid=notice.ocid,
                                  source="ocds", title="")
        db.session.add(opportunity)
    _save(opportunity, notice, buyer, release, status, run)
    run.report.created += created
    run.report.updated += not created
    run.report.awards += status == "awarded"


def _save(opportunity, notice, buyer, release, status, run):
    with db.session.no_autoflush:
        _apply_notice(opportunity, notice, buyer, run.suppliers, status)
    db.session.flush()
    _record_track_record(opportunity, release, status)
    opportunity.updated_at = utcnow()
    audit.record("opportunity.imported", opportunity, source=run.source_label, ocid=notice.ocid)
    run.existing[notice.ocid] = opportunity


def _stage(notice, run):
    """The notice's stage, after moving its dates when the import shifts them."""
    status = natural_status(notice, run.now)
    if run.shift_dates and status in ("planned", "open", "evaluation"):
        # Some notices become open tenders closing soon; the rest are coming up in the plan.
        if notice.closing_at and _fraction(notice.ocid) < OPEN_SHARE:
            shift_to_open(notice, run.now)
        else:
            shift_into_future(notice, run.now)
        published = notice.published_on
        status = "planned" if published is None or published > run.now.date() else "open"
        if status == "open" and not (notice.closing_at and notice.closing_at > run.now):
            status = "planned"
    if status == "awarded" and not notice.award["date"]:
        status = "evaluation"
    _drop_contradictions(notice)
    return status


def _is_duplicate(notice, buyer, release, run):
    """Whether an earlier notice of this import, under another ocid, is for the same work:
    publishers sometimes post one notice twice. Judged before any dates are shifted."""
    signature = _signature(notice, buyer)
    first = run.signatures.setdefault(signature, notice.ocid) if signature else notice.ocid
    if first == notice.ocid:
        return False
    run.report.duplicates.append((release.get("_position"), notice.ocid,
                                  f"the same notice as {first} (same buyer, title and dates)"))
    return True


def _signature(notice, buyer):
    """What makes two notices the same work: buyer, title, dates, value and winners (awards of
    one framework to different suppliers are separate). None for a notice with no dates, which
    is too little to tell."""
    dates = (notice.published_on, notice.closing_at, notice.contract_start_on)
    if not any(dates):
        return None
    winners = frozenset(_name_key(w["name"]) for w in (notice.award or {}).get("winners", []))
    return (buyer.id, _name_key(notice.title), dates, notice.value_min, notice.value_max, winners)


LOT_NUMBER_ONLY = re.compile(r"^\s*lot\s*\d*\s*$", re.I)


def _record_track_record(opportunity, release, status):
    """Each award's suppliers that are directory organisations gain the contract in their
    track record; one no longer named (or an award no longer in force) loses it."""
    scope = organisations.past_work_source("ocds", opportunity.ocid)
    won = awarded_suppliers(release) if status == "awarded" else []
    orgs = identity.find_organisations([w.supplier for w in won])
    works, seen = [], set()
    for winner, org in zip(won, orgs):
        if org is None or (winner.award_id, org.id) in seen:
            continue  # not in the directory, or the same organisation named twice
        seen.add((winner.award_id, org.id))
        works.append(_earned(opportunity, winner, org, scope))
    organisations.record_past_work_from(scope, works)


def _earned(opportunity, winner, org, scope):
    """The winner's past work: the lot's title and description when the award was for one
    lot with a real title ("Lot 2" says nothing), otherwise the entry's."""
    lot = winner.lot or {}
    lot_title = _tidy_line(lot.get("title"))
    use_lot = bool(lot_title) and not LOT_NUMBER_ONLY.match(lot_title)
    return organisations.EarnedWork(
        organisation=org,
        source=organisations.past_work_source(scope, winner.award_id, winner.supplier_id),
        title=lot_title if use_lot else opportunity.title,
        description=(_tidy(lot.get("description")) if use_lot else None)
        or opportunity.description,
        funder_name=opportunity.organisation.name, amount=winner.share,
        awarded_on=winner.awarded_on or (opportunity.award.awarded_on if opportunity.award
                                         else None), kind="contract")


# --- Export -------------------------------------------------------------------------------------

def ocid_prefix():
    return current_app.config.get("OCDS_OCID_PREFIX", DEFAULT_OCID_PREFIX)


def ocid_for(opportunity):
    return opportunity.ocid or f"{ocid_prefix()}-{opportunity.id}"


def _iso(moment):
    """A naive UK time (or a date) as an OCDS date-time with its offset."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    return moment.replace(tzinfo=UK_TIME).isoformat(timespec="seconds")


def _utc(moment):
    return moment.replace(tzinfo=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


TENDER_STATUS = {"draft": "planning", "planned": "planned", "market_engagement": "planned",
                 "open": "active", "evaluation": "active", "awarded": "complete",
                 "cancelled": "cancelled", "withdrawn": "withdrawn"}
RELEASE_TAG = {"draft": "planning", "planned": "planning", "market_engagement": "planning",
               "open": "tender", "evaluation": "tender", "awarded": "award",
               "cancelled": "tenderCancellation", "withdrawn": "planningUpdate"}
METHOD = {"open": "open", "below_threshold": "open", "light_touch": "open",
          "competitive_flexible": "selective", "dynamic": "selective", "psr_competitive": "open",
          "psr_most_suitable": "limited", "direct_award": "direct", "psr_direct": "direct"}


def _classification(cpv):
    return {"scheme": "CPV", "id": cpv.code, "description": cpv.description}


def _value(amount):
    return {"amount": amount, "currency": "GBP"}


def _party_id(org):
    return f"{ocid_prefix()}-org-{org.id}"


def _period(start=None, end=None, **extra):
    period = {k: v for k, v in (("startDate", _iso(start)), ("endDate", _iso(end))) if v}
    period.update({k: v for k, v in extra.items() if v is not None})
    return period


def _contract_period(opportunity):
    start = opportunity.contract_start_on
    months = opportunity.contract_months
    extra = {}
    if months:
        extra["durationInDays"] = round(months * 30.44)
        if start and opportunity.extension_months:
            extra["maxExtentDate"] = _iso(start + timedelta(
                days=round((months + opportunity.extension_months) * 30.44)))
    end = start + timedelta(days=round(months * 30.44)) if start and months else None
    return _period(start, end, **extra)


def _items(opportunity):
    item = {"id": "1", "description": opportunity.title}
    if opportunity.main_cpv:
        item["classification"] = _classification(opportunity.main_cpv)
    if opportunity.additional_cpv:
        item["additionalClassifications"] = [_classification(c) for c in opportunity.additional_cpv]
    if opportunity.areas:
        item["deliveryAddresses"] = [{"region": a.name, "countryName": "United Kingdom"}
                                     for a in opportunity.areas[:100]]
    items = [item]
    for lot in opportunity.lots:
        lot_item = {"id": f"lot-{lot.number}", "description": lot.title,
                    "relatedLot": str(lot.number)}
        if lot.cpv_codes:
            lot_item["classification"] = _classification(lot.cpv_codes[0])
        items.append(lot_item)
    return items


def _lot(lot):
    data = {"id": str(lot.number), "title": lot.title}
    if lot.description:
        data["description"] = lot.description
    if lot.value_max or lot.value_min is not None:
        data["value"] = _value(lot.value_max or lot.value_min)
    return data


def _documents(opportunity):
    return [{"id": str(d.id), "documentType": "tenderNotice" if i == 0 else "biddingDocuments",
             "title": d.title, "format": d.content_type,
             "datePublished": _utc(d.uploaded_at),
             "url": url_for("pipeline.document", opportunity_id=opportunity.id,
                            document_id=d.id, _external=True)}
            for i, d in enumerate(opportunity.documents)]


def _tender(opportunity):
    tender = {
        "id": opportunity.reference, "title": opportunity.title,
        "status": TENDER_STATUS[opportunity.status], "mainProcurementCategory": "services",
        "items": _items(opportunity),
        "suitability": {"vcse": opportunity.suitable_vcse, "sme": opportunity.suitable_sme},
    }
    if opportunity.description:
        tender["description"] = opportunity.description
    if opportunity.main_cpv:
        tender["classification"] = _classification(opportunity.main_cpv)
    if opportunity.value_min is not None:
        tender["value"] = _value(opportunity.value_max or opportunity.value_min)
        if opportunity.value_max:
            tender["minValue"] = _value(opportunity.value_min)
    if opportunity.procurement_route:
        method = METHOD.get(opportunity.procurement_route)
        if method:
            tender["procurementMethod"] = method
        tender["procurementMethodDetails"] = opportunity.route_label
    tender_period = _period(opportunity.tender_publish_on, opportunity.closing_at)
    if tender_period:
        tender["tenderPeriod"] = tender_period
    if opportunity.question_deadline:
        tender["enquiryPeriod"] = _period(None, opportunity.question_deadline)
    contract_period = _contract_period(opportunity)
    if contract_period:
        tender["contractPeriod"] = contract_period
    if opportunity.market_engagement_on:
        tender["milestones"] = [{
            "id": "market-engagement", "title": "Market engagement", "type": "engagement",
            "dueDate": _iso(opportunity.market_engagement_on),
            "description": opportunity.engagement_details or "Market engagement event"}]
    if opportunity.lots:
        tender["lots"] = [_lot(lot) for lot in opportunity.lots]
    if opportunity.documents:
        tender["documents"] = _documents(opportunity)
    answered = opportunity.published_questions()
    if answered:
        tender["hasEnquiries"] = True
        tender["enquiries"] = [{"id": str(q.id), "date": _utc(q.asked_at),
                                "description": q.published_question, "answer": q.answer,
                                "dateAnswered": _utc(q.answered_at)} for q in answered]
    return tender


def _supplier_party(winner, index):
    party = {"id": f"{ocid_prefix()}-supplier-{winner.organisation_id or 'x' + str(winner.id or index)}",
             "name": winner.name, "roles": ["supplier"],
             "details": {"vcse": winner.is_vcse}}
    if winner.is_sme:
        party["details"]["scale"] = "sme"
    return party


def _awards(opportunity, parties):
    award = opportunity.award
    if award is None:
        return []
    suppliers = []
    for index, winner in enumerate(award.winners):
        party = _supplier_party(winner, index)
        if any(p["id"] == party["id"] for p in parties):
            continue  # the same organisation named twice; OCDS lists each party once
        parties.append(party)
        suppliers.append({"id": party["id"], "name": winner.name})
    data = {"id": f"{ocid_for(opportunity)}-award-1", "status": "active",
            "date": _iso(award.awarded_on), "suppliers": suppliers}
    if award.value is not None:
        data["value"] = _value(award.value)
    return [data]


def release_for(opportunity):
    """The entry as one OCDS release: planning, tender, lots and award."""
    buyer = opportunity.organisation
    buyer_party = {"id": _party_id(buyer), "name": buyer.name, "roles": ["buyer"]}
    if opportunity.contact_role:
        buyer_party["contactPoint"] = {"name": opportunity.contact_role}
    parties = [buyer_party]
    release = {
        "ocid": ocid_for(opportunity),
        "id": f"{ocid_for(opportunity)}-{opportunity.updated_at:%Y%m%dT%H%M%S}",
        "date": _utc(opportunity.updated_at),
        "tag": [RELEASE_TAG[opportunity.status]],
        "initiationType": "tender",
        "language": "en",
        "buyer": {"id": buyer_party["id"], "name": buyer.name},
        "tender": _tender(opportunity),
    }
    planning = {}
    if opportunity.outcomes:
        planning["rationale"] = opportunity.outcomes
    if opportunity.whole_life_value is not None:
        planning["budget"] = {"amount": _value(opportunity.whole_life_value),
                              "description": "Estimated whole-life value"}
    if planning:
        release["planning"] = planning
    awards = _awards(opportunity, parties)
    if awards:
        release["awards"] = awards
    release["parties"] = parties
    return release


def release_package(opportunities, uri):
    """A release package for the given entries, as a dict ready for JSON."""
    opportunities = list(opportunities)
    latest = max((o.updated_at for o in opportunities), default=utcnow())
    return {
        "uri": uri,
        "version": OCDS_VERSION,
        "extensions": EXTENSIONS,
        "publishedDate": _utc(latest),
        "publisher": {"name": current_app.config["SERVICE_NAME"],
                      "uri": url_for("main.home", _external=True)},
        "license": OGL,
        "publicationPolicy": url_for("main.about_data", _external=True),
        "releases": [release_for(o) for o in opportunities],
    }
