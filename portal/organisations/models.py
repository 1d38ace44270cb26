"""Organisations and what they say about themselves: categories, areas, policies, track record."""
import re
from datetime import date, datetime
from urllib.parse import urlsplit

from sqlalchemy import (
    BigInteger, Column, Date, DateTime, ForeignKey, Index, Integer, String, Table, Text, func, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import files
from portal.core.exceptions import DomainError
from portal.core.mixins import TimestampMixin, utcnow
from portal.extensions import db

ORG_TYPES = {
    "vcse": "Voluntary, community or social enterprise (VCSE)",
    "commissioner": "Commissioner (council, NHS or other public body)",
    "prime": "Prime contractor",
    "accreditation_body": "Accreditation body",
}
LEGAL_FORMS = {
    "vcse": {
        "registered_charity": "Registered charity",
        "cio": "Charitable incorporated organisation (CIO)",
        "cic": "Community interest company (CIC)",
        "community_benefit_society": "Community benefit society or co-operative",
        "company_limited_by_guarantee": "Company limited by guarantee",
        "unincorporated_association": "Unincorporated association",
    },
    "commissioner": {
        "council": "Council",
        "nhs_body": "NHS body",
        "other_public_body": "Other public body",
    },
    "prime": {
        "private_company": "Private company",
        "large_vcse": "Large VCSE",
    },
    "accreditation_body": {
        "infrastructure_body": "Local infrastructure or umbrella body",
        "public_body": "Public body",
        "independent_assessor": "Independent assessment organisation",
    },
}
# Legal forms that are registered charities, so come with a charity number.
CHARITY_FORMS = {"registered_charity": "a registered charity has one",
                 "cio": "a charitable incorporated organisation is a registered charity"}
# Bands follow the income bands used in the NCVO Civil Society Almanac.
INCOME_BANDS = {
    "micro": ("Under £10,000", 0, 10_000),
    "small": ("£10,000 to £100,000", 10_000, 100_000),
    "medium": ("£100,000 to £1 million", 100_000, 1_000_000),
    "large": ("£1 million to £10 million", 1_000_000, 10_000_000),
    "major": ("£10 million or more", 10_000_000, None),
}
CREDENTIAL_KINDS = {
    "safeguarding": "Safeguarding policy",
    "equality": "Equality and diversity policy",
    "health_and_safety": "Health and safety policy",
    "insurance": "Insurance",
    "quality_mark": "Quality mark or certificate",
    "other": "Other policy or certificate",
}
STATUSES = ("active", "suspended")
# Buyers publish work to suppliers and accreditation bodies judge them, so a site administrator
# checks who such an organisation is before it can do either. Anyone may register as one.
TYPES_NEEDING_VERIFICATION = ("commissioner", "accreditation_body")
VERIFICATION_BASES = {
    "public_sector_email": "Their email addresses are at a public body's own domain",
    "official_register": "The organisation is on an official register",
    "other": "Something else, described in the note",
}
MAX_VERIFICATION_NOTE = 2000
# Platforms that publish contract notices, by the ocid prefix each registered with the Open
# Contracting Partnership.
NOTICE_PUBLISHERS = {
    "ocds-b5fd17": "Contracts Finder",
    "ocds-h6vhtk": "Find a Tender",
    "ocds-r6ebe6": "Public Contracts Scotland",
    "ocds-kuma6s": "Sell2Wales",
}
OCID_PREFIX_RE = re.compile(r"\bocds-[a-z0-9]{6}\b")

CHARITY_NUMBER_RE = re.compile(r"^(\d{6,7}(-\d{1,2})?|SC\d{6}|NIC\d{6})$")
COMPANY_NUMBER_RE = re.compile(r"^(\d{8}|(SC|NI|OC|SO|NC|IP|SP|RS|SE|GE|LP|SL|NL|FC|NF|CE|CS|R0)\d{6})$")
POSTCODE_RE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})$")
MAX_WEBSITE = 300
WEBSITE_ERROR = "Enter a website address in the correct format, like www.example.org.uk"


def normalise_charity_number(value):
    """Return the charity number in canonical form, or raise DomainError."""
    value = (value or "").strip().upper().replace(" ", "")
    if not value:
        return None
    if not CHARITY_NUMBER_RE.match(value):
        raise DomainError(
            "Enter a charity number in the correct format, like 1234567, SC012345 or NIC100002",
            field="charity_number",
        )
    return value


def normalise_company_number(value):
    """Return an 8-character Companies House number, or raise DomainError."""
    value = (value or "").strip().upper().replace(" ", "")
    if not value:
        return None
    if value.isdigit() and len(value) <= 8:
        value = value.zfill(8)
    if not COMPANY_NUMBER_RE.match(value):
        raise DomainError(
            "Enter a company number in the correct format, like 01234567 or SC123456",
            field="company_number",
        )
    return value


def normalise_postcode(value):
    """Return a UK postcode as 'OUTWARD INWARD', or raise DomainError."""
    value = re.sub(r"\s+", "", (value or "").upper())
    if not value:
        return None
    match = POSTCODE_RE.match(value)
    if not match:
        raise DomainError("Enter a real postcode, like SW1A 1AA", field="postcode")
    return f"{match.group(1)} {match.group(2)}"


def normalise_website(value):
    """Return a web address starting http:// or https:// (https:// is added when missing),
    or raise DomainError."""
    value = (value or "").strip()
    if not value:
        return None
    if "://" not in value:
        value = "https://" + value
    if not _is_web_address(value):
        raise DomainError(WEBSITE_ERROR, field="website")
    if len(value) > MAX_WEBSITE:
        raise DomainError(f"Website must be {MAX_WEBSITE} characters or fewer", field="website")
    return value


def _is_web_address(value):
    # Whitespace and controls would end the address early wherever it is shown as a link.
    if any(char.isspace() or not char.isprintable() for char in value):
        return False
    try:
        parts = urlsplit(value)
        if parts.port == 0:  # reading .port raises ValueError when it is over 65535
            return False
    except ValueError:  # an unbalanced [ or ] (urlsplit takes it for an IPv6 host), a bad port
        return False
    # Someone's name before an @ only makes a link look like it goes somewhere else.
    return parts.scheme in ("http", "https") and "@" not in parts.netloc and \
        _is_host_name(parts.hostname or "")


def _is_host_name(host):
    """At least two dot-separated labels of letters (in any script), digits and inner hyphens."""
    labels = host.split(".")
    return len(labels) > 1 and all(
        label.replace("-", "").isalnum() and not label.startswith("-")
        and not label.endswith("-") for label in labels)


def income_band_for(amount):
    for key, (_label, low, high) in INCOME_BANDS.items():
        if amount >= low and (high is None or amount < high):
            return key
    return None


organisation_cpv = Table(
    "organisation_cpv", db.Model.metadata,
    Column("organisation_id", ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
    Column("cpv_code", ForeignKey("cpv_code.code"), primary_key=True, index=True),
)
organisation_area = Table(
    "organisation_area", db.Model.metadata,
    Column("organisation_id", ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
    Column("area_code", ForeignKey("area.code"), primary_key=True, index=True),
)
organisation_term = Table(
    "organisation_term", db.Model.metadata,
    Column("organisation_id", ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
    Column("term_id", ForeignKey("vocabulary_term.id"), primary_key=True),
)


class Organisation(TimestampMixin, db.Model):
    __tablename__ = "organisation"
    # The directory lists organisations by name, case aside, and counts them by status, type
    # and income from an index alone (organisations/directory.py).
    __table_args__ = (Index("ix_organisation_name_order", func.lower(text("name")), "id"),
                      Index("ix_organisation_counting", "status", "org_type", "income_band"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    other_names: Mapped[str | None] = mapped_column(String(400))
    org_type: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    legal_form: Mapped[str | None] = mapped_column(String(40))
    charity_number: Mapped[str | None] = mapped_column(String(12), index=True)
    company_number: Mapped[str | None] = mapped_column(String(8), index=True)
    address: Mapped[str | None] = mapped_column(String(400))
    postcode: Mapped[str | None] = mapped_column(String(8))
    website: Mapped[str | None] = mapped_column(String(MAX_WEBSITE))
    income_band: Mapped[str | None] = mapped_column(String(10), index=True)
    latest_income: Mapped[int | None] = mapped_column(BigInteger)
    staff_count: Mapped[int | None] = mapped_column(Integer)
    volunteer_count: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    contact_role: Mapped[str | None] = mapped_column(String(120))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(10), default="active", nullable=False,
                                        index=True)
    source_ref: Mapped[str | None] = mapped_column(String(80), unique=True)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    # use_alter: users belong to organisations, so this key closes a loop between the tables.
    verified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL", use_alter=True))
    verification_basis: Mapped[str | None] = mapped_column(String(30))
    verification_note: Mapped[str | None] = mapped_column(Text)

    members = relationship("User", back_populates="organisation",
                           foreign_keys="User.organisation_id")
    verified_by = relationship("User", foreign_keys=[verified_by_id])
    cpv_codes = relationship("CpvCode", secondary=organisation_cpv, order_by="CpvCode.code")
    areas = relationship("Area", secondary=organisation_area, order_by="Area.name")
    terms = relationship("VocabularyTerm", secondary=organisation_term,
                         order_by="VocabularyTerm.position")
    credentials = relationship("Credential", back_populates="organisation",
                               cascade="all, delete-orphan", order_by="Credential.kind")
    past_work = relationship("PastWork", back_populates="organisation",
                             cascade="all, delete-orphan", order_by="PastWork.awarded_on.desc()")

    @property
    def type_label(self):
        return ORG_TYPES.get(self.org_type, self.org_type)

    @property
    def legal_form_label(self):
        return LEGAL_FORMS.get(self.org_type, {}).get(self.legal_form, "")

    @property
    def income_band_label(self):
        return INCOME_BANDS[self.income_band][0] if self.income_band else ""

    @property
    def client_groups(self):
        return [t for t in self.terms if t.vocabulary == "client_group"]

    @property
    def ways_of_working(self):
        return [t for t in self.terms if t.vocabulary == "way_of_working"]

    @property
    def is_active(self):
        return self.status == "active"

    def set_type(self, org_type, legal_form):
        """Set type and legal form together: a legal form must belong to the type."""
        if org_type not in ORG_TYPES:
            raise DomainError("Choose the type of organisation", field="org_type")
        if legal_form and legal_form not in LEGAL_FORMS[org_type]:
            raise DomainError("Choose a legal form that fits the type of organisation",
                              field="legal_form")
        self.org_type, self.legal_form = org_type, legal_form or None

    def check_charity_number(self):
        """A registered charity, a CIO among them, has a charity number."""
        if self.legal_form in CHARITY_FORMS and not self.charity_number:
            raise DomainError(f"Enter the charity number: {CHARITY_FORMS[self.legal_form]}",
                              field="charity_number")

    def set_income(self, latest_income, income_band=None):
        """Record income; the band follows the figure when one is given."""
        if latest_income is not None and latest_income < 0:
            raise DomainError("Income cannot be negative", field="latest_income")
        if income_band and income_band not in INCOME_BANDS:
            raise DomainError("Choose an income band", field="income_band")
        self.latest_income = latest_income
        self.income_band = income_band_for(latest_income) if latest_income is not None else income_band

    def set_status(self, status):
        if status not in STATUSES:
            raise DomainError("Unknown organisation status")
        self.status = status

    @property
    def needs_verification(self):
        """A buyer or accreditation body that a site administrator has not checked yet."""
        return self.org_type in TYPES_NEEDING_VERIFICATION and self.verified_at is None

    @property
    def verification_basis_label(self):
        return VERIFICATION_BASES.get(self.verification_basis, "")

    def verify(self, by_user, basis, note):
        """Record that `by_user` (a site administrator, or None for data loaded in bulk) checked
        who this organisation is, on what basis and with what note."""
        if self.org_type not in TYPES_NEEDING_VERIFICATION:
            raise DomainError(f"{self.type_label} organisations do not need verifying")
        if self.verified_at is not None:
            raise DomainError(f"{self.name} has already been verified")
        if basis not in VERIFICATION_BASES:
            raise DomainError("Choose what you checked", field="basis")
        note = (note or "").strip()
        if not note:
            raise DomainError("Say what you checked and what you found", field="note")
        if len(note) > MAX_VERIFICATION_NOTE:
            raise DomainError(f"The note must be {MAX_VERIFICATION_NOTE:,} characters or fewer",
                              field="note")
        self.verified_at, self.verified_by = utcnow(), by_user
        self.verification_basis, self.verification_note = basis, note


class Credential(TimestampMixin, db.Model):
    """A policy or certificate the organisation holds, with its expiry date and, optionally,
    the document itself (kept in the evidence store, outside static/, under a random name)."""

    __tablename__ = "credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    reference: Mapped[str | None] = mapped_column(String(120))
    cover_amount: Mapped[int | None] = mapped_column(BigInteger)
    expires_on: Mapped[date | None] = mapped_column(Date)
    filename: Mapped[str | None] = mapped_column(String(200))
    stored_name: Mapped[str | None] = mapped_column(String(64))
    file_kind: Mapped[str | None] = mapped_column(String(10))
    file_size: Mapped[int | None] = mapped_column(Integer)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_uploaded_at: Mapped[datetime | None] = mapped_column(DateTime)

    organisation = relationship("Organisation", back_populates="credentials")

    @property
    def kind_label(self):
        return CREDENTIAL_KINDS.get(self.kind, self.kind)

    @property
    def has_file(self):
        return self.stored_name is not None

    def attach_file(self, filename, stored_name, kind, size, sha256):
        """Keep the document (already checked and stored); returns the stored name it replaces."""
        replaced = self.stored_name
        self.filename, self.stored_name, self.file_kind = filename, stored_name, kind
        self.file_size, self.file_sha256, self.file_uploaded_at = size, sha256, utcnow()
        return replaced

    def detach_file(self):
        """Forget the document; returns its stored name, for deleting once nothing names it."""
        stored_name = self.stored_name
        self.filename = self.stored_name = self.file_kind = None
        self.file_size = self.file_sha256 = self.file_uploaded_at = None
        return stored_name

    @property
    def is_expired(self):
        return self.expires_on is not None and self.expires_on < date.today()

    def validate(self):
        if self.kind not in CREDENTIAL_KINDS:
            raise DomainError("Choose what kind of policy or certificate this is", field="kind")
        if self.kind == "insurance" and not self.cover_amount:
            raise DomainError("Enter the amount of cover for insurance", field="cover_amount")
        if self.cover_amount is not None and self.cover_amount < 0:
            raise DomainError("Cover cannot be negative", field="cover_amount")


files.named_by(Credential.stored_name)

PAST_WORK_KINDS = ("grant", "contract")


class PastWork(db.Model):
    """Track record: a grant or contract the organisation delivered."""

    __tablename__ = "past_work"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    funder_name: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    awarded_on: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10), default="grant", nullable=False)
    # Where the row came from: "award:<award id>" for an award recorded on the portal,
    # "ocds:<ocid>:<award id>:<supplier id>" for an award in an imported contract notice, or an
    # attribution line for seeded grants and notices ("Contains data published to the
    # 360Giving Data Standard by ...", "Contracts Finder notice <ocid>").
    source: Mapped[str | None] = mapped_column(String(200))

    organisation = relationship("Organisation", back_populates="past_work")

    @property
    def origin(self):
        """Where the row came from: "award" (recorded on the portal), "notice" (a published
        contract notice), "360giving" (a funder's grants data) or None when not known."""
        source = self.source or ""
        if source.startswith("award:"):
            return "award"
        if source.startswith("ocds:") or OCID_PREFIX_RE.search(source):
            return "notice"
        return "360giving" if "360Giving" in source else None

    @property
    def publisher(self):
        """The platform that published the contract notice, when it is known."""
        found = OCID_PREFIX_RE.search(self.source or "")
        return NOTICE_PUBLISHERS.get(found.group(0)) if found else None
