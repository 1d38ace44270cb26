"""How production runs: gunicorn's settings come from gunicorn.conf.py and its environment, the
production configuration refuses a missing or short secret key, and forwarded headers are
believed only behind as many proxies as PROXY_FIX_HOPS says."""
import os
import subprocess
import sys

import pytest
from flask import request, url_for

from config import BASE_DIR, ProductionConfig, TestingConfig
from portal import create_app

GUNICORN = os.path.join(os.path.dirname(sys.executable), "gunicorn")


def _gunicorn_settings(**env):
    """gunicorn's settings as it prints them, run with gunicorn.conf.py and this environment."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "PORT", "BIND_HOST",
                          "GUNICORN_ACCESS_LOG", "LOG_FORMAT", "PORTAL_ENV")}
    done = subprocess.run([GUNICORN, "-c", "gunicorn.conf.py", "--print-config", "wsgi:app"],
                          cwd=BASE_DIR, env={**clean, **env}, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    settings = {}
    for line in done.stdout.splitlines():
        name, _, value = line.partition("=")
        settings[name.strip()] = value.strip()
    return settings


def test_gunicorn_conf_defaults():
    settings = _gunicorn_settings()
    assert settings["workers"] == "2" and settings["threads"] == "4"
    assert settings["bind"] == "['0.0.0.0:8000']"
    assert settings["timeout"] == "60" and settings["graceful_timeout"] == "30"
    assert settings["preload_app"] == "False"
    assert settings["accesslog"] == "None"  # the portal logs each request itself
    assert settings["forwarded_allow_ips"] == "[]" and settings["secure_scheme_headers"] == "{}"
    for personal in ("%(h)s", "%(r)s", "%(q)s", "%(a)s", "%(f)s", "%(u)s"):
        assert personal not in settings["access_log_format"]


def test_gunicorn_conf_reads_its_environment():
    settings = _gunicorn_settings(WEB_CONCURRENCY="5", GUNICORN_THREADS="2", PORT="9123",
                                  BIND_HOST="127.0.0.1", GUNICORN_ACCESS_LOG="-")
    assert (settings["workers"], settings["threads"]) == ("5", "2")
    assert settings["bind"] == "['127.0.0.1:9123']" and settings["accesslog"] == "-"


def _production(secret):
    return type("Production", (ProductionConfig,), {"SECRET_KEY": secret})


@pytest.mark.parametrize("secret, problem", [
    ("dev-only-change-me", "Set SECRET_KEY"),
    ("x" * 31, "at least 32 characters"),
    ("", "at least 32 characters"),
])
def test_production_refuses_a_missing_or_short_secret_key(secret, problem):
    with pytest.raises(RuntimeError, match=problem):
        _production(secret)()


def test_production_takes_a_long_secret_key_and_logs_json():
    config = _production("k" * 32)()
    assert config.SECRET_KEY == "k" * 32 and config.LOG_FORMAT == "json"


def test_the_production_app_does_not_start_with_a_short_key(tmp_path):
    env = {**os.environ, "PORTAL_ENV": "production", "SECRET_KEY": "too-short",
           "DATABASE_URL": f"sqlite:///{tmp_path}/portal.db",
           "SEARCH_INDEX_DIR": str(tmp_path / "search")}
    done = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "at least 32 characters" in done.stderr


def _app_behind(hops):
    config = type("Config", (TestingConfig,), {"PROXY_FIX_HOPS": hops})
    app = create_app(config)

    @app.get("/_whoami")
    def whoami():
        return {"address": request.remote_addr, "scheme": request.scheme,
                "link": url_for("main.home", _external=True)}
    return app.test_client()


FORWARDED = {"X-Forwarded-For": "198.51.100.9, 203.0.113.7", "X-Forwarded-Proto": "https"}


def test_forwarded_headers_are_ignored_unless_configured():
    seen = _app_behind(0).get("/_whoami", headers=FORWARDED,
                              environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_json()
    assert seen == {"address": "10.0.0.2", "scheme": "http", "link": "http://localhost/"}


def test_forwarded_headers_are_honoured_for_the_configured_hops():
    client = _app_behind(1)
    seen = client.get("/_whoami", headers=FORWARDED,
                      environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_json()
    # One proxy: the address it added (the last), not one the client wrote before it.
    assert seen == {"address": "203.0.113.7", "scheme": "https", "link": "https://localhost/"}
    plain = client.get("/_whoami", environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_json()
    assert plain["address"] == "10.0.0.2" and plain["scheme"] == "http"
