"""Reading forward plans from spreadsheets forgivingly, and writing them safely."""
import csv
import io
from datetime import date, datetime, time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.core.exceptions import DomainError
from portal.pipeline import services, spreadsheet
from portal.pipeline.models import Opportunity

DATA = Path(__file__).resolve().parent.parent / "data"
BROKEN_CSV = DATA / "pipeline_broken_plan.csv"
BROKEN_XLSX = DATA / "pipeline_broken_plan.xlsx"


@pytest.mark.parametrize("text,expected", [
    ("£1,200,000", 1_200_000), ("1200000", 1_200_000), ("1.2m", 1_200_000), ("£500k", 500_000),
    (" £ 12,500.00 ", 12_500), (250000.0, 250_000), ("", None), ("GBP 300", 300),
])
def test_money_in_the_forms_people_type(text, expected):
    assert spreadsheet.parse_money(text) == expected


@pytest.mark.parametrize("text", ["abc", "£1,2,3x", "-5", "=A1"])
def test_money_that_is_not_money_is_refused(text):
    with pytest.raises(ValueError):
        spreadsheet.parse_money(text)


def test_a_range_in_one_cell():
    assert spreadsheet.parse_money_range("£100,000 - £150,000") == (100_000, 150_000)
    assert spreadsheet.parse_money_range("100k to 150k") == (100_000, 150_000)
    assert spreadsheet.parse_money_range("£90,000") == (90_000, None)


@pytest.mark.parametrize("text,expected", [
    ("21/03/2027", (date(2027, 3, 21), None)), ("21/3/27", (date(2027, 3, 21), None)),
    ("21-03-2027", (date(2027, 3, 21), None)), ("21.03.27", (date(2027, 3, 21), None)),
    ("2027-03-21", (date(2027, 3, 21), None)), ("21 March 2027", (date(2027, 3, 21), None)),
    ("21st Mar 2027", (date(2027, 3, 21), None)), ("March 2027", (date(2027, 3, 1), None)),
    ("21/03/2027 14:30", (date(2027, 3, 21), time(14, 30))),
    ("21/03/2027 2pm", (date(2027, 3, 21), None)),
    (datetime(2027, 3, 21, 12, 0), (date(2027, 3, 21), time(12, 0))),
    (46467, (date(2027, 3, 21), None)),
])
def test_uk_dates(text, expected):
    result = spreadsheet.parse_datetime(text)
    assert result[0] == expected[0]
    if expected[1]:
        assert result[1] == expected[1]


@pytest.mark.parametrize("text", ["31/02/2027", "03/21/2027x", "soon"])
def test_impossible_dates_are_refused(text):
    with pytest.raises(ValueError):
        spreadsheet.parse_datetime(text)


def test_text_in_any_of_the_usual_encodings():
    assert spreadsheet.decode("café £5".encode("utf-8")) == "café £5"
    assert spreadsheet.decode("\ufeffcafé £5".encode("utf-8")) == "café £5"
    assert spreadsheet.decode("café £5".encode("cp1252")) == "café £5"


@pytest.mark.parametrize("value,expected", [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+44 1234", "'+44 1234"), ("-1", "'-1"),
    ("@SUM(A1)", "'@SUM(A1)"), ("Plain", "Plain"), (12, 12),
])
def test_cells_that_a_spreadsheet_would_run_are_escaped(value, expected):
    assert spreadsheet.escape_cell(value) == expected


def test_our_own_escaping_is_undone_on_import():
    assert spreadsheet.clean_text("'=not a formula") == "=not a formula"
    with pytest.raises(ValueError, match="formula"):
        spreadsheet.clean_text("=SUM(A1:A2)")


@pytest.fixture
def council(make_org):
    return make_org("Leeds City Council", org_type="commissioner")


@pytest.fixture
def officer(make_user, council):
    return make_user(council)


def test_the_broken_csv_is_reported_line_by_line_and_nothing_is_saved(db, council):
    preview = spreadsheet.preview_import(council, BROKEN_CSV.name, BROKEN_CSV.read_bytes())
    problems = {row.line: row.problems for row in preview.bad}
    assert [row.line for row in preview.good] == [2, 3, 14]
    assert set(problems) == {4, 5, 6, 7, 8, 9, 10, 11, 12, 13}
    assert "99999999" in problems[4][0]
    assert "Narnia" in problems[5][0]
    assert "formula" in problems[6][0]
    assert "31/02/2027" in problems[7][0]
    assert "reference" in problems[8][0].lower()
    assert "start after the closing date" in problems[9][0]
    assert "also on line 2" in problems[10][0]
    assert "highest value" in problems[11][0]
    assert "Made-up route" in problems[12][0]
    assert len(problems[13]) == 2  # a bad amount and a bad Yes/No on the same row
    assert preview.ignored_columns == ["Notes for the team"]
    assert db.session.scalar(select(Opportunity.id)) is None


def test_the_good_rows_read_encodings_ranges_and_dates(db, council, officer):
    preview, created, updated = spreadsheet.confirm_import(
        council, BROKEN_CSV.name, BROKEN_CSV.read_bytes(), officer)
    assert (created, updated) == (3, 0)
    saved = {o.reference: o for o in db.session.scalars(select(Opportunity))}
    carers = saved["ASC-01"]
    assert "café" in carers.description
    assert carers.value_min == 1_200_000 and carers.procurement_route == "light_touch"
    assert carers.closing_at == datetime(2027, 3, 21, 12, 0) and carers.status == "draft"
    day_care = saved["ASC-02"]
    assert day_care.value_basis == "annual" and day_care.value_min == 450_000
    assert {a.name for a in day_care.areas} == {"Kirklees", "Calderdale"}
    assert day_care.main_cpv_code == "85311000"
    assert day_care.closing_at == datetime(2027, 4, 3, 12, 0)
    assert saved["ASC-11"].procurement_route == "below_threshold"
    report = list(csv.reader(io.StringIO(spreadsheet.to_csv(
        ["Line", "Problems"], spreadsheet.report_rows(preview)).decode("utf-8-sig"))))
    assert [row[0] for row in report[1:]] == [str(n) for n in range(4, 14)]
    assert report[3][2:4] == ["ASC-05", "Meals on wheels"]
    assert any(cell.startswith("'=SUM") for cell in report[3])


def test_importing_the_same_file_again_updates_rather_than_duplicates(db, council, officer):
    data = BROKEN_CSV.read_bytes()
    spreadsheet.confirm_import(council, "plan.csv", data, officer)
    changed = data.replace(b"Carers support service,", b"Carers support and breaks,")
    preview = spreadsheet.preview_import(council, "plan.csv", changed)
    assert {r.reference: r.action for r in preview.good}["ASC-01"] == "update"
    _preview, created, updated = spreadsheet.confirm_import(council, "plan.csv", changed, officer)
    assert (created, updated) == (0, 1)
    titles = db.session.scalars(select(Opportunity.title).where(
        Opportunity.reference == "ASC-01")).all()
    assert titles == ["Carers support and breaks"]


def test_publishing_on_import_checks_what_publishing_needs(db, council, officer):
    data = ("Reference,Title,Description,Main CPV code,Areas\n"
            "P-1,Ready to publish,Advice service,85312000,Leeds\n"
            "P-2,No area yet,Advice service,85312000,\n").encode()
    preview = spreadsheet.preview_import(council, "p.csv", data, publish=True)
    assert [r.reference for r in preview.good] == ["P-1"]
    assert "area" in preview.bad[0].problems[0]
    spreadsheet.confirm_import(council, "p.csv", data, officer, publish=True)
    assert db.session.scalar(select(Opportunity).where(Opportunity.reference == "P-1")).status \
        == "planned"


def test_entries_past_market_engagement_are_not_changed_by_a_spreadsheet(db, council, officer):
    data = b"Reference,Title\nZ-1,First title\n"
    spreadsheet.confirm_import(council, "z.csv", data, officer)
    entry = db.session.scalar(select(Opportunity))
    entry.load_status("evaluation")
    db.session.commit()
    preview = spreadsheet.preview_import(council, "z.csv", b"Reference,Title\nZ-1,New title\n")
    assert "change it on its own page" in preview.bad[0].problems[0]


def test_the_broken_workbook_reports_formulas_without_values(db, council):
    preview = spreadsheet.preview_import(council, BROKEN_XLSX.name, BROKEN_XLSX.read_bytes())
    problems = {row.line: row.problems for row in preview.bad}
    assert [row.line for row in preview.good] == [2]
    assert "formula" in problems[3][0] and "Wakanda" in problems[4][0]
    assert "not yet known" in problems[5][0]
    assert preview.ignored_columns == ["Budget code"]


@pytest.mark.parametrize("data,message", [
    (b"", "empty"), (b"Title,Description\nA,B\n", "Missing: Reference"),
    (b"\x00\x01binary", "not text that can be read as CSV"), (b"PK\x03\x04broken", "Excel workbook"),
])
def test_files_that_cannot_be_read_say_why(db, council, data, message):
    with pytest.raises(DomainError, match=message):
        spreadsheet.preview_import(council, "plan.xlsx" if data.startswith(b"PK") else "plan.csv",
                                   data)


def test_semicolon_separated_files_and_extra_spaces_in_headers(db, council):
    data = " Reference ; TITLE ;Estimated value\nS-1;Semi;£1.000\n".encode()
    preview = spreadsheet.preview_import(council, "s.csv", data)
    assert [r.reference for r in preview.good] == ["S-1"]


def test_the_export_round_trips_and_escapes_formula_like_text(db, council, officer):
    services.create_opportunity(council, {"reference": "E-1", "title": "=cmd|calc",
                                          "description": "-2 items"}, officer)
    rows = [spreadsheet.export_row(o) for o in spreadsheet.plan_for_export(council)]
    body = spreadsheet.to_csv(spreadsheet.export_headers(), rows)
    parsed = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert parsed[1][1] == "'=cmd|calc" and parsed[1][2] == "'-2 items"
    workbook = load_workbook(io.BytesIO(spreadsheet.to_xlsx(spreadsheet.export_headers(), rows)))
    assert workbook.active["B2"].value == "'=cmd|calc" and workbook.active["B2"].data_type == "s"
    preview = spreadsheet.preview_import(council, "x.csv", body)
    assert preview.good[0].data["title"] == "=cmd|calc" and preview.good[0].action == "update"


# --- Quotation marks ------------------------------------------------------------------------------

PLAN_HEADER = "Reference,Title,Description,Areas\n"


def test_a_stray_quote_in_the_first_row_refuses_the_file_at_its_line(db, council):
    data = (PLAN_HEADER + 'Q-1,"Carers support,Advice,Leeds\n'
            "Q-2,Day care,Day activities,Leeds\n"
            "Q-3,Befriending,Weekly visits,Leeds\n").encode()
    with pytest.raises(spreadsheet.FileProblem) as caught:
        spreadsheet.preview_import(council, "plan.csv", data)
    assert caught.value.message.startswith("Line 2: a quotation mark is not closed")
    assert caught.value.field == "file"
    assert db.session.scalar(select(Opportunity.id)) is None


@pytest.mark.parametrize("ending", ["\n", ""])
def test_a_stray_quote_in_the_last_row_is_reported_at_that_line(db, council, ending):
    data = (PLAN_HEADER + "Q-1,Carers support,Advice,Leeds\n"
            'Q-2,"Day care,Day activities,Leeds' + ending).encode()
    with pytest.raises(spreadsheet.FileProblem, match="^Line 3: a quotation mark is not closed"):
        spreadsheet.preview_import(council, "plan.csv", data)


def test_a_stray_quote_closed_by_a_later_cells_quote_is_refused(db, council):
    data = (PLAN_HEADER + 'Q-1,"Carers support,Advice,Leeds\n'
            'Q-2,Day care,Day activities,"Kirklees, Calderdale"\n'
            "Q-3,Befriending,Weekly visits,Leeds\n").encode()
    with pytest.raises(spreadsheet.FileProblem, match="^Line 2: .* lines 2 to 3 would be read"):
        spreadsheet.preview_import(council, "plan.csv", data)


def test_a_description_over_several_lines_imports_and_later_lines_keep_their_numbers(db, council):
    data = (PLAN_HEADER + 'M-1,Carers support,"Advice for carers.\n'
            'Short breaks, too.\r\nAnd a ""drop-in"" café.",Leeds\n'
            'M-2,Advocacy,"Independent\nadvocacy",Narnia\n'
            "M-3,Befriending,Weekly visits,Atlantis\n").encode()
    preview = spreadsheet.preview_import(council, "plan.csv", data)
    assert [r.reference for r in preview.good] == ["M-1"]
    assert preview.good[0].line == 2
    assert preview.good[0].data["description"] == (
        'Advice for carers.\nShort breaks, too.\r\nAnd a "drop-in" café.')
    assert {r.line: r.reference for r in preview.bad} == {5: "M-2", 7: "M-3"}


def test_quotes_doubled_inside_a_value_beyond_the_sniffed_sample(db, council):
    filler = "".join(f"F-{n},Plain title {n},Plain description {n},Leeds\n" for n in range(150))
    data = (PLAN_HEADER + filler + 'D-1,"Say ""hi"", twice",Plain,Leeds\n').encode()
    assert len(data) > 4096
    preview = spreadsheet.preview_import(council, "plan.csv", data)
    assert preview.good[-1].data["title"] == 'Say "hi", twice'
    assert preview.good[-1].line == 152
