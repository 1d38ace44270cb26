"""Evidence files: recognised by content, refused when disguised, oversized or empty."""
import pytest

from portal.accreditation import evidence
from portal.core.exceptions import DomainError
from portal.core.text import ascii_filename, display_filename
from tests.functional.test_accreditation_support import data_file, evidence_dir  # noqa: F401

pytestmark = pytest.mark.usefixtures("ctx", "evidence_dir")


@pytest.mark.parametrize("name, kind", [
    ("policy.pdf", "pdf"), ("chart.png", "png"), ("photo.jpg", "jpeg"), ("minutes.docx", "docx"),
    ("budget.xlsx", "xlsx"), ("plan.odt", "odt"),
])
def test_real_files_are_accepted(name, kind):
    assert evidence.check_upload(name, data_file(name)) == (kind, name)


@pytest.mark.parametrize("name, data_name", [
    ("script-disguised.pdf", "script-disguised.pdf"),   # a shell script called .pdf
    ("page-disguised.png", "page-disguised.png"),       # HTML called .png
    ("report.docx", "archive.zip"),                     # a zip that is not a Word document
    ("report.docx", "budget.xlsx"),                     # a spreadsheet called .docx
    ("photo.png", "photo.jpg"),                         # a JPEG called .png
])
def test_disguised_files_are_refused(name, data_name):
    with pytest.raises(DomainError, match="not a real"):
        evidence.check_upload(name, data_file(data_name))


@pytest.mark.parametrize("name", ["run.exe", "notes.txt", "page.html", "noextension"])
def test_other_types_are_refused_by_name(name):
    with pytest.raises(DomainError, match="must be a PDF"):
        evidence.check_upload(name, data_file("policy.pdf"))


def test_oversized_files_are_refused(app):
    big = data_file("policy.pdf") + b"0" * app.config["EVIDENCE_MAX_BYTES"]
    with pytest.raises(DomainError, match="smaller than"):
        evidence.check_upload("big.pdf", big)


def test_empty_files_are_refused():
    with pytest.raises(DomainError, match="empty"):
        evidence.check_upload("empty.pdf", b"")


@pytest.mark.parametrize("given, cleaned", [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\windows\\system.ini.pdf", "system.ini.pdf"),
    ("/absolute/path/report.PDF", "report.pdf"),
    ("report<script>.pdf", "report_script_.pdf"),
    ("..pdf", "pdf"),
    ("  .hidden.pdf", "hidden.pdf"),
    ("minutes\x00.docx", "minutes.docx"),
    ("a\x1b[31mb\x85.pdf", "a[31mb.pdf"),
    ("invoice\u202efdp.exe.pdf", "invoicefdp.exe.pdf"),
    ("\u2067report\u2069\u200f.pdf", "report.pdf"),
    ("ｃ：／ｘ／ｙ.pdf", "y.pdf"),
    ('what? "quoted" <a|b>*.pdf', "what_ _quoted_ _a_b__.pdf"),
    ("é" * 300 + ".PDF", "é" * 140 + ".pdf"),
    ("", "file"),
    ("../..", "file"),
])
def test_path_tricks_in_names_are_removed(given, cleaned):
    assert display_filename(given) == cleaned


@pytest.mark.parametrize("given", [
    "évidence.pdf", "Cyngor Sir Ynys Môn – adroddiad ŵ.docx", "تقرير سنوي.pdf", "年度报告.xlsx",
    "Policy 🎉 2026.pdf", "Ærøskøbing (final).odt",
])
def test_letters_in_any_script_are_kept_in_names(given):
    assert display_filename(given) == given


@pytest.mark.parametrize("given, fallback", [
    ("évidence.pdf", "evidence.pdf"), ("تقرير.pdf", "file.pdf"),
    ("plain-name.pdf", "plain-name.pdf"),
    ("a \"b\"; c.pdf", "a _b__ c.pdf"), ("年度报告", "file"),
])
def test_ascii_fallback_names(given, fallback):
    assert ascii_filename(given) == fallback


def test_files_are_stored_under_random_names_outside_static(evidence_dir):
    name, digest = evidence.store(b"%PDF-1.4 test")
    assert evidence.STORED_NAME_RE.match(name)
    assert (evidence_dir / name).read_bytes() == b"%PDF-1.4 test"
    assert "static" not in str(evidence_dir)
    assert len(digest) == 64


@pytest.mark.parametrize("stored", ["../secret", "a" * 31, "ABCDEF" * 6, ""])
def test_only_generated_names_can_be_read_back(stored):
    with pytest.raises(DomainError):
        evidence.path_for(stored)
