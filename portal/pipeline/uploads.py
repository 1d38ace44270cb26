"""Uploaded documents: checked by extension and by their first bytes, kept in the file store
(portal.core.storage: this host's disk outside static/, or storage every host shares) under
random names, and only ever read back through an authorised download route."""
import io
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from portal.core.archives import check_archive
from portal.core.exceptions import DomainError
from portal.core.files import save_or_refuse
from portal.core.storage import store_for
from portal.core.text import display_filename

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the container of .doc and .xls files
ZIP = b"PK\x03\x04"


@dataclass(frozen=True)
class Kind:
    content_type: str
    signature: bytes | None = None
    zip_member: str | None = None  # a name every genuine file of this kind contains


KINDS = {
    "pdf": Kind("application/pdf", b"%PDF-"),
    "docx": Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 ZIP, "word/"),
    "xlsx": Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP, "xl/"),
    "pptx": Kind("application/vnd.openxmlformats-officedocument.presentationml.presentation",
                 ZIP, "ppt/"),
    "odt": Kind("application/vnd.oasis.opendocument.text", ZIP, "mimetype"),
    "ods": Kind("application/vnd.oasis.opendocument.spreadsheet", ZIP, "mimetype"),
    "doc": Kind("application/msword", OLE),
    "xls": Kind("application/vnd.ms-excel", OLE),
    "rtf": Kind("application/rtf", b"{\\rtf"),
    "txt": Kind("text/plain"),
    "csv": Kind("text/csv"),
}
ALLOWED_LABEL = "PDF, Word, Excel, PowerPoint, OpenDocument, RTF, CSV or plain text"


@dataclass
class CheckedUpload:
    original_name: str
    extension: str
    content_type: str
    data: bytes

    @property
    def size(self):
        return len(self.data)


def upload_dir():
    configured = current_app.config.get("PIPELINE_UPLOAD_DIR")
    path = Path(configured) if configured else Path(current_app.instance_path) / "uploads" / "pipeline"
    path.mkdir(parents=True, exist_ok=True)
    return path


def max_bytes():
    return current_app.config.get("PIPELINE_MAX_UPLOAD_BYTES", MAX_DOCUMENT_BYTES)


def _extension(filename):
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _looks_like_text(data):
    if b"\x00" in data[:8192]:
        return False
    for encoding in ("utf-8", "cp1252"):
        try:
            data[:8192].decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def _matches(kind, data):
    if kind.signature is None:
        return _looks_like_text(data)
    if not data.startswith(kind.signature):
        return False
    if kind.zip_member:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return any(name.startswith(kind.zip_member) for name in archive.namelist())
        except zipfile.BadZipFile:
            return False
    return True


def check_upload(upload, field="file"):
    """Read an uploaded file and refuse it unless its name and its content agree on a kind
    we accept and it is within the size limit."""
    if upload is None or not getattr(upload, "filename", ""):
        raise DomainError("Choose a file to upload", field=field)
    limit = max_bytes()
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise DomainError(f"The file must be smaller than {limit // (1024 * 1024)} MB", field=field)
    if not data:
        raise DomainError("The selected file is empty", field=field)
    original = display_filename(upload.filename, fallback="document")
    extension = _extension(original)
    kind = KINDS.get(extension)
    if kind is None:
        raise DomainError(f"The file must be a {ALLOWED_LABEL} file", field=field)
    if kind.zip_member:
        check_archive(data, what=f".{extension} file", field=field)
    if not _matches(kind, data):
        raise DomainError(f"The file's content is not a real .{extension} file", field=field)
    return CheckedUpload(original, extension, kind.content_type, data)


def document_store():
    """The store entry documents are kept in; `upload_dir` is the local store's folder."""
    return store_for("uploads", upload_dir())


def save(checked):
    """Keep the file under a random name and return that name (StorageFull when the store
    has no room: portal.core.files.save_or_refuse)."""
    stored_name = f"{secrets.token_hex(16)}.{checked.extension}"
    save_or_refuse(document_store(), stored_name, checked.data)
    return stored_name


def open_stored(stored_name):
    """A binary file object reading a stored document (FileNotFoundError when it is gone).
    Stored names are made here, but a path component from the database is never trusted."""
    return document_store().open(Path(stored_name).name)


def delete(stored_name):
    document_store().delete(Path(stored_name).name)
