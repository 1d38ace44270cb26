"""Imports that tidy what they are given: values nobody published, text damaged by other
systems, notices and rows given twice, and spreadsheets laid out the way people lay them out."""
import gzip
import io
import json
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from portal.core.text import clean_imported_text
from portal.pipeline import ocds, spreadsheet
from portal.pipeline.models import Opportunity

SEED = Path(__file__).resolve().parents[2] / "seed" / "procurement"
# A Contracts Finder notice whose change of date reads "24 January 2025rn Time: 12:00rn".
CHANGED_DATE_OCID = "ocds-b5fd17-abff81c6-f0cd-47d6-a8ad-ca9478fac6be"
# Sell2Wales posted these two notices twice, each time under a new ocid.
WELSH_REPEATS = {"ocds-kuma6s-148390": "ocds-kuma6s-148297",
                 "ocds-kuma6s-148374": "ocds-kuma6s-148338"}


def _seed_releases(name):
    return json.loads(gzip.decompress((SEED / name).read_bytes()))["releases"]


def _seed_text():
    """Every title and description in the seed notices."""
    for path in sorted(SEED.glob("*.json.gz")):
        for release in _seed_releases(path.name):
            tender = release.get("tender") or {}
            yield from (t for t in (tender.get("title"), tender.get("description")) if t)


def _workbook(rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def council(make_org):
    return make_org("Leeds City Council", org_type="commissioner")


@pytest.fixture
def officer(make_user, council):
    return make_user(council, email="officer@leeds.example")


# --- Text damaged by other systems ------------------------------------------------------------

def test_the_changed_date_notice_reads_as_lines_again():
    release = next(r for r in _seed_releases("contracts_finder_2025_releases.json.gz")
                   if r["ocid"] == CHANGED_DATE_OCID)
    raw = release["tender"]["description"]
    assert "24 January 2025rn" in raw
    text = clean_imported_text(raw)
    assert "Instead of: 24 January 2025\nTime: 12:00\n" in text
    assert not re.search(r"\drn|rn\s", text)


@pytest.mark.parametrize("raw, cleaned", [
    ("Closing 24 January 2025rn Time: 12:00rn", "Closing 24 January 2025\nTime: 12:00"),
    ("Lot 1 – North Walesrn Lot 2 – South Walesrn Lot 3", "Lot 1 – North Wales\nLot 2 – "
     "South Wales\nLot 3"),
    ("volumes of workrnrnSubmit your bid", "volumes of work\n\nSubmit your bid"),
    ("send it tornTenders@example.gov.uk", "send it to\nTenders@example.gov.uk"),
    ("the usual patternrnThe next", "the usual pattern\nThe next"),
    ("only.rn .rn All drivers", "only.\n\nAll drivers"),
    ("Fish &amp;amp; chips&nbsp;&nbsp; for&#039;all", "Fish & chips for'all"),
    ("<p>First</p><p>Second<br>line</p>", "First\nSecond\nline"),
    ("<ul><li>one</li><li>two</li></ul>", "- one\n- two"),
    ("Line one\\nLine two\\r\\nLine three", "Line one\nLine two\nLine three"),
    ("  lots    of \t spaces  \n\n\n\nand gaps  ", "lots of spaces\n\nand gaps"),
])
def test_artefacts_of_bad_exports_are_removed(raw, cleaned):
    assert clean_imported_text(raw) == cleaned


@pytest.mark.parametrize("text", [
    "Learning and return to work in Barnet", "Northern Ireland and Western Isles",
    "Severn Trent, Blackburn and Springburn", "Modern Methods of Construction",
    "Learn effective skills", "Body Worn Video", "ModernGov and LearnDirect",
    "Royal Navy RN base", "children aged <16 & young people", "Llansadwrn and Pensarn",
    "Chiltern and Malvern Hills", "We warn bidders to return forms in the pattern given",
])
def test_real_words_with_rn_are_left_alone(text):
    assert clean_imported_text(text) == text


def test_titles_and_names_are_cleaned_onto_one_line():
    assert clean_imported_text("Carers&amp;rnrnSupport\r\n  service", multiline=False) \
        == "Carers& Support service"


def test_every_seed_notice_loses_its_flattened_line_breaks_and_keeps_its_words():
    left = set()
    for raw in _seed_text():
        text = clean_imported_text(raw)
        assert "&amp;" not in text and "  " not in text and "\n\n\n" not in text
        left |= {w.lower() for w in re.findall(r"[A-Za-z]*rn(?![a-z])", text)}
    # What is left ending in "rn" is a real word, not a break glued to one.
    assert left <= {"return", "western", "northern", "eastern", "southern", "modern", "learn",
                    "govern", "worn", "turn", "torn", "acorn", "wedderburn", "springburn",
                    "pensarn", "llansadwrn", "severn"}, left
    assert {"return", "northern", "learn"} <= left


# --- Values nobody published ------------------------------------------------------------------

def _notice(ocid, value=None, title="Carers support", **tender):
    release = {"ocid": ocid, "id": f"{ocid}-1", "date": "2025-01-10T00:00:00Z", "tag": ["tender"],
               "buyer": {"id": "b", "name": "Leeds City Council"},
               "parties": [{"id": "b", "name": "Leeds City Council", "roles": ["buyer"]}],
               "tender": {"id": "T1", "title": title, "status": "active",
                          "tenderPeriod": {"endDate": "2025-03-01T12:00:00Z"}, **tender}}
    if value is not None:
        release["tender"]["value"] = value
    return release


@pytest.mark.parametrize("value", [None, {"amount": 0, "currency": "GBP"},
                                   {"amount": 0.01, "currency": "GBP"}, {"currency": "GBP"}])
def test_a_notice_with_no_real_value_is_stored_as_not_known(db, council, value):
    ocds.import_package({"releases": [_notice("ocds-x-1", value)]}, source_label="test")
    entry = db.session.scalar(select(Opportunity))
    assert entry.value_min is None and entry.value_max is None
    assert entry.value_label == "Value not published"


def test_a_stored_zero_reads_as_not_published_and_a_real_value_as_pounds(db, council):
    entry = Opportunity(organisation=council, reference="Z", title="Zero", value_min=0)
    assert entry.value_label == "Value not published"
    entry.value_min, entry.value_max = 0, 500_000
    assert entry.value_label == "Up to £500,000 in total"
    entry.value_min, entry.value_max = 250_000, None
    assert entry.value_label == "£250,000 in total"


# --- Notices given twice ----------------------------------------------------------------------

def test_a_notice_posted_twice_under_new_ocids_is_imported_once(db, make_org):
    releases = [r for r in _seed_releases("sell2wales_releases.json.gz")
                if r["ocid"] in set(WELSH_REPEATS) | set(WELSH_REPEATS.values())]
    package = {"releases": releases + [releases[0]]}  # and one release given twice
    report = ocds.import_package(package, source_label="Sell2Wales")
    assert report.created == 2
    reasons = {ocid: (position, reason) for position, ocid, reason in report.duplicates}
    for repeat, first in WELSH_REPEATS.items():
        position, reason = reasons[repeat]
        assert releases[position - 1]["ocid"] == repeat
        assert f"the same notice as {first}" in reason
    assert reasons[releases[0]["ocid"]] == (5, "repeats release 1 of the file")
    ocids = set(db.session.scalars(select(Opportunity.ocid)))
    assert ocids == set(WELSH_REPEATS.values())

    again = ocds.import_package(package, source_label="Sell2Wales")
    assert (again.created, again.updated, len(again.duplicates)) == (0, 2, 3)
    assert db.session.scalar(select(func.count(Opportunity.id))) == 2


def test_awards_of_one_framework_to_different_suppliers_are_not_duplicates(db):
    releases = [r for r in _seed_releases("contracts_finder_2025_releases.json.gz")
                if (r.get("tender") or {}).get("title", "").lower()
                == "the supply of srma to the department for education"]
    assert len(releases) == 3
    report = ocds.import_package({"releases": releases}, source_label="Contracts Finder")
    assert report.created == 3 and report.duplicates == []


def test_later_releases_of_one_ocid_update_its_entry(db, council):
    first = _notice("ocds-x-2", {"amount": 100_000, "currency": "GBP"}, title="Old title")
    later = _notice("ocds-x-2", {"amount": 120_000, "currency": "GBP"}, title="New title")
    later.update(id="ocds-x-2-2", date="2025-02-01T00:00:00Z")
    report = ocds.import_package({"releases": [later, first]}, source_label="test")
    assert report.created == 1 and report.duplicates == []
    entry = db.session.scalar(select(Opportunity))
    assert (entry.title, entry.value_min) == ("New title", 120_000)


# --- Spreadsheets as people lay them out ------------------------------------------------------

PLAN = [
    ["Leeds City Council: adult social care forward plan 2027/28"],
    ["Prepared by the commissioning team.", None, "Values are estimates"],
    [],
    ["  REFERENCE ", "Title", "Description", "Estimated\nvalue (£)", "Closing date\n(dd/mm/yyyy)",
     "Contract  start", "Main CPV code", "Areas", "Notes"],
    ["A-1", "Carers support", "Advice &amp; breaks.rnrnFor unpaid carers.", "£1.2m",
     "01/04/2027", "1 October 2027", "85312000", "Leeds", "first"],
    ["A-2", "Day care", "Day activities", "£250k", "April 2027", 46661, "85311000", "Leeds", ""],
    ["A-3", "Advocacy", "Independent advocacy", "1,200,000", datetime(2027, 5, 3, 14, 0),
     "1st Nov 2027", "85312000", "Leeds", ""],
    ["A-4", "Befriending", "Weekly visits", "TBC", "12/05/2027", None, "85312000", "Leeds", ""],
    ["A-5", "Transport", "Door to door", 0, "", "", "85312000", "Leeds", ""],
    ["A-6", "Meals", "Hot meals", "n/a", "", "", "85312000", "Leeds", ""],
    ["A-7", "Housing support", "Tenancy help", "", "31/02/2027", "", "85312000", "Leeds", ""],
    ["A-1", "Carers support", "Advice &amp; breaks.rnrnFor unpaid carers.", "£1.2m",
     "01/04/2027", "1 October 2027", "85312000", "Leeds", "first"],
    ["A-8", "Carers support", "Advice for carers", "£1.2m", "01/04/2027", "1 October 2027",
     "85312000", "Leeds", ""],
    ["Total", None, None, "=SUM(D5:D13)", None, None, None, None, None],
]


def test_a_workbook_with_a_title_above_its_headings_imports_and_reports_real_lines(
        db, council, officer):
    data = _workbook(PLAN)
    preview = spreadsheet.preview_import(council, "plan.xlsx", data)
    assert preview.header_line == 4 and preview.ignored_columns == ["Notes"]
    assert [r.line for r in preview.good] == [5, 6, 7, 8, 9, 10]
    assert [(r.line, r.reference) for r in preview.bad] == [(11, "A-7")]
    assert "31/02/2027" in preview.bad[0].problems[0]
    assert [(r.line, r.action) for r in preview.skipped] == [
        (12, "duplicate"), (13, "duplicate"), (14, "total")]
    assert "line 5" in preview.skipped[0].note and "line 5" in preview.skipped[1].note
    assert "totals row" in preview.skipped[2].note

    _preview, created, updated = spreadsheet.confirm_import(council, "plan.xlsx", data, officer)
    assert (created, updated) == (6, 0)
    saved = {o.reference: o for o in db.session.scalars(select(Opportunity))}
    assert saved["A-1"].value_min == 1_200_000 and saved["A-2"].value_min == 250_000
    assert saved["A-3"].value_min == 1_200_000
    assert [saved[r].value_min for r in ("A-4", "A-5", "A-6")] == [None, None, None]
    assert saved["A-5"].value_label == "Value not published"
    assert saved["A-1"].description == "Advice & breaks.\n\nFor unpaid carers."
    assert saved["A-1"].closing_at == datetime(2027, 4, 1, 12, 0)
    assert saved["A-1"].contract_start_on == date(2027, 10, 1)
    assert saved["A-2"].closing_at == datetime(2027, 4, 1, 12, 0)
    assert saved["A-2"].contract_start_on == date(2027, 10, 1)  # an Excel date serial
    assert saved["A-3"].closing_at == datetime(2027, 5, 3, 14, 0)
    assert saved["A-3"].contract_start_on == date(2027, 11, 1)


def test_importing_the_same_workbook_again_adds_nothing(db, council, officer):
    data = _workbook(PLAN)
    spreadsheet.confirm_import(council, "plan.xlsx", data, officer)
    preview, created, _updated = spreadsheet.confirm_import(council, "plan.xlsx", data, officer)
    assert created == 0
    assert {r.action for r in preview.good} == {"update"}
    assert db.session.scalar(select(func.count(Opportunity.id))) == 6


def test_a_new_reference_for_work_already_in_the_plan_is_not_a_second_entry(
        db, council, officer):
    spreadsheet.confirm_import(council, "plan.xlsx", _workbook(PLAN), officer)
    data = ("Reference,Title,Closing date\nB-1,Carers  support,01/04/2027\n"
            "B-2,Carers support,02/04/2027\n").encode()
    preview = spreadsheet.preview_import(council, "again.csv", data)
    assert [r.reference for r in preview.good] == ["B-2"]
    assert "'A-1', already in your plan" in preview.duplicates[0].note


def test_a_csv_with_notes_above_its_headings_and_a_totals_row(db, council):
    data = ("Forward plan,,\n"
            "Draft for discussion,,\n"
            "Ref,Project title,Contract value\n"
            "C-1,Carers,\"£100,000\"\n"
            "C-2,Advocacy,£50k\n"
            ",Grand total,\"£150,000\"\n").encode()
    preview = spreadsheet.preview_import(council, "plan.csv", data)
    assert preview.header_line == 3
    assert [(r.line, r.data["value_min"]) for r in preview.good] == [(4, 100_000), (5, 50_000)]
    assert [(r.line, r.action) for r in preview.skipped] == [(6, "total")]


def test_a_bottom_row_of_sums_alone_is_a_totals_row(db, council):
    data = b"Reference,Title,Estimated value\nE-1,Carers,100\nE-2,Advocacy,200\n,,=SUM(C2:C3)\n"
    preview = spreadsheet.preview_import(council, "plan.csv", data)
    assert [r.line for r in preview.good] == [2, 3]
    assert [(r.line, r.action) for r in preview.skipped] == [(4, "total")]


def test_a_repeat_of_a_row_with_problems_points_at_that_row(db, council):
    data = (b"Reference,Title,Areas,Closing date\nF-1,Carers,Narnia,01/04/2027\n"
            b"F-1,Carers,Narnia,01/04/2027\nF-2,Carers,Leeds,01/04/2027\n")
    preview = spreadsheet.preview_import(council, "plan.csv", data)
    assert [r.line for r in preview.bad] == [2]
    assert preview.duplicates[0].note == "The same as line 2; fix the problems there."
    # The work of a row that cannot be imported does not make a later row a duplicate.
    assert [r.reference for r in preview.good] == ["F-2"]


def test_a_row_missing_its_reference_at_the_bottom_is_a_problem_not_a_total(db, council):
    data = b"Reference,Title,Estimated value\nD-1,Carers,100\n,Befriending,200\n"
    preview = spreadsheet.preview_import(council, "plan.csv", data)
    assert [(r.line, r.problems) for r in preview.bad] == [
        (3, ["Reference: enter a reference for the entry"])]
    assert preview.skipped == []


def test_a_file_with_no_headings_in_its_first_rows_says_what_is_missing(db, council):
    data = b"A plan\nwith notes\nand no headings\n"
    with pytest.raises(spreadsheet.FileProblem, match="Missing: Reference, Title"):
        spreadsheet.preview_import(council, "plan.csv", data)


@pytest.mark.parametrize("text, expected", [
    ("£1.2m", 1_200_000), ("£250k", 250_000), ("1,200,000", 1_200_000), ("TBC", None),
    ("n/a", None), ("-", None), ("0", None), (0, None), ("£0", None), ("approx. £500k", 500_000),
    ("up to £2m", 2_000_000), ("£1.5 million", 1_500_000),
])
def test_values_as_forward_plans_write_them(text, expected):
    assert spreadsheet.parse_money(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("April 2027", date(2027, 4, 1)), ("1 April 2027", date(2027, 4, 1)),
    ("01/04/2027", date(2027, 4, 1)), ("Sept 2027", date(2027, 9, 1)),
    ("Apr-27", date(2027, 4, 1)), ("46478", date(2027, 4, 1)), (46478, date(2027, 4, 1)),
])
def test_dates_as_forward_plans_write_them(text, expected):
    assert spreadsheet.parse_datetime(text)[0] == expected


# --- Pages ------------------------------------------------------------------------------------

def test_the_public_page_says_value_not_published(client, db, council, officer):
    data = ("Reference,Title,Description,Main CPV code,Areas,Estimated value\n"
            "V-1,Carers support,Advice for carers,85312000,Leeds,TBC\n").encode()
    spreadsheet.confirm_import(council, "plan.csv", data, officer, publish=True)
    entry = db.session.scalar(select(Opportunity))
    assert entry.status == "planned"
    page = client.get(f"/forward-plan/{entry.id}").get_data(as_text=True)
    assert "Value not published" in page and "£0" not in page
    listing = client.get("/forward-plan").get_data(as_text=True)
    assert "Value not published" in listing


def test_the_preview_page_lists_duplicates_and_totals_by_line(client, login, officer):
    login(officer)
    response = client.post("/forward-plan/manage/import", data={
        "file": (io.BytesIO(_workbook(PLAN)), "plan.xlsx"), "publish": "no"},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "6 of 10 rows ready to import. 1 with problems. 2 skipped as duplicates." in page
    assert "The column headings are on line 4." in page
    assert "Rows left out (3)" in page and "totals row" in page
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    done = client.post("/forward-plan/manage/import/confirm",
                       data={"token": token, "publish": "no"}).get_data(as_text=True)
    assert "6 added, 0 updated" in done
    assert "2 skipped as duplicates" in done and "Line 14:" in done
