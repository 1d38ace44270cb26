"""Evidence files: what we accept, how we recognise it, and where it is kept.

Accreditation evidence, the certificates on a profile and the files a consortium shares all
live in this one store. A file's type is decided by its content (magic bytes, and for office
formats the parts inside the zip), and must agree with its extension. Files are kept in the
evidence store (portal.core.storage: instance/evidence, outside static/, unless `FILE_STORAGE`
names shared storage) under random names; the name the user gave is kept only for
display and downloads. One stored file may be named by several rows (a certificate on a profile
and the applications it was given to as evidence), so it is deleted only when none names it.
"""
import hashlib
import io
import re
import secrets
import zipfile
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from portal.core.archives import check_archive
from portal.core.exceptions import DomainError
from portal.core.storage import store_for
from portal.core.text import display_filename
from portal.extensions import db

KINDS = {
    "pdf": ("PDF", "application/pdf"),
    "docx": ("Word document", "application/vnd.openxmlformats-officedocument."
                              "wordprocessingml.document"),
    "xlsx": ("Excel spreadsheet", "application/vnd.openxmlformats-officedocument."
                                  "spreadsheetml.sheet"),
    "odt": ("OpenDocument text", "application/vnd.oasis.opendocument.text"),
    "png": ("PNG image", "image/png"),
    "jpeg": ("JPEG image", "image/jpeg"),
}
EXTENSIONS = {".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx", ".odt": "odt", ".png": "png",
              ".jpg": "jpeg", ".jpeg": "jpeg"}
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
STORED_NAME_RE = re.compile(r"^[0-9a-f]{32}$")
ZIP_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
ACCEPTED = "PDF, DOCX, XLSX, ODT, PNG or JPEG"
# Model columns that hold stored names; each domain registers its own (see `named_by`).
_NAMED_BY = []


def max_bytes():
    return current_app.config.get("EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES)


def storage_dir():
    folder = Path(current_app.config.get("EVIDENCE_DIR")
                  or Path(current_app.instance_path) / "evidence")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _zip_kind(data):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if names and names[0] == "mimetype" and \
                    archive.read("mimetype").strip() == KINDS["odt"][1].encode():
                return "odt"
            for kind, part in ZIP_PARTS.items():
                if part in names and "[Content_Types].xml" in names:
                    return kind
    except (zipfile.BadZipFile, KeyError, RuntimeError, NotImplementedError):
        return None
    return None


def sniff(data):
    """The kind of file `data` really is, judged by its content, or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    return None


def read_upload(storage):
    """(filename, bytes) from a form's file input, or None when no file was chosen."""
    if storage is None or not getattr(storage, "filename", ""):
        return None
    # One byte past the limit is enough to know a file is too large without keeping it.
    return storage.filename, storage.stream.read(max_bytes() + 1)


def check_upload(filename, data):
    """Return (kind, clean name) for an acceptable file, or raise DomainError naming the problem."""
    name = display_filename(filename)
    if not data:
        raise DomainError("The selected file is empty", field="file")
    limit = max_bytes()
    if len(data) > limit:
        raise DomainError(f"The selected file must be smaller than {limit // (1024 * 1024)}MB",
                          field="file")
    declared = EXTENSIONS.get(Path(name).suffix.lower())
    if declared is None:
        raise DomainError(f"The selected file must be a {ACCEPTED}", field="file")
    check_archive(data, what=f"selected {KINDS[declared][0]}")
    actual = sniff(data)
    if actual != declared:
        raise DomainError(f"The selected file is not a real {KINDS[declared][0]}: its content "
                          f"does not match its name. Upload a {ACCEPTED}", field="file")
    return actual, name


def evidence_store():
    """The store evidence files are kept in (see portal.core.storage)."""
    return store_for("evidence", storage_dir())


class StorageFull(DomainError):
    """The file store has no room (or no permission) for an upload: the service's fault, not the
    file's, so it is reported as unavailable for now."""

    status_code = 503


STORAGE_FULL = ("The portal could not save your file because its file store is full. Nothing "
                "from this page was saved and your other files are safe: try again later, and "
                "tell the site administrator if it happens again.")


def store(data):
    """Write `data` under a new random name and return (stored name, sha256); a full store
    refuses it as `save_or_refuse` says."""
    stored_name = secrets.token_hex(16)
    save_or_refuse(evidence_store(), stored_name, data)
    return stored_name, hashlib.sha256(data).hexdigest()


def save_or_refuse(files, stored_name, data):
    """Save `data` in the store `files`. A write that fails part way (the store is full)
    leaves no file behind, rolls back the session's change (which would otherwise name a
    missing file) and raises StorageFull."""
    try:
        files.save(stored_name, data)
    except OSError as error:
        files.delete(stored_name)
        current_app.logger.error("Could not store an uploaded file: %s", error.strerror)
        db.session.rollback()  # nothing of the change the file belonged to is kept
        raise StorageFull(STORAGE_FULL, field="file") from error


def checked_name(stored_name):
    """A stored name as the portal makes them, or DomainError: a name from the database is
    never trusted as a path."""
    if not STORED_NAME_RE.match(stored_name or ""):
        raise DomainError("Evidence file not found")
    return stored_name


def path_for(stored_name):
    """Where the local store keeps a file (on this host's disk)."""
    return storage_dir() / checked_name(stored_name)


def exists(stored_name):
    return evidence_store().exists(checked_name(stored_name))


def open_stored(stored_name):
    """A binary file object reading the stored file (FileNotFoundError when it is gone)."""
    return evidence_store().open(checked_name(stored_name))


def named_by(column):
    """Register a model column that holds stored names, so `discard` keeps a file it names."""
    _NAMED_BY.append(column)
    return column


def in_use(stored_name):
    """Whether any registered column still names the stored file."""
    return any(db.session.scalar(select(column).where(column == stored_name).limit(1))
               for column in _NAMED_BY)


def discard(stored_name):
    """Delete a stored file, unless a database row still points at it (call after the commit
    that removed the row)."""
    if in_use(stored_name):
        return
    try:
        evidence_store().delete(checked_name(stored_name))
    except (DomainError, OSError):
        current_app.logger.warning("Could not delete evidence file %s", stored_name)
