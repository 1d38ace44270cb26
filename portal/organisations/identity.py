"""Which directory organisation a supplier named in an award is, if any.

An award names its winners as text, sometimes with registered numbers and an address. What is
drawn from it (a track record) must never land on the wrong profile, so a match needs two
facts, never a name alone: a charity or company number the organisation has registered, or
failing those the exact name (ignoring case, punctuation and "Ltd" for "Limited") and the same
postcode. The one exception is an organisation that took part in the same procurement (it
registered interest): there the name is the second fact. More than one organisation fitting is
no match.
"""
import re
from dataclasses import dataclass

from sqlalchemy import or_, select

from portal.core.exceptions import DomainError
from portal.extensions import db
from portal.organisations.models import (
    Organisation, normalise_charity_number, normalise_company_number, normalise_postcode,
)

# Identifier schemes of the org-id.guide register that carry a UK registered number, and the
# letters our charity numbers start with for each register.
CHARITY_SCHEMES = {"GB-CHC": "", "GB-SC": "SC", "GB-NIC": "NIC"}
COMPANY_SCHEME = "GB-COH"
POSTCODE_IN_TEXT = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})\b")
NAME_WORDS = {"ltd": "limited", "&": "and", "co": "company", "cic": "community interest company"}


@dataclass(frozen=True)
class NamedSupplier:
    """A supplier as an award names it: a name, and whatever else the award says about it."""

    name: str
    postcode: str | None = None
    charity_numbers: frozenset = frozenset()
    company_numbers: frozenset = frozenset()

    @classmethod
    def described(cls, name, identifiers=(), postcode=None):
        """From (scheme, id) pairs in org-id.guide form, and a postcode as written."""
        charities, companies = registered_numbers(identifiers)
        return cls(name or "", _postcode(postcode), frozenset(charities), frozenset(companies))


def name_key(name):
    """A name reduced to what makes it that name: "The Riverside Trust Ltd." and
    "riverside trust limited" give the same key."""
    words = re.findall(r"[a-z0-9]+|&", re.sub("['\u2019]", "", (name or "").casefold()))
    words = [NAME_WORDS.get(word, word) for word in words]
    return " ".join(words[1:] if words[:1] == ["the"] else words)


def registered_numbers(identifiers):
    """(charity numbers, company numbers) in our canonical forms from (scheme, id) pairs;
    unknown schemes and malformed numbers are left out."""
    charities, companies = set(), set()
    for scheme, value in identifiers:
        scheme = (scheme or "").strip().upper()
        value = str(value or "").strip().upper().removeprefix(scheme + "-")
        if scheme in CHARITY_SCHEMES:
            charities.add(_charity_number(CHARITY_SCHEMES[scheme], value))
        elif scheme == COMPANY_SCHEME:
            companies.add(_company_number(value))
    return charities - {None}, companies - {None}


def _charity_number(letters, value):
    if letters and value.isdigit():
        value = letters + value.zfill(6)
    try:
        return normalise_charity_number(value)
    except DomainError:
        return None


def _company_number(value):
    if not value.strip("0 "):  # publishers write zeros for "no number"
        return None
    try:
        return normalise_company_number(value)
    except DomainError:
        return None


def _postcode(value):
    try:
        return normalise_postcode(value)
    except DomainError:
        return None


def postcode_in(text):
    """The last UK postcode written in an address, in canonical form, or None."""
    found = POSTCODE_IN_TEXT.findall((text or "").upper())
    return _postcode(" ".join(found[-1])) if found else None


def find_organisations(suppliers, took_part=()):
    """For each named supplier, the one directory organisation it is, or None.

    Commissioners are never matched: a track record is a supplier's. `took_part` are
    organisations that registered interest in the same procurement. One query for them all.
    """
    suppliers = list(suppliers)
    candidates = _candidates(suppliers)
    return [_match(supplier, candidates, took_part) for supplier in suppliers]


def _candidates(suppliers):
    """Organisations sharing a registered number or a postcode with any of the suppliers."""
    charities = set().union(*(s.charity_numbers for s in suppliers))
    companies = set().union(*(s.company_numbers for s in suppliers))
    postcodes = {s.postcode for s in suppliers if s.postcode}
    conditions = [column.in_(sorted(values)) for column, values in (
        (Organisation.charity_number, charities), (Organisation.company_number, companies),
        (Organisation.postcode, postcodes)) if values]
    if not conditions:
        return []
    return db.session.scalars(select(Organisation).where(
        Organisation.org_type != "commissioner", or_(*conditions))
        .order_by(Organisation.id)).all()


def _match(supplier, candidates, took_part):
    """Numbers decide; failing any number in common, the name with the postcode; failing
    that, the name among those that took part."""
    key = name_key(supplier.name)
    rules = (
        (candidates, lambda org: _shares_a_number(supplier, org)),
        (candidates, lambda org: bool(supplier.postcode) and _postcode(org.postcode)
         == supplier.postcode and _same_name(key, supplier, org)),
        (took_part, lambda org: org.org_type != "commissioner"
         and _same_name(key, supplier, org)),
    )
    for pool, fits in rules:
        found = {org.id: org for org in pool if fits(org)}
        if found:
            return next(iter(found.values())) if len(found) == 1 else None
    return None


def _shares_a_number(supplier, org):
    return org.charity_number in supplier.charity_numbers or \
        org.company_number in supplier.company_numbers


def _same_name(key, supplier, org):
    """The same name, and no registered number that says it is someone else."""
    contradicted = (org.charity_number and supplier.charity_numbers) or \
        (org.company_number and supplier.company_numbers)
    return bool(key) and name_key(org.name) == key and not contradicted
