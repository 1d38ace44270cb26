"""The forward-plan spreadsheet import and the OCDS import, fed what real files and careless or
hostile senders produce: huge files, wrong encodings, garbage, merged headings, zip bombs and
JSON nested ten thousand levels deep. Each is refused with a message that says what is wrong
(by line, where there is one), in bounded time and memory, or imported; no row is silently lost.

Layouts people use and text damaged by other systems are in test_import_cleanups.py.
"""
import csv
import gzip
import io
import json
import time
import tracemalloc
import zipfile

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from werkzeug.datastructures import FileStorage

from portal.core.archives import MAX_UNPACKED_BYTES
from portal.core.exceptions import DomainError
from portal.pipeline import ocds, spreadsheet
from portal.pipeline.models import Opportunity

HEADINGS = spreadsheet.template_headers()
EXAMPLE = spreadsheet.template_rows()[0]


@pytest.fixture
def council(make_org):
    return make_org("Leeds City Council", org_type="commissioner")


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PIPELINE_UPLOAD_DIR", str(tmp_path))
    return tmp_path


def _upload(data, name):
    return FileStorage(io.BytesIO(data), filename=name)


def _measured(call):
    """(result or the error raised, seconds, peak bytes allocated)."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = call()
    except (DomainError, ValueError) as error:
        result = error
    finally:
        took, (_now, peak) = time.monotonic() - started, tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, took, peak


def _row(reference, title="Carers support"):
    return [reference if h == "Reference" else title if h == "Title" else v
            for h, v in zip(HEADINGS, EXAMPLE)]


# --- size --------------------------------------------------------------------------------------

def test_a_plan_of_50000_rows_is_refused_quickly_with_the_limit(council, uploads):
    data = ("Reference,Title\n" + "".join(f"R-{n},Carers support {n}\n"
                                          for n in range(50_000))).encode()
    result, took, peak = _measured(lambda: spreadsheet.start_import(council,
                                                                  _upload(data, "plan.csv")))
    assert isinstance(result, DomainError)
    assert result.message == ("The file has more than 2,000 rows; split it into smaller files")
    print(f"\n50,000-row CSV ({len(data):,} bytes): refused in {took:.2f}s, peak "
          f"{peak / 2**20:.1f} MiB")
    assert took < 5 and peak < 64 * 2**20
    assert not list(uploads.glob("imports/*"))  # nothing kept for a refused file


def test_a_workbook_of_50000_rows_is_refused_without_reading_them_all(council, uploads):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["Reference", "Title"])
    for n in range(50_000):
        sheet.append([f"R-{n}", "Carers support"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result, took, peak = _measured(lambda: spreadsheet.start_import(
        council, _upload(buffer.getvalue(), "plan.xlsx")))
    assert isinstance(result, DomainError) and result.message.startswith(
        "The workbook has 50,001 rows across its sheets")
    print(f"\n50,000-row workbook ({len(buffer.getvalue()):,} bytes): refused in {took:.2f}s, "
          f"peak {peak / 2**20:.1f} MiB")
    assert took < 5 and peak < 64 * 2**20


def test_a_plan_with_empty_rows_between_its_rows_loses_none_of_them(db, council):
    """Reading stopped after a number of rows read, empty ones included, so the second half
    of a plan with a gap after each row was dropped without a word."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Reference", "Title"])
    for n in range(1, 1_501):
        sheet.cell(row=2 * n + 1, column=1, value=f"G-{n}")
        sheet.cell(row=2 * n + 1, column=2, value=f"Carers support {n}")
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = spreadsheet.read_rows("plan.xlsx", buffer.getvalue())
    assert len(table.rows) == 1_500 and table.rows[-1].line == 3_001


def test_a_file_over_5_mb_is_refused_before_it_is_read(council, uploads):
    data = b"Reference,Title\n" + b"R-1," + b"x" * (6 * 2**20) + b"\n"
    with pytest.raises(DomainError, match="smaller than 5 MB"):
        spreadsheet.start_import(council, _upload(data, "plan.csv"))


def _bomb(parts, big_name, big_size):
    """A zip with `parts` and one member of `big_size` zero bytes, written in chunks."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        with archive.open(big_name, "w", force_zip64=True) as member:
            chunk = bytes(2**20)
            for _ in range(big_size // 2**20):
                member.write(chunk)
    return buffer.getvalue()


def test_a_workbook_that_unpacks_to_gigabytes_is_refused_without_unpacking(council, uploads):
    data = _bomb({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"},
                 "xl/sharedStrings.xml", MAX_UNPACKED_BYTES + 2**20)
    result, took, peak = _measured(lambda: spreadsheet.start_import(
        council, _upload(data, "plan.xlsx")))
    assert isinstance(result, DomainError) and "would unpack to 101 MB" in result.message
    assert peak < 8 * 2**20 and took < 1


# --- what the file is made of ------------------------------------------------------------------

def _plan(rows, separator=","):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=separator).writerows([HEADINGS] + rows)
    return buffer.getvalue()


@pytest.mark.parametrize("encoding, separator", [
    ("utf-16", "\t"),        # Excel's "Unicode Text": UTF-16 with a byte-order mark, tabs
    ("utf-16-be", ","),      # without a mark it is not recognised: see the next test
    ("utf-8-sig", ","),      # Excel's "CSV UTF-8": a byte-order mark first
    ("cp1252", ","),         # Excel's "CSV" on UK Windows
    ("latin-1", ";"),        # and from other tools, with semicolons
])
def test_plans_saved_in_the_encodings_spreadsheets_use_import(db, council, encoding, separator):
    rows = [_row("É-1", "Café for carers")]
    text = _plan(rows, separator)
    data = (b"\xfe\xff" if encoding == "utf-16-be" else b"") + text.encode(encoding)
    preview = spreadsheet.preview_import(council, "plan.txt", data)
    assert [(r.line, r.reference, r.title) for r in preview.good] == [
        (2, "É-1", "Café for carers")], [r.problems for r in preview.bad]


def test_utf16_without_its_mark_and_binary_files_are_refused_with_what_to_do(db, council):
    for data in (_plan([_row("R-1")]).encode("utf-16-le"), bytes(range(256)) * 8):
        with pytest.raises(DomainError, match="not text that can be read as CSV. Save it as "
                                              "'CSV UTF-8'"):
            spreadsheet.preview_import(council, "plan.csv", data)


def test_broken_utf16_names_the_byte(db, council):
    with pytest.raises(DomainError, match="UTF-16 text but is broken at byte"):
        spreadsheet.preview_import(council, "plan.txt", "\ufeffReference".encode("utf-16-le")
                                   + b"\x00\xd8")


@pytest.mark.parametrize("data, message", [
    (bytes(range(256)) * 10, "not a real Excel workbook"),            # garbage called .xlsx
    (b"PK\x03\x04" + bytes(range(256)) * 10, "could not be opened as an Excel workbook"),
    (b"%PDF-1.4\n" + b"x" * 100, "not a real Excel workbook"),        # a PDF called .xlsx
])
def test_garbage_named_xlsx_is_refused(council, uploads, data, message):
    with pytest.raises(DomainError, match=message):
        spreadsheet.start_import(council, _upload(data, "plan.xlsx"))
    assert not list(uploads.glob("imports/*"))


def test_a_workbook_with_merged_heading_cells_imports_every_row(db, council):
    """A title merged across the top, and a group heading merged over two columns above the
    headings: the headings are still found and every row under them is read."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Forward plan 2027"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADINGS))
    sheet.append(["Identity", None, "Details"])
    sheet.merge_cells("A2:B2")
    sheet.append(HEADINGS)
    for n in range(1, 4):
        sheet.append(_row(f"M-{n}", f"Carers support {n}"))
    sheet.merge_cells("C6:D6")  # a merged data cell: the second one reads as empty
    buffer = io.BytesIO()
    workbook.save(buffer)
    preview = spreadsheet.preview_import(council, "plan.xlsx", buffer.getvalue())
    assert preview.header_line == 3
    assert sorted(r.line for r in preview.rows) == [4, 5, 6]


# --- every row is imported or reported ---------------------------------------------------------

HOSTILE_CELLS = st.sampled_from([
    "", " ", "A" * 10_000, "😀" * 300, "\u202eevil", "a\u0301" * 20, "<script>x</script>",
    "' OR 1=1 --", "=1+1", "@SUM(A1)", "-1", "99999999999999999999", "31/02/2027", "00/00/0000",
    "01/01/99999", "\x00", "\x07bell", "\"quoted\"", "line\nbreak", "£-5", "TBC", "n/a",
])


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          phases=(Phase.explicit, Phase.generate),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(rows=st.lists(st.lists(st.tuples(st.integers(0, len(HEADINGS) - 1), HOSTILE_CELLS),
                              max_size=4), min_size=1, max_size=12))
def test_every_row_is_imported_or_reported_by_line(db, council, rows):
    """Rows of the template's example with hostile values put in random cells: each line under
    the headings comes back exactly once, as a row to import, a row with problems (each saying
    what is wrong) or a row left out with the reason."""
    body = []
    for number, changes in enumerate(rows):
        row = _row(f"H-{number}", f"Carers support {number}")
        for column, value in changes:
            row[column] = value
        body.append(row)
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADINGS] + body)
    data = buffer.getvalue().encode("utf-8")
    try:
        preview = spreadsheet.preview_import(council, "plan.csv", data)
    except DomainError as error:   # the file as a whole: a clear message naming a line
        assert error.message and error.field == "file"
        return
    lines = sorted(r.line for r in preview.rows)
    expected = [n for n, (_start, values) in enumerate(spreadsheet.read_csv(data), start=1)
                if n > 1 and any(v.strip() for v in values)]
    assert len(lines) == len(set(lines)) and lines == [line for _n, line in zip(
        expected, lines)] and len(lines) == len(expected)
    for result in preview.bad:
        assert result.problems and all(p for p in result.problems)
    for result in preview.skipped:
        assert result.note
    assert db.session.scalar(db.select(db.func.count(Opportunity.id))) == 0


# --- OCDS packages -----------------------------------------------------------------------------

def _package(tmp_path, data, name="package.json"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("data, message", [
    (b"[" * 10_000 + b"]" * 10_000, "nests its values too deeply"),
    (b'{"releases": [' + b'{"a": ' * 100 + b"1" + b"}" * 100 + b"]}", "more than 32 levels"),
    (b"5", "no 'releases' list"),
    (b'"releases"', "no 'releases' list"),
    (b'{"releases": {"ocid": "x"}}', "no 'releases' list"),
    ('{"releases": [{"ocid": "é"}]}'.encode("latin-1"), "not UTF-8 text: byte 25"),
    (bytes(range(256)), "not valid JSON: Expecting value at line 1, column 1"),
    (b'{"releases": [}', "not valid JSON"),
])
def test_a_package_that_is_not_one_is_refused_with_the_reason(tmp_path, data, message):
    with pytest.raises(ValueError, match=message):
        ocds.read_package(_package(tmp_path, data))


@pytest.mark.parametrize("encode", [
    lambda text: text.encode("utf-8-sig"), lambda text: text.encode("utf-16"),
    lambda text: text.encode("utf-32"), lambda text: gzip.compress(text.encode("utf-8-sig")),
])
def test_a_package_with_a_byte_order_mark_or_in_utf16_is_read(tmp_path, encode):
    package = ocds.read_package(_package(tmp_path, encode(json.dumps({"releases": []}))))
    assert package == {"releases": []}


def test_a_gzip_that_unpacks_beyond_the_limit_is_refused_while_unpacking(tmp_path, monkeypatch):
    monkeypatch.setattr(ocds, "MAX_PACKAGE_BYTES", 4 * 2**20)
    data = gzip.compress(b" " * (16 * 2**20), compresslevel=1)
    result, took, peak = _measured(lambda: ocds.read_package(_package(tmp_path, data,
                                                                      "big.json.gz")))
    with pytest.raises(ValueError, match="unpacks to more than 4 MB"):
        raise result if isinstance(result, Exception) else AssertionError(result)
    assert peak < 16 * 2**20


def test_the_import_command_reports_a_broken_package_without_a_traceback(app, tmp_path):
    path = _package(tmp_path, b"[" * 10_000 + b"]" * 10_000)
    result = app.test_cli_runner().invoke(args=["import", "ocds", str(path)])
    assert result.exit_code == 1
    assert "nests its values too deeply" in result.output and "Traceback" not in result.output


def test_malformed_releases_are_each_imported_or_reported(db):
    """Releases that are not objects, have no ocid, or hold the wrong types: the import does
    not stop, and each one is counted as created or listed as skipped with the reason."""
    releases = [
        "not a release", 42, None, [],
        {"ocid": "ocds-x-1"},
        {"ocid": "ocds-x-2", "tender": "a string", "buyer": {"name": "Leeds City Council"}},
        {"ocid": "ocds-x-3", "buyer": {"name": "Leeds City Council"},
         "tender": {"title": "\x00" + "A" * 10_000, "value": {"amount": "lots"},
                    "tenderPeriod": {"endDate": "2027-02-31T12:00:00Z"}, "lots": "x",
                    "items": [{"classification": "85312000"}]}},
        {"ocid": "ocds-x-4", "buyer": {"name": "<script>alert(1)</script>"},
         "tender": {"title": "Befriending", "value": {"amount": -5e300},
                    "tenderPeriod": {"endDate": "99999-01-01"}}},
        {"ocid": ["not", "a", "string"], "buyer": {"name": "Leeds City Council"}},
    ]
    report = ocds.import_package({"releases": releases}, "hostile.json")
    accounted = report.created + report.updated + len(report.skipped) + len(report.duplicates)
    assert accounted == len(releases), (report.created, report.skipped, report.duplicates)
    assert all(reason for _ocid, reason in report.skipped)


def test_a_nul_in_a_cell_is_a_problem_on_its_line_not_a_database_error(db, council):
    """PostgreSQL refuses NUL even in a query, so a NUL in the Areas column failed the whole
    upload with a database error. (A NUL near the start of a file marks it as not text; this
    one comes after a long description.)"""
    rows = [_row("N-1"), _row("N-2")]
    rows[0][HEADINGS.index("Description")] = "Support for unpaid carers. " * 200
    rows[1][HEADINGS.index("Areas")] = "Leeds\x00"
    preview = spreadsheet.preview_import(council, "plan.csv", _plan(rows).encode())
    assert [r.line for r in preview.good] == [2]
    assert [(r.line, r.problems) for r in preview.bad] == [
        (3, ["Areas: contains a NUL character, a sign the file is damaged; retype the cell"])]
