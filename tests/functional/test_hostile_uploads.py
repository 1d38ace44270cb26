"""Uploads made to do harm: files disguised as others, office files that unpack to gigabytes,
names that climb out of folders or that Windows cannot save, and requests too big to read.
Each is refused with a message naming the problem, and nothing is written to disk.

Everyday disguises (a script called .pdf, HTML called .png) and the cleaning of names are in
tests/unit/test_accreditation_evidence.py and test_credential_evidence.py; these are the rest.
"""
import io
import time
import tracemalloc
import zipfile
from html import unescape

import pytest
from werkzeug.datastructures import FileStorage

from portal.core import files
from portal.core.archives import check_archive
from portal.core.exceptions import DomainError
from portal.core.text import display_filename
from portal.extensions import db
from portal.organisations.models import Credential
from portal.pipeline import uploads
from portal.pipeline.models import Opportunity
from tests import factories
from tests.functional.consortia_world import make_entry
from tests.functional.test_accreditation_support import (  # noqa: F401  (fixtures)
    as_user, data_file, evidence_dir, world,
)

PDF = data_file("policy.pdf")
CONTENT_TYPES = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                 'package/2006/content-types"/>')


def zip_bomb(kind, unpacked_mb, odt_mimetype=False):
    """A real-looking office file with one member of `unpacked_mb` MB of zeros, written in
    chunks (a few tens of kilobytes on disk)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if kind == "odt":
            big = "mimetype"
        else:
            archive.writestr("[Content_Types].xml", CONTENT_TYPES)
            archive.writestr({"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}[kind],
                             "<document/>")
            big = {"docx": "word/media/image1.png", "xlsx": "xl/sharedStrings.xml"}[kind]
        with archive.open(big, "w", force_zip64=True) as member:
            if odt_mimetype:
                member.write(b"application/vnd.oasis.opendocument.text")
            chunk = bytes(2**20)
            for _ in range(unpacked_mb):
                member.write(chunk)
    return buffer.getvalue()


def _peak(call):
    tracemalloc.start()
    started = time.monotonic()
    try:
        call()
    finally:
        took, (_now, peak) = time.monotonic() - started, tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return took, peak


# --- office files that unpack to far more than they weigh --------------------------------------

@pytest.mark.parametrize("name, kind", [("minutes.docx", "docx"), ("budget.xlsx", "xlsx"),
                                        ("policy.odt", "odt")])
def test_evidence_that_unpacks_to_gigabytes_is_refused_without_unpacking(
        ctx, evidence_dir, name, kind):
    """The .odt check used to read its 'mimetype' member whole to recognise it: a member of
    that name made to unpack to a gigabyte would have been read into memory."""
    data = zip_bomb(kind, 48, odt_mimetype=kind == "odt")
    assert len(data) < 64 * 1024  # within the evidence limit of these tests
    error = None

    def check():
        nonlocal error
        with pytest.raises(DomainError) as raised:
            files.check_upload(name, data)
        error = raised.value

    took, peak = _peak(check)
    assert "would unpack to 48 MB, far more than a real document of its size" in error.message
    assert error.field == "file" and took < 1 and peak < 4 * 2**20


def test_real_office_files_still_pass_the_unpacking_check(ctx, evidence_dir):
    for name, kind in (("minutes.docx", "docx"), ("budget.xlsx", "xlsx"), ("plan.odt", "odt")):
        assert files.check_upload(name, data_file(name)) == (kind, name)


def test_a_bomb_called_docx_is_refused_as_a_forward_plan_document(app, ctx, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setitem(app.config, "PIPELINE_UPLOAD_DIR", str(tmp_path))
    storage = _file(zip_bomb("docx", 120), "specification.docx")
    with pytest.raises(DomainError, match="would unpack to 120 MB"):
        uploads.check_upload(storage)
    assert list(tmp_path.iterdir()) == []


def test_an_archive_of_ten_thousand_parts_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for n in range(10_001):
            archive.writestr(f"word/p{n}", b"")
    with pytest.raises(DomainError, match="holds more than 10,000 parts"):
        check_archive(buffer.getvalue(), what="Word document")


# --- names -------------------------------------------------------------------------------------

@pytest.mark.parametrize("given, cleaned", [
    ("CON.pdf", "_CON.pdf"), ("nul.docx", "_nul.docx"), ("Aux.tar.pdf", "_Aux.tar.pdf"),
    ("COM1.pdf", "_COM1.pdf"), ("lpt9.png", "_lpt9.png"), ("prn", "_prn"),
    ("CON .pdf", "_CON.pdf"),
    # Only the whole first part: these are ordinary names.
    ("console.pdf", "console.pdf"), ("CONTRACT.pdf", "CONTRACT.pdf"), ("com10.pdf", "com10.pdf"),
])
def test_names_windows_keeps_for_devices_are_made_saveable(given, cleaned):
    assert display_filename(given) == cleaned


# --- over HTTP: refused, with the reason, and nothing kept -------------------------------------

def _file(data, name):
    return FileStorage(io.BytesIO(data), filename=name)


def _text(response):
    return unescape(response.get_data(as_text=True))


def _stored(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.mark.parametrize("name, data, message", [
    ("certificate.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(300), "not a real PDF"),
    ("certificate.pdf", b"<!DOCTYPE html><script>alert(1)</script>", "not a real PDF"),
    ("certificate.docx", zip_bomb("docx", 48), "would unpack to 48 MB"),
    ("../../etc/passwd", PDF, "must be a PDF"),
    ("certificate.pdf\x00.exe", PDF, "must be a PDF"),
    ("x" * 5_000 + ".exe", PDF, "must be a PDF"),
    ("certificate.pdf", PDF + bytes(64 * 1024), "smaller than"),
])
def test_a_hostile_certificate_is_refused_with_the_reason_and_not_kept(
        as_user, world, evidence_dir, name, data, message):
    response = as_user(world.applicant).post(
        f"/organisations/{world.org.id}/credentials", data={
            "kind": "insurance", "title": "Employer's liability", "cover_amount": "£10,000,000",
            "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
    page = _text(response)
    assert response.status_code == 200 and "govuk-error-summary" in page
    assert message in page
    assert ctx_count(Credential) == 0 and _stored(evidence_dir) == []


def ctx_count(model):
    return db.session.scalar(db.select(db.func.count()).select_from(model))


@pytest.fixture
def buyer_entry(app, ctx, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PIPELINE_UPLOAD_DIR", str(tmp_path / "pipeline"))
    buyer = factories.make_org("Leeds City Council", org_type="commissioner")
    officer = factories.make_user(buyer, email="officer@leeds.example")
    entry = make_entry(buyer, officer, status="open")
    return officer, entry, tmp_path / "pipeline"


@pytest.mark.parametrize("name, data, message", [
    ("specification.pdf", b"MZ\x90\x00\x03" + bytes(300), "not a real .pdf file"),
    ("specification.pdf", b"<html><body onload=alert(1)>", "not a real .pdf file"),
    ("specification.docx", zip_bomb("docx", 120), "would unpack to 120 MB"),
    ("specification.xlsx", bytes(range(256)) * 8, "not a real .xlsx file"),
    ("CON", PDF, "must be a PDF, Word"),
    ("specification.exe", b"MZ\x90\x00", "must be a PDF, Word"),
])
def test_a_hostile_forward_plan_document_is_refused_and_not_kept(
        client, login, db, buyer_entry, name, data, message):
    officer, entry, folder = buyer_entry
    login(officer)
    response = client.post(f"/forward-plan/manage/{entry.id}/documents",
                           data={"title": "Specification", "file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    page = _text(response)
    assert response.status_code == 200 and "govuk-error-summary" in page and message in page
    assert db.session.get(Opportunity, entry.id).documents == [] and _stored(folder) == []


def test_a_request_bigger_than_any_upload_is_refused_before_it_is_read(
        app, as_user, world, evidence_dir, monkeypatch):
    """Without a limit on the request (the forward plan's pages set their own; the profile's
    and the accreditation pages had none), the whole body was written to a temporary file
    before the size of the upload was ever checked."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 128 * 1024)
    response = as_user(world.applicant).post(
        f"/organisations/{world.org.id}/credentials", data={
            "kind": "insurance", "title": "Employer's liability",
            "file": (io.BytesIO(PDF + bytes(256 * 1024)), "certificate.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 413
    assert ("What you sent is larger than 128 KB, the most this service accepts in one go. "
            "Choose a smaller file.") in _text(response)
    assert ctx_count(Credential) == 0 and _stored(evidence_dir) == []


def test_the_request_limit_leaves_room_for_the_largest_upload(app):
    largest = max(app.config["PIPELINE_MAX_UPLOAD_BYTES"],
                  app.config.get("EVIDENCE_MAX_BYTES", files.DEFAULT_MAX_BYTES))
    assert app.config["MAX_CONTENT_LENGTH"] > largest
