"""Logs: a request id on every request and response, one line per request with its method,
path, status and duration, JSON lines when asked for (production's default), and nothing
personal in them: no query strings, form bodies, email addresses or token links."""
import json
import logging
import re
import sys
import time
import urllib.error
import urllib.request

import pytest

from config import TestingConfig
from portal import create_app
from portal.core.logging import JsonFormatter, JsonHandler, redact_path
from tests.factories import PASSWORD
from tests.production import Gunicorn, database_url, flask, portal_env  # noqa: F401

EMAIL = "dana.lee@example.org"


@pytest.fixture
def json_app(app):
    yield create_app(type("JsonLogs", (TestingConfig,), {"LOG_FORMAT": "json"}))
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, JsonHandler)]:
        root.removeHandler(handler)
    logging.getLogger("portal").setLevel(logging.NOTSET)


def _json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_each_response_carries_a_request_id(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["X-Request-Id"])
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]


@pytest.mark.parametrize("sent, kept", [
    ("req-42", True), ("5f0c7a1e-9b1d-4c57-a1c4-2f2d6b0c9e11", True),
    ("two words", False), ("x" * 200, False), ("<script>", False)])
def test_an_incoming_request_id_is_kept_when_it_looks_like_one(client, sent, kept):
    returned = client.get("/healthz", headers={"X-Request-Id": sent}).headers["X-Request-Id"]
    assert (returned == sent) == kept
    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", returned)


def test_the_request_line_has_its_fields_and_no_query_or_token(client, caplog):
    caplog.set_level(logging.INFO, logger="portal.request")
    response = client.get(f"/reset-password/SECRET-TOKEN-123?email={EMAIL}")
    client.get("/organisations?q=mental+health")
    first, second = [r for r in caplog.records if r.name == "portal.request"]
    assert (first.method, first.path, first.status) == ("GET", "/reset-password/[token]", 400)
    assert first.request_id == response.headers["X-Request-Id"]
    assert isinstance(first.duration_ms, float) and first.duration_ms >= 0
    assert second.path == "/organisations" and second.status == 200
    assert "SECRET-TOKEN-123" not in caplog.text and EMAIL not in caplog.text


def test_json_logs_are_one_object_a_line_with_nothing_personal(json_app, make_user, capsys):
    make_user(email=EMAIL)
    client = json_app.test_client()
    client.get("/healthz", headers={"X-Request-Id": "req-42"})
    client.post("/sign-in?next=/dashboard", data={"email": EMAIL, "password": "not-mine-1"})
    client.post("/forgot-password", data={"email": EMAIL})  # the reset email is logged
    output = capsys.readouterr().err
    lines = _json_lines(output)
    for line in lines:
        assert {"time", "level", "logger", "message", "request_id"} <= set(line)
    requests = [line for line in lines if line["logger"] == "portal.request"]
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [
        ("GET", "/healthz", 200), ("POST", "/sign-in", 200), ("POST", "/forgot-password", 200)]
    assert requests[0]["request_id"] == "req-42"
    assert all(isinstance(r["duration_ms"], float) for r in requests)
    mail = next(line for line in lines if "Reset your password" in line["message"])
    # Only the subject is logged: no address, no body, no link.
    assert "@" not in mail["message"] and "/reset-password/" not in mail["message"]
    assert mail["request_id"] == requests[2]["request_id"]
    for secret in (EMAIL, "not-mine-1", "next=", PASSWORD):
        assert secret not in output


def test_every_route_taking_a_token_is_masked(app):
    routes = [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
    assert routes
    adapter = app.url_map.bind("localhost")
    for rule in routes:
        values = {name: 1 for name in rule.arguments}
        path = adapter.build(rule.endpoint, {**values, "token": "SECRET9"})
        assert "SECRET9" not in redact_path(path), rule.rule


def test_errors_are_logged_as_json_with_their_traceback_scrubbed():
    try:
        raise ValueError(f"duplicate key: {EMAIL}")
    except ValueError:
        record = logging.getLogger("portal.test").makeRecord(
            "portal.test", logging.ERROR, __file__, 1, "Could not save %s", (EMAIL,),
            exc_info=sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "Could not save [email]" and entry["level"] == "ERROR"
    assert "ValueError: duplicate key: [email]" in entry["exception"]
    assert entry["request_id"] is None and entry["time"].endswith("Z")


def _when_written(server, text, seconds=10):
    """The server's log once `text` is in its access log (written after the answer is sent)."""
    for _ in range(seconds * 10):
        log = server.log()
        if any(text in line and "gunicorn.access" in line for line in log.splitlines()):
            return log
        time.sleep(0.1)
    return log


def test_gunicorn_writes_json_lines_with_the_request_id(portal_env):
    assert flask(portal_env, "db", "upgrade").returncode == 0
    env = {**portal_env, "LOG_FORMAT": "json", "GUNICORN_ACCESS_LOG": "-"}
    server = Gunicorn(env, workers=1, threads=2)
    try:
        asked = urllib.request.Request(server.url + "/healthz", headers={"X-Request-Id": "probe-7"})
        with urllib.request.urlopen(asked, timeout=30) as response:
            assert response.headers["X-Request-Id"] == "probe-7"
        try:
            urllib.request.urlopen(f"{server.url}/reset-password/SECRET9?email={EMAIL}", timeout=30)
        except urllib.error.HTTPError as error:
            assert error.code == 400
        log = _when_written(server, "/reset-password/")
    finally:
        server.stop()
    lines = _json_lines(log)  # every line, gunicorn's own included, is a JSON object
    app_lines = [line for line in lines if line["logger"] == "portal.request"]
    assert any(line["request_id"] == "probe-7" and line["path"] == "/healthz" for line in app_lines)
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    assert any("probe-7" in line["message"] for line in access)
    assert any("/reset-password/[token]" in line["message"] for line in access)
    assert "SECRET9" not in log and EMAIL not in log and "127.0.0.1 -" not in log
