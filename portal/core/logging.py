"""Logs an operator can search without reading anyone's personal data.

Every request carries an id: the one the proxy sent in `X-Request-Id` (when it looks like an
id) or a new one, returned in the response's `X-Request-Id` and written on every log line of
that request. When the request is answered one line records it: method, path, status and
duration. With `LOG_FORMAT = "json"` (production's default) each log line is one JSON object.

What is never written: query strings (searches, sign-in redirects) and form bodies are not
logged at all; the secret segment of a token link (email confirmation, password reset,
invitation, unsubscribe) is replaced in every path; JSON lines mask email addresses, wherever
a message or an error got them from.
"""
import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Pages whose next path segment is a secret; tests/test_operations_logging.py checks that every
# route taking a `token` is listed.
TOKEN_PAGES = ("verify-email", "reset-password", "invitations", "alerts/unsubscribe",
               "forward-plan/manage/import")
_TOKEN_SEGMENT = re.compile(r"(/(?:%s)/)[^/?#\s\"'<>]+" % "|".join(map(re.escape, TOKEN_PAGES)))
_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
REDACTED_TOKEN, REDACTED_EMAIL = "[token]", "[email]"
REQUEST_FIELDS = ("method", "path", "status", "duration_ms")

request_log = logging.getLogger("portal.request")


def redact_path(path):
    """`path` (or any text holding links) with the secret segment of token links replaced."""
    return _TOKEN_SEGMENT.sub(r"\1" + REDACTED_TOKEN, path)


def scrub(text):
    """Text fit for a log: token links and email addresses masked."""
    return _EMAIL.sub(REDACTED_EMAIL, redact_path(text))


def current_request_id():
    return g.get("request_id") if has_request_context() else None


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message and request id, the request
    line's fields when the record has them, and any exception's traceback."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname, "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        entry.update({name: getattr(record, name) for name in REQUEST_FIELDS
                      if hasattr(record, name)})
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class JsonHandler(logging.StreamHandler):
    """Writes to the standard error of the moment (a test may have replaced it)."""

    def __init__(self):
        super().__init__()
        self.setFormatter(JsonFormatter())

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def use_json_logs():
    """Send every logger's records to one JSON handler on the root logger (replacing one an
    earlier app added), and let the portal's own INFO lines through."""
    from flask.logging import default_handler

    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, JsonHandler)]:
        root.removeHandler(handler)
    root.addHandler(JsonHandler())
    portal = logging.getLogger("portal")
    portal.removeHandler(default_handler)  # Flask's own, which would write each line twice
    if portal.getEffectiveLevel() > logging.INFO:
        portal.setLevel(logging.INFO)


def _start_request():
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _logged_path():
    """The path without its query string, and with any token in it replaced."""
    path = redact_path(request.path)
    secret = (request.view_args or {}).get("token")
    return path.replace(str(secret), REDACTED_TOKEN) if secret else path


def _finish_request(response):
    request_id = g.get("request_id") or uuid.uuid4().hex
    response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("request_started")
    fields = {"method": request.method, "path": _logged_path(), "status": response.status_code,
              "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
              "request_id": request_id}
    request_log.info("%s %s %s", fields["method"], fields["path"], fields["status"],
                     extra=fields)
    return response


def init_app(app):
    """Before any other hook: the request id and start time; after every response (errors
    included): the id in the header and the request line in the log."""
    if app.config.get("LOG_FORMAT") == "json":
        use_json_logs()
    app.before_request(_start_request)
    app.after_request(_finish_request)
