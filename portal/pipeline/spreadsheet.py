"""Forward plans in spreadsheets: the template, reading CSV and XLSX files forgivingly, the
preview and confirmation of an import, the report of bad rows, and exports."""
import csv
import io
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from sqlalchemy import select

from portal.core import audit
from portal.core.archives import check_archive
from portal.core.exceptions import DomainError
from portal.core.mixins import utcnow
from portal.core.text import clean_imported_text
from portal.extensions import db
from portal.organisations.verification import AwaitingVerification, require_verified
from portal.pipeline import services
from portal.pipeline.models import ROUTES, STATUSES, VALUE_BASES, Opportunity, combine

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000
UPDATABLE_STATUSES = ("draft", "planned", "market_engagement")
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    help: str
    example: str = ""
    aliases: tuple = ()


COLUMNS = (
    Column("reference", "Reference", "Required. Your own reference for the entry, unique in your "
           "plan. Importing a row with a reference already in your plan updates that entry.",
           "ASC-2027-01", ("ref", "yourreference", "id", "referencenumber", "refno",
                           "procurementreference", "contractreference", "projectreference")),
    Column("title", "Title", "Required. A short name for the work.",
           "Community support for carers", ("name", "contracttitle", "contractname",
                                            "projecttitle", "projectname")),
    Column("description", "Description", "What you need, in plain English. Needed to publish.",
           "Support for unpaid carers across the borough, including advice and short breaks.",
           ("summary",)),
    Column("outcomes", "Outcomes", "The difference the service should make.",
           "Carers feel supported and able to continue caring."),
    Column("main_cpv_code", "Main CPV code", "An 8-digit CPV code. Needed to publish.",
           "85312000", ("cpv", "cpvcode", "maincpv", "category")),
    Column("additional_cpv", "Other CPV codes", "More CPV codes, separated by commas.",
           "85320000, 85311000", ("additionalcpv", "additionalcpvcodes", "othercpv")),
    Column("areas", "Areas", "Council, county, region or nation names or GSS codes, separated by "
           "commas. Needed to publish.", "Leeds, Bradford", ("area", "location", "locations")),
    Column("client_groups", "Client groups", "Who the service is for, from the portal's list, "
           "separated by commas.", "Carers, Older people", ("clientgroup", "whofor")),
    Column("value_min", "Estimated value", "In pounds. A single figure, or a range such as "
           "£100,000 - £150,000. £ signs and commas are fine.", "£450,000",
           ("value", "estimatedvalue", "valuemin", "minvalue", "contractvalue", "totalvalue",
            "totalcontractvalue", "estimatedcontractvalue", "estimatedtotalvalue")),
    Column("value_max", "Upper value", "In pounds, if you give a range.", "£500,000",
           ("valuemax", "maxvalue")),
    Column("value_basis", "Value basis", "'Whole life' (the default) or 'Per year'.",
           "Whole life", ("basis",)),
    Column("contract_months", "Contract length (months)", "A whole number of months; '3 years' "
           "also works.", "36", ("contractlength", "contractmonths", "duration", "length")),
    Column("extension_months", "Extensions (months)", "Months of extension options in total.",
           "24", ("extensions", "extensionmonths", "extension")),
    Column("market_engagement_on", "Market engagement date", "A date, like 15/01/2027.",
           "15/01/2027", ("marketengagement", "engagementdate")),
    Column("tender_publish_on", "Tender publication date", "A date, like 01/03/2027.",
           "01/03/2027", ("tenderdate", "publicationdate", "tenderpublished")),
    Column("question_deadline", "Question deadline", "A date and optional time.", "",
           ("clarificationdeadline",)),
    Column("closing_at", "Closing date", "A date and optional time, like 12/04/2027 12:00.",
           "12/04/2027 12:00", ("closing", "closingdate", "deadline", "tenderclosing")),
    Column("contract_start_on", "Contract start date", "A date, like 01/10/2027.", "01/10/2027",
           ("contractstart", "startdate")),
    Column("procurement_route", "Procurement route", "One of: " + "; ".join(
        r.label for r in ROUTES.values()) + ".", "Light touch contract (health, social, "
           "education and other services)", ("route", "procedure", "procurementprocedure")),
    Column("suitable_vcse", "Suitable for VCSEs", "Yes or No.", "Yes", ("vcse", "vcsesuitable")),
    Column("suitable_sme", "Suitable for SMEs", "Yes or No.", "Yes", ("sme", "smesuitable")),
    Column("consortium_welcome", "Consortium bids welcome", "Yes or No.", "Yes",
           ("consortium", "consortiabidswelcome")),
    Column("subcontracting_expected", "Sub-contracting expected", "Yes or No.", "No",
           ("subcontracting",)),
    Column("contact_role", "Contact role", "A job title or team, not a person's name.",
           "Commissioning team", ("contact",)),
)
REQUIRED = ("reference", "title")
EXPORT_ONLY = Column("status", "Stage", "Shown in exports; ignored when importing.", "",
                     ("status",))
YES = {"yes", "y", "true", "1", "x", "✓", "✔"}
NO = {"no", "n", "false", "0", ""}


def _norm(text):
    return re.sub(r"[^a-z0-9]", "", str(text or "").lower())


HEADER_LOOKUP = {}
for _column in COLUMNS + (EXPORT_ONLY,):
    for _name in (_column.key, _column.header, *_column.aliases):
        HEADER_LOOKUP.setdefault(_norm(_name), _column.key)


# --- Reading files ------------------------------------------------------------------------------

class FileProblem(DomainError):
    """The file as a whole cannot be read."""


@dataclass
class RawRow:
    line: int
    cells: dict  # column key -> raw value (str, number, date or Formula)
    original: list


@dataclass
class Formula:
    text: str


UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode(data):
    """Text from bytes in the encodings spreadsheets are saved in: UTF-8 (with or without a
    byte-order mark), Windows-1252, which Excel uses for 'CSV' on UK Windows, or UTF-16 with
    its byte-order mark, which Excel writes as 'Unicode Text'."""
    if data.startswith(UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise FileProblem(f"The file is saved as UTF-16 text but is broken at byte "
                              f"{error.start + 1:,}. Save it again as 'CSV UTF-8'.",
                              field="file") from None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


# A Unicode noncharacter, which no real file contains, fed to the reader after the last line: only
# a value left open by a stray quotation mark takes it in.
END_OF_FILE = "\uffff"
OPEN_TO_THE_END = ("Line {start}: a quotation mark is not closed, so the rest of the file would "
                   "be read as one value. Check the quotes on this line.")
OPEN_ACROSS_LINES = ("Line {start}: a quotation mark is not closed properly, so lines {start} to "
                     "{end} would be read as one row. Check the quotes on line {start}.")


def _dialect(text):
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _records(lines, dialect):
    """(first line, last line, values) of each CSV record; a record spans several lines when a
    quoted value holds line breaks."""
    # Spreadsheet programs always write a quote inside a value as "", but the sniffer only
    # assumes so if it happens to see one in its sample.
    reader = csv.reader(lines + [END_OF_FILE], dialect, doublequote=True)
    start = 1
    try:
        for values in reader:
            yield start, reader.line_num, values
            start = reader.line_num + 1
    except csv.Error as error:
        raise FileProblem(f"Line {start} could not be read as CSV ({error}). Check the quotes on "
                          "this line.", field="file") from None


def _well_formed(lines, dialect):
    """Whether a record's lines parse strictly. A value that spans lines legitimately does; one
    opened by a stray quote ends at some later quote that is not followed by a separator."""
    try:
        list(csv.reader(lines, dialect, doublequote=True, strict=True))
    except csv.Error:
        return False
    return True


def read_csv(data):
    """(line, values) for each record, line being the physical line the record starts on.

    Refuses the file when a stray quotation mark would make later lines part of one value.
    """
    text = decode(data)
    dialect = _dialect(text)
    lines = io.StringIO(text, newline="").readlines()
    rows = []
    for start, end, values in _records(lines, dialect):
        if end > len(lines):  # the record that read END_OF_FILE
            if values != [END_OF_FILE]:
                raise FileProblem(OPEN_TO_THE_END.format(start=start), field="file")
            break
        if end > start and not _well_formed(lines[start - 1:end], dialect):
            raise FileProblem(OPEN_ACROSS_LINES.format(start=start, end=end), field="file")
        rows.append((start, values))
    return rows


# openpyxl reads every row of every sheet once before it gives the first one (to size the
# sheets), so what a workbook costs to open is its rows in all. Empty rows that are formatted
# count too; far more than a plan needs is refused before openpyxl sees the file.
MAX_WORKBOOK_ROWS = 10 * MAX_ROWS
ROW_TAG_RE = re.compile(rb"<(?:\w+:)?row[\s/>]")


def _workbook_rows(data):
    """How many rows all the sheets of a workbook hold, counted in the XML as it unpacks (the
    archive's size is checked first, so this is bounded)."""
    rows = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.infolist():
            if not member.filename.startswith("xl/worksheets/"):
                continue
            with archive.open(member) as sheet:
                tail = b""
                while chunk := sheet.read(1 << 20):
                    window = tail + chunk
                    rows += len(ROW_TAG_RE.findall(window)) - len(ROW_TAG_RE.findall(tail))
                    tail = window[-32:]
    return rows


def _check_workbook_size(data):
    try:
        rows = _workbook_rows(data)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError):
        return  # openpyxl says it cannot open the file
    if rows > MAX_WORKBOOK_ROWS:
        raise FileProblem(f"The workbook has {rows:,} rows across its sheets, counting empty "
                          f"rows that are formatted; a plan has at most {MAX_ROWS:,}. Copy the "
                          "plan into a new workbook, or save it as CSV.", field="file")


def read_xlsx(data):
    check_archive(data, what="workbook")
    _check_workbook_size(data)
    try:
        formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        values = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of error for a broken file
        raise FileProblem("The file could not be opened as an Excel workbook (.xlsx)",
                          field="file") from None
    sheet_f, sheet_v = formulas.worksheets[0], values.worksheets[0]
    rows, filled = [], 0
    for number, (row_f, row_v) in enumerate(
            zip(sheet_f.iter_rows(values_only=True), sheet_v.iter_rows(values_only=True)),
            start=1):
        cells = []
        for formula, value in zip(row_f, row_v):
            if isinstance(formula, str) and formula.startswith("=") and value is None:
                cells.append(Formula(formula))
            else:
                cells.append(value)
        rows.append((number, cells))
        # Empty rows do not count: stopping at a number of rows read would drop the rows of a
        # plan with gaps in it. Past this many filled ones the plan is over the limit anyway.
        filled += any(_text(c) for c in cells)
        if filled > MAX_ROWS + HEADING_SEARCH_ROWS + 1:
            break
    return rows


@dataclass
class Table:
    """A file's rows as the import sees them."""

    header: list  # the heading cells as written
    header_line: int
    mapping: dict  # position of a column -> column key
    ignored: list  # headings we do not know
    rows: list  # a RawRow for each row under the headings
    totals: list  # RawRows at the bottom that add up the others


# Titles and notes often sit above the headings; this many rows are searched for them.
HEADING_SEARCH_ROWS = 20
BRACKETED_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]")


def _read_any(filename, data):
    if not data:
        raise FileProblem("The selected file is empty", field="file")
    if filename.lower().endswith(".xlsx") or data.startswith(b"PK\x03\x04"):
        return read_xlsx(data)
    if b"\x00" in data[:4096] and not data.startswith(UTF16_BOMS):
        raise FileProblem("The file is not text that can be read as CSV. Save it as 'CSV "
                          "UTF-8' or as an Excel workbook (.xlsx)", field="file")
    return read_csv(data)


def read_rows(filename, data):
    """The headings, the rows under them and any totals rows of a CSV or XLSX file; line
    numbers are those of the file itself."""
    table = [(line, cells) for line, cells in _read_any(filename, data)
             if any(_text(c) for c in cells)]
    if not table:
        raise FileProblem("The file has no rows", field="file")
    index = _heading_row(table)
    header_line, header = table[index]
    mapping, ignored = _map_headings(header)
    missing = [c.header for c in COLUMNS if c.key in REQUIRED and c.key not in mapping.values()]
    if missing:
        raise FileProblem("The file needs a row of column headings (we look in the first "
                          f"{HEADING_SEARCH_ROWS} rows). Missing: " + ", ".join(missing)
                          + ". Download the template to see the column names.", field="file")
    body = table[index + 1:]
    if len(body) > MAX_ROWS:
        raise FileProblem(f"The file has more than {MAX_ROWS:,} rows; split it into smaller "
                          "files", field="file")
    rows = [RawRow(line, {key: cells[i] for i, key in mapping.items() if i < len(cells)},
                   list(cells)) for line, cells in body]
    rows, totals = _split_totals(rows)
    return Table(list(header), header_line, mapping, ignored, rows, totals)


def header_key(name):
    """The column a heading names, forgiving case, spaces, line breaks, punctuation and a note
    in brackets ("Estimated value (£)")."""
    if isinstance(name, Formula):
        return None
    text = _text(name)
    return HEADER_LOOKUP.get(_norm(text)) or HEADER_LOOKUP.get(_norm(BRACKETED_RE.sub("", text)))


def _heading_row(table):
    """Which of the first rows names the required columns and the most others."""
    def score(cells):
        keys = {key for key in map(header_key, cells) if key}
        return (all(k in keys for k in REQUIRED), len(keys))
    scores = [score(cells) for _line, cells in table[:HEADING_SEARCH_ROWS]]
    return scores.index(max(scores))


def _map_headings(header):
    mapping, ignored = {}, []
    for index, name in enumerate(header):
        key = header_key(name)
        if key and key not in mapping.values():
            mapping[index] = key
        elif _text(name):
            ignored.append(" ".join(_text(name).split()))
    return mapping, ignored


TOTAL_LABEL_RE = re.compile(r"^(?:grand\s*|sub-?\s*)?totals?(?:\s+(?:value|values|spend|costs?|"
                            r"amounts?|budget))?\s*:?$", re.I)


def _split_totals(rows):
    """Rows at the bottom that add up the others: a cell saying "Total", or amounts alone."""
    end = len(rows)
    while end and _is_totals(rows[end - 1]):
        end -= 1
    return rows[:end], rows[end:]


def _is_totals(row):
    named = [_text(row.cells.get(key)) for key in REQUIRED]
    if any(TOTAL_LABEL_RE.match(_text(cell)) for cell in row.original
           if not isinstance(cell, Formula)):
        return not all(named) or any(TOTAL_LABEL_RE.match(text) for text in named)
    return not any(named) and all(_is_amount(cell) for cell in row.original if _text(cell))


def _is_amount(cell):
    if isinstance(cell, Formula) or _text(cell).startswith("=") or (
            isinstance(cell, (int, float)) and not isinstance(cell, bool)):
        return True
    try:
        return parse_money(cell) is not None
    except ValueError:
        return False


# --- Reading cells ------------------------------------------------------------------------------

def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def clean_text(value):
    """Cell text, undoing the apostrophe our exports put before = + - @."""
    if isinstance(value, Formula):
        raise ValueError(f"contains a formula ({value.text[:40]}) with no saved value; type the "
                         "value itself")
    text = _text(value)
    if text.startswith("'") and text[1:2] in ("=", "+", "-", "@"):
        return text[1:]
    if text.startswith("="):
        raise ValueError(f"contains a formula ({text[:40]}); type the value itself")
    return text


MONEY_RE = re.compile(r"^(\d+(?:\.\d+)?)(k|m|bn|million|thousand)?$")
MULTIPLIERS = {None: 1, "k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000,
               "bn": 1_000_000_000}
# What people type when they do not know a value yet: kept as no value, never as £0.
NOT_KNOWN = {"tbc", "tbd", "tba", "na", "nk", "unknown", "notknown", "notyetknown",
             "tobeconfirmed", "tobedecided", "tobeagreed", "notpublished", "notgiven",
             "notapplicable", "none"}
NOT_KNOWN_MARKS = {"-", "–", "—", "?", "n/a"}
# "approx. £500k", "c. £1.2m", "up to £250,000": the amount is what counts.
MONEY_PREFIX_RE = re.compile(r"^(?:approx(?:imately)?\.?|c\.|circa|around|about|up to|"
                             r"est(?:imated)?\.?)\s*", re.I)


def not_known(text):
    """Whether a cell says the value is not known yet ("TBC", "n/a", "-")."""
    text = str(text).strip().lower()
    return text in NOT_KNOWN_MARKS or (_norm(text) in NOT_KNOWN and not any(
        c.isdigit() for c in text))


def parse_money(value):
    """'£1,200,000', '1.2m', '£500k' or 1200000 as whole pounds; None when blank, zero or not
    known yet ('TBC', 'n/a')."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("must not be negative")
        return int(round(value)) or None
    text = clean_text(value)
    if not_known(text):
        return None
    text = MONEY_PREFIX_RE.sub("", text).lower()
    text = text.replace("£", "").replace(",", "").replace(" ", "").replace("gbp", "")
    if not text:
        return None
    match = MONEY_RE.match(text)
    if not match:
        raise ValueError(f"'{_text(value)}' is not an amount in pounds, like £250,000")
    return int(round(float(match.group(1)) * MULTIPLIERS[match.group(2)])) or None


def parse_money_range(value):
    """A single amount, or 'low - high' / 'low to high'; returns (low, high or None)."""
    text = clean_text(value) if not isinstance(value, (int, float)) else value
    if isinstance(text, str):
        parts = re.split(r"\s+(?:-|–|to)\s+|(?<=\d)-(?=£?\d)", MONEY_PREFIX_RE.sub("", text))
        if len(parts) == 2:
            return parse_money(parts[0]), parse_money(parts[1])
    return parse_money(value), None


DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d-%m-%y", "%d.%m.%Y", "%d.%m.%y",
                "%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%d %B %y", "%d %b %y", "%B %Y", "%b %Y",
                "%d %b, %Y", "%d %B, %Y", "%B, %Y", "%b-%y", "%b-%Y", "%B-%Y", "%B %y",
                "%m/%Y", "%d-%b-%Y", "%d-%b-%y")
EXCEL_SERIAL_RE = re.compile(r"^\d{5}(?:\.0+)?$")
EXCEL_EPOCH = date(1899, 12, 30)
ORDINAL_RE = re.compile(r"(\d)(st|nd|rd|th)\b", re.I)


def parse_datetime(value):
    """A date (and optional time) in the usual UK spreadsheet forms; None when blank.

    Returns (date, time or None). Day comes before month, as in the UK.
    """
    if isinstance(value, datetime):
        return value.date(), (value.time() if value.time() != time(0, 0) else None)
    if isinstance(value, date):
        return value, None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20_000 <= value <= 80_000:  # an Excel date serial that lost its format
            return EXCEL_EPOCH + timedelta(days=int(value)), None
        raise ValueError(f"'{_text(value)}' is not a date, like 21/03/2027")
    text = ORDINAL_RE.sub(r"\1", " ".join(clean_text(value).split()))
    if not text:
        return None
    if EXCEL_SERIAL_RE.match(text):  # a serial pasted as text
        return parse_datetime(float(text))
    return _date_in_words(text)


def _date_in_words(text):
    if not_known(text):
        # A date left as "TBC" might be a mistake for one that is known, so it is reported.
        raise ValueError(f"'{text}' is not a date; leave the cell empty if the date is not "
                         "known yet")
    # Python knows "Sep" and "September" but not the "Sept" people write.
    text = re.sub(r"\bSept\b", "Sep", text, flags=re.I)
    day_part, at = _split_time(text)
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(day_part, fmt).date(), at
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a date we recognise; use a form like 21/03/2027")


TIME_SUFFIX_RE = re.compile(
    r"^(.*?)[ T,]+(\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm)|\d{1,2}[:.]\d{2})(?::\d{2})?$", re.I)


def _split_time(text):
    match = TIME_SUFFIX_RE.match(text)
    if not match:
        return text, None
    from portal.pipeline.forms import parse_time
    return match.group(1).strip(), parse_time(match.group(2))


def parse_months(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    text = clean_text(value).lower()
    if not text or not_known(text):
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(months?|years?|yrs?|m|y)?", text)
    if not match:
        raise ValueError(f"'{text}' is not a number of months, like 36")
    number = float(match.group(1))
    unit = match.group(2) or "months"
    return int(round(number * 12)) if unit.startswith("y") else int(round(number))


def parse_flag(value):
    text = clean_text(value).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError(f"'{text}' should be Yes or No")


ROUTE_ALIASES = {
    "open": "open", "openprocedure": "open", "competitiveflexible": "competitive_flexible",
    "lighttouch": "light_touch", "belowthreshold": "below_threshold",
    "belowthresholdopen": "below_threshold", "grant": "grant", "grants": "grant",
    "dps": "dynamic", "dynamicpurchasingsystem": "dynamic", "dynamicmarket": "dynamic",
    "directaward": "direct_award", "psrdirectaward": "psr_direct",
    "mostsuitableprovider": "psr_most_suitable", "psrcompetitive": "psr_competitive",
}
ROUTE_ALIASES.update({_norm(key): key for key in ROUTES})
ROUTE_ALIASES.update({_norm(route.label): key for key, route in ROUTES.items()})


def parse_route(value):
    text = clean_text(value)
    if not text:
        return None
    route = ROUTE_ALIASES.get(_norm(text))
    if route is None:
        raise ValueError(f"'{text}' is not a procurement route we know; see the template")
    return route


def parse_basis(value):
    text = _norm(clean_text(value))
    if text in ("", "wholelife", "total", "wholecontract", "lifetime"):
        return "whole_life"
    if text in ("peryear", "annual", "annually", "yearly", "ayear", "pa", "perannum"):
        return "annual"
    raise ValueError("should be 'Whole life' or 'Per year'")


# --- Rows -> data -------------------------------------------------------------------------------

SKIPPED_ACTIONS = ("duplicate", "total")


@dataclass
class RowResult:
    line: int
    reference: str
    title: str
    data: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    action: str = "create"  # or "update"; "duplicate" and "total" rows are left out
    original: list = field(default_factory=list)
    note: str = ""  # why a row was left out

    @property
    def ok(self):
        return not self.problems

    @property
    def skipped(self):
        return self.action in SKIPPED_ACTIONS


HEADERS = {c.key: c.header for c in COLUMNS}
TEXT_KEYS = ("reference", "title", "description", "outcomes", "main_cpv_code", "additional_cpv",
             "areas", "client_groups", "contact_role")
DATE_KEYS = ("market_engagement_on", "tender_publish_on", "contract_start_on")
DATETIME_KEYS = ("question_deadline", "closing_at")
FLAG_KEYS = ("suitable_vcse", "suitable_sme", "consortium_welcome", "subcontracting_expected")


def clean_paragraphs(value):
    """Free text, without the HTML, escapes and flattened line breaks of other systems."""
    return clean_imported_text(clean_text(value))


def clean_line(value):
    """A title or a role: cleaned like free text, on one line."""
    return clean_imported_text(clean_text(value), multiline=False)


TEXT_PARSERS = {"title": clean_line, "contact_role": clean_line,
                "description": clean_paragraphs, "outcomes": clean_paragraphs}


def _cell(row, key, parser, result):
    if key not in row.cells:
        return None
    value = row.cells[key]
    if isinstance(value, str) and "\x00" in value:
        # A sign of a damaged file, and PostgreSQL refuses NUL even in a lookup (the other
        # control characters are tidied away with the rest of a bad export's marks).
        result.problems.append(f"{HEADERS[key]}: contains a NUL character, a sign the file is "
                               "damaged; retype the cell")
        return None
    try:
        return parser(value)
    except ValueError as error:
        result.problems.append(f"{HEADERS[key]}: {error}")
        return None


def row_data(row):
    """Turn a row's cells into the services' data, collecting a problem per bad cell.

    Columns missing from the file are left out of the data, so an update keeps what the
    entry already has for them.
    """
    result = RowResult(row.line, "", "", original=row.original)
    data = {}
    for key in TEXT_KEYS:
        if key in row.cells:
            data[key] = _cell(row, key, TEXT_PARSERS.get(key, clean_text), result) or ""
    for key in DATE_KEYS:
        parsed = _cell(row, key, parse_datetime, result)
        if key in row.cells:
            data[key] = parsed[0] if parsed else None
    for key in DATETIME_KEYS:
        parsed = _cell(row, key, parse_datetime, result)
        if key in row.cells:
            data[key] = combine(*parsed) if parsed else None
    if "value_min" in row.cells:
        low, high = _cell(row, "value_min", parse_money_range, result) or (None, None)
        data["value_min"] = low
        data["value_max"] = high
    if "value_max" in row.cells and row.cells["value_max"] not in (None, ""):
        data["value_max"] = _cell(row, "value_max", parse_money, result)
    for key, parser in (("contract_months", parse_months), ("extension_months", parse_months),
                        ("procurement_route", parse_route), ("value_basis", parse_basis)):
        if key in row.cells:
            data[key] = _cell(row, key, parser, result)
    for key in FLAG_KEYS:
        if key in row.cells:
            data[key] = bool(_cell(row, key, parse_flag, result))
    result.reference = (data.get("reference") or "").strip()
    result.title = (data.get("title") or "").strip()
    if not result.reference:
        result.problems.append("Reference: enter a reference for the entry")
    if not result.title:
        result.problems.append("Title: enter a title")
    result.data = data
    return result


def _check_lookups(result):
    """Report every unknown code, area or client group, not only the first."""
    checks = (("main_cpv_code", services.resolve_cpv_code), ("additional_cpv",
              services.resolve_cpv_codes), ("areas", services.resolve_areas),
              ("client_groups", services.resolve_client_groups))
    for key, resolve in checks:
        if key in result.data:
            try:
                resolve(result.data[key])
            except DomainError as error:
                result.problems.append(f"{HEADERS[key]}: {error.message}")


def _check_whole_row(org, result, existing, publish):
    """Apply the row to a scratch entry, so every rule of the model is checked."""
    scratch = Opportunity(organisation_id=org.id, title="", reference=result.reference)
    if existing is not None:
        _copy_for_check(existing, scratch)
    try:
        services.apply_changes(scratch, {k: v for k, v in result.data.items()
                                         if k != "reference"})
        if publish and scratch.status == "draft":
            scratch.move_to("planned")
    except DomainError as error:
        label = HEADERS.get(error.field, "")
        result.problems.append(f"{label}: {error.message}" if label else error.message)


def _copy_for_check(existing, scratch):
    for column in Opportunity.__mapper__.column_attrs:
        if column.key not in ("id", "created_at", "updated_at"):
            setattr(scratch, column.key, getattr(existing, column.key))
    scratch.main_cpv = existing.main_cpv
    scratch.additional_cpv = list(existing.additional_cpv)
    scratch.areas = list(existing.areas)
    scratch.client_groups = list(existing.client_groups)


def _existing(org):
    return {o.reference: o for o in db.session.scalars(
        select(Opportunity).where(Opportunity.organisation_id == org.id))}


@dataclass
class Preview:
    filename: str
    rows: list
    ignored_columns: list
    missing_columns: list
    header_line: int = 1

    @property
    def good(self):
        return [r for r in self.rows if r.ok and not r.skipped]

    @property
    def bad(self):
        return [r for r in self.rows if not r.ok]

    @property
    def skipped(self):
        return [r for r in self.rows if r.skipped]

    @property
    def duplicates(self):
        return [r for r in self.rows if r.action == "duplicate"]

    @property
    def totals(self):
        return [r for r in self.rows if r.action == "total"]


def preview_import(org, filename, data, publish=False):
    """Check every row of a spreadsheet against the rules without saving anything.

    Rows that repeat an earlier row or an entry already in the plan, and totals rows at the
    bottom, are left out and listed with their lines.
    """
    table = read_rows(filename, data)
    existing = _existing(org)
    repeats = _Repeats(existing)
    with db.session.no_autoflush:
        results = [_checked_row(org, raw, existing, repeats, publish) for raw in table.rows]
    db.session.rollback()
    results += [_skip(RowResult(raw.line, _text(raw.cells.get("reference")),
                                _text(raw.cells.get("title")), original=raw.original),
                      "total", "This looks like a totals row, so it is not an entry.")
                for raw in table.totals]
    missing = [c.header for c in COLUMNS if c.key not in table.mapping.values()]
    return Preview(filename, results, table.ignored, missing, table.header_line)


def _checked_row(org, raw, existing, repeats, publish):
    result = row_data(raw)
    current = existing.get(result.reference)
    if current is not None:
        result.action = "update"
    repeats.check(result)
    if result.skipped:
        return result
    if current is not None and current.status not in UPDATABLE_STATUSES:
        result.problems.append(f"Reference: the entry '{result.reference}' is "
                               f"'{current.status_label.lower()}', so change it on its own page")
    if not result.problems:
        _check_lookups(result)
    if not result.problems:
        _check_whole_row(org, result, current, publish)
    repeats.remember(result)
    return result


def _skip(result, action, note):
    result.action, result.note, result.problems = action, note, []
    return result


class _Repeats:
    """Rows that repeat an earlier row of the file, or an entry already in the plan under
    another reference, so that one piece of work never becomes two entries."""

    def __init__(self, existing):
        self.by_reference = {}  # reference -> result of its first row
        self.by_work = {}  # (title, dates) -> line of the first good row for that work
        self.plan = defaultdict(list)  # title -> entries already in the plan
        for entry in existing.values():
            self.plan[_norm(entry.title)].append(entry)

    def check(self, result):
        if not result.reference:
            return  # already a problem of its own
        first = self.by_reference.setdefault(result.reference, result)
        if first is not result:
            self._same_reference(result, first)
        elif not result.problems:
            self._same_work(result)

    def remember(self, result):
        """Note the work of a row that will be imported, for the rows after it."""
        work = _work(result)
        if work and result.ok and not result.skipped:
            self.by_work.setdefault(work, result.line)

    def _same_reference(self, result, first):
        if _cells(first) != _cells(result):
            result.problems.append(f"Reference: '{result.reference}' is also on line "
                                   f"{first.line}; each row needs its own")
        elif first.ok:
            _skip(result, "duplicate", f"The same as line {first.line}, so it is imported once.")
        else:
            _skip(result, "duplicate", f"The same as line {first.line}; fix the problems there.")

    def _same_work(self, result):
        work = _work(result)
        if work is None:
            return
        if work in self.by_work:
            _skip(result, "duplicate", f"The same title and dates as line {self.by_work[work]}, "
                  "so it is imported once. Give it its own title if it is a separate entry.")
        elif result.action == "create":
            title, dates = work
            entry = next((e for e in self.plan[title]
                          if all(getattr(e, k) == value for k, value in dates)), None)
            if entry is not None:
                _skip(result, "duplicate", f"The same title and dates as '{entry.reference}', "
                      "already in your plan. Use that reference to change it.")


def _work(result):
    """A row's title and dates; None without a date, as a title alone is too little to call
    two rows the same work."""
    title = _norm(result.data.get("title"))
    dates = tuple((k, result.data[k]) for k in DATE_KEYS + DATETIME_KEYS if k in result.data)
    return (title, dates) if title and any(value for _key, value in dates) else None


def _cells(result):
    cells = [_text(c) for c in result.original]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _require_may_publish(org, publish):
    """Publishing by import is publishing: a buyer waiting for verification imports drafts."""
    if not publish:
        return
    try:
        require_verified(org, "publish entries in the forward plan")
    except AwaitingVerification as error:
        error.field = "publish"
        raise


def confirm_import(org, filename, data, actor, publish=False):
    """Save the good rows of a previewed spreadsheet in one transaction; returns the preview
    (its bad rows make the report) and counts of entries created and updated."""
    _require_may_publish(org, publish)
    preview = preview_import(org, filename, data, publish)
    existing = _existing(org)
    created = updated = 0
    for result in preview.good:
        opportunity = existing.get(result.reference)
        fields = {k: v for k, v in result.data.items() if k != "reference"}
        if opportunity is None:
            opportunity = Opportunity(organisation=org, reference=result.reference,
                                      source="spreadsheet", title="")
            services.apply_changes(opportunity, fields)
            db.session.add(opportunity)
            db.session.flush()
            audit.record("opportunity.imported", opportunity, actor_id=actor.id,
                         source="a spreadsheet", file=filename, line=result.line)
            created += 1
        else:
            before = services._snapshot(opportunity)
            services.apply_changes(opportunity, fields)
            changed = services.changed_fields(before, services._snapshot(opportunity))
            if changed:
                opportunity.updated_at = utcnow()
                audit.record("opportunity.updated", opportunity, actor_id=actor.id,
                             fields=changed, source="spreadsheet", file=filename)
                updated += 1
        if publish and opportunity.status == "draft":
            opportunity.move_to("planned")
            audit.record("opportunity.status_changed", opportunity, actor_id=actor.id,
                         old="draft", new="planned")
    audit.record("pipeline.import_confirmed", org, actor_id=actor.id, file=filename,
                 created=created, updated=updated, rejected=len(preview.bad),
                 duplicates=len(preview.duplicates), totals=len(preview.totals))
    db.session.commit()
    return preview, created, updated


# --- Writing files ------------------------------------------------------------------------------

def escape_cell(value):
    """Stop a spreadsheet program treating text as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(DANGEROUS_START):
        return "'" + value
    return value


def _fmt_date(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")


def _yes_no(value):
    return "Yes" if value else "No"


def export_row(opportunity):
    from portal.organisations.services import area_labels
    values = {
        "reference": opportunity.reference, "title": opportunity.title,
        "description": opportunity.description or "", "outcomes": opportunity.outcomes or "",
        "main_cpv_code": opportunity.main_cpv_code or "",
        "additional_cpv": ", ".join(c.code for c in opportunity.additional_cpv),
        "areas": ", ".join(area_labels(opportunity.areas)),
        "client_groups": ", ".join(t.value for t in opportunity.client_groups),
        "value_min": opportunity.value_min if opportunity.value_min is not None else "",
        "value_max": opportunity.value_max if opportunity.value_max is not None else "",
        "value_basis": VALUE_BASES[opportunity.value_basis].replace(
            "Whole life of the contract", "Whole life"),
        "contract_months": opportunity.contract_months or "",
        "extension_months": opportunity.extension_months or "",
        "procurement_route": ROUTES[opportunity.procurement_route].label
        if opportunity.procurement_route else "",
        "contact_role": opportunity.contact_role or "",
    }
    for key in DATE_KEYS + DATETIME_KEYS:
        values[key] = _fmt_date(getattr(opportunity, key))
    for key in FLAG_KEYS:
        values[key] = _yes_no(getattr(opportunity, key))
    row = [escape_cell(values[c.key]) for c in COLUMNS]
    return row + [STATUSES[opportunity.status]]


def export_headers():
    return [c.header for c in COLUMNS] + [EXPORT_ONLY.header]


def plan_for_export(org):
    return db.session.scalars(select(Opportunity).where(Opportunity.organisation_id == org.id)
                              .order_by(Opportunity.reference)).all()


def to_csv(headers, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    # A byte-order mark makes Excel read the file as UTF-8 (so '£' survives).
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(headers, rows, guidance=False):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Forward plan"
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    # Values starting with '=' would become formulas: store every text cell as text.
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    if guidance:
        notes = workbook.create_sheet("Guidance")
        notes.append(["Column", "What to enter"])
        for column in COLUMNS:
            notes.append([column.header, column.help])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_rows():
    return [[c.example for c in COLUMNS]]


def template_headers():
    return [c.header for c in COLUMNS]


def report_rows(preview):
    """Bad rows with their line numbers and problems, then the cells as they were."""
    return [[row.line, "; ".join(row.problems)] + [escape_cell(_text(c)) for c in row.original]
            for row in preview.bad]


# --- Holding an upload between preview and confirmation ----------------------------------------

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
IMPORT_EXTENSIONS = ("csv", "xlsx", "txt")


def _stash_dir():
    from portal.pipeline.uploads import upload_dir
    path = upload_dir() / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stash_path(org, token, suffix):
    if not TOKEN_RE.match(token or ""):
        raise DomainError("This import has expired. Upload the file again.", field="file")
    return _stash_dir() / f"{org.id}-{token}{suffix}"


def read_upload(upload):
    """The bytes and name of an uploaded spreadsheet, refusing other kinds of file."""
    if upload is None or not getattr(upload, "filename", ""):
        raise DomainError("Choose a CSV or Excel file to upload", field="file")
    name = upload.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in IMPORT_EXTENSIONS:
        raise DomainError("The file must be a CSV file or an Excel workbook (.xlsx)", field="file")
    data = upload.stream.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise DomainError("The file must be smaller than 5 MB", field="file")
    if extension == "xlsx" and not data.startswith(b"PK\x03\x04"):
        raise DomainError("The file is not a real Excel workbook (.xlsx)", field="file")
    return name, data


def start_import(org, upload, publish=False):
    """Check an uploaded plan and keep the file (not its rows) until it is confirmed.

    Returns (token, preview). Nothing is written to the database.
    """
    import secrets
    _require_may_publish(org, publish)
    name, data = read_upload(upload)
    preview = preview_import(org, name, data, publish)
    token = secrets.token_urlsafe(18)
    _stash_path(org, token, ".upload").write_bytes(data)
    _stash_path(org, token, ".name").write_text(name, encoding="utf-8")
    return token, preview


def finish_import(org, token, actor, publish=False):
    """Save the good rows of a previewed upload; keep a report of the bad ones.

    Returns (preview, created, updated).
    """
    upload_path = _stash_path(org, token, ".upload")
    if not upload_path.exists():
        raise DomainError("This import has expired or was already confirmed. Upload the file "
                          "again.", field="file")
    name = _stash_path(org, token, ".name").read_text(encoding="utf-8")
    preview, created, updated = confirm_import(org, name, upload_path.read_bytes(), actor, publish)
    if preview.bad:
        headers = ["Line", "Problems"] + [_text(h) for h in _header_of(upload_path, name)]
        _stash_path(org, token, "-report.csv").write_bytes(to_csv(headers, report_rows(preview)))
    upload_path.unlink(missing_ok=True)
    return preview, created, updated


def _header_of(path, name):
    return read_rows(name, path.read_bytes()).header


def import_report(org, token):
    """The CSV report of rows an import left out, for the organisation that imported it."""
    path = _stash_path(org, token, "-report.csv")
    if not path.exists():
        from portal.core.exceptions import NotFound
        raise NotFound("Import report not found")
    return path.read_bytes()
