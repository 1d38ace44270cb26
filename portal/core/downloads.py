"""Sending a stored file back under the name its owner gave it."""
from urllib.parse import quote

from flask import send_file

from portal.core.text import ascii_filename


def content_disposition(filename, disposition="attachment"):
    """A Content-Disposition value (RFC 6266) for `filename`.

    Names that are not plain ASCII also get `filename*=UTF-8''…` (RFC 5987), which every
    current browser prefers; the ASCII `filename` is for clients that do not read it.
    """
    fallback = ascii_filename(filename)
    value = f'{disposition}; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def send_download(path, mimetype, filename):
    """The file at `path` (or a binary file object from a store) as an attachment called
    `filename`, never stored by a browser or a
    shared cache: every stored file is sent only after a check of who is asking."""
    response = send_file(path, mimetype=mimetype, as_attachment=True,
                         download_name=ascii_filename(filename), max_age=0)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response
