"""Office files are zip archives: judge what one would unpack to before anything unpacks it.

A .docx, .xlsx or .odt of a few kilobytes can hold a member that inflates to gigabytes (a "zip
bomb"). Reading one (to recognise it, or openpyxl to import a plan) or handing it on to people
who download it would fill memory or disk, so an archive is refused on its directory alone: the
sizes each member declares. Python's zipfile never inflates a member past the size it declares
(a member that lies fails its CRC check instead), so the declared sizes bound what any later
reading here can cost.
"""
import io
import zipfile

from portal.core.exceptions import DomainError

# Real office files unpack to a few times their size; even a large, repetitive workbook stays
# well under these.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_RATIO = 200  # unpacked size over packed size, for the archive as a whole
MAX_MEMBERS = 10_000


def check_archive(data, what="file", field="file"):
    """Refuse a zip archive whose members would unpack to too much; a file that is not a zip
    archive is left to the caller's own checks."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    if len(members) > MAX_MEMBERS:
        raise DomainError(f"The {what} holds more than {MAX_MEMBERS:,} parts, more than a real "
                          "document has. Save it again from the program that made it.",
                          field=field)
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES or unpacked > MAX_RATIO * max(len(data), 1):
        raise DomainError(f"The {what} would unpack to {unpacked // (1024 * 1024):,} MB, far "
                          "more than a real document of its size. Save it again from the "
                          "program that made it, or upload it as a PDF.", field=field)
