"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Environment: WEB_CONCURRENCY (worker processes, default 2), GUNICORN_THREADS (threads per worker,
default 4), PORT (default 8000) and BIND_HOST (default 0.0.0.0); GUNICORN_ACCESS_LOG ("-" for
standard output, or a file) turns on gunicorn's own access log. Options given on the command
line win over this file. docs/operations.md says how the portal is run.
"""
import os

from gunicorn.glogging import Logger

from portal.core.logging import JsonFormatter, redact_path

workers = int(os.environ.get("WEB_CONCURRENCY", 2))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
bind = f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"

# A request may take this long (an insight page at national scale, a large upload) before its
# worker is replaced; a restart lets requests under way finish for this long.
timeout = 60
graceful_timeout = 30
# Connections from the proxy in front are kept open between requests for this long.
keepalive = 5

# Each worker loads the app itself: a forked copy would share the master's database
# connections and search index handles, and the matching refresher's thread would not survive
# the fork.
preload_app = False

# Which headers from a proxy to believe is the app's decision (PROXY_FIX_HOPS), not gunicorn's:
# by default gunicorn would take X-Forwarded-Proto from any local address.
forwarded_allow_ips = ""
secure_scheme_headers = {}

# The portal writes a line for every request itself, with its request id (see
# portal/core/logging.py), so gunicorn's access log is off unless asked for. When it is on it
# carries no personal data: no client address, query string, referrer or user agent, and
# token links are masked.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms %({x-request-id}o)s'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


# In JSON mode (production's default, as in config.py) gunicorn's own lines are JSON too, so
# every line of the log reads the same way.
_PORTAL_ENV = os.environ.get("PORTAL_ENV", "development")
_DEFAULT_FORMAT = "json" if _PORTAL_ENV == "production" else "text"
JSON_LOGS = os.environ.get("LOG_FORMAT", _DEFAULT_FORMAT) == "json"


class PortalLogger(Logger):
    """gunicorn's logger, with token links masked in the access log's path, writing JSON
    lines in JSON mode."""

    def setup(self, cfg):
        super().setup(cfg)
        if JSON_LOGS:
            for handler in self.error_log.handlers + self.access_log.handlers:
                handler.setFormatter(JsonFormatter())

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = redact_path(atoms["U"] or "")
        return atoms


logger_class = PortalLogger


def on_starting(server):
    """Warn when the sign-in limits would be counted per worker: with memory:// storage each of
    several workers keeps its own counts, so a guesser gets the limit once per worker. A warning
    rather than a refusal to start: the portal still works and still limits, only less tightly."""
    storage = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    if server.cfg.workers > 1 and storage.startswith("memory://"):
        server.log.warning(
            "RATELIMIT_STORAGE_URI is memory:// with %s workers: each worker counts sign-in "
            "attempts on its own, so the limits allow %s times as many. Set it to a Redis URL "
            "(docs/operations.md).", server.cfg.workers, server.cfg.workers)
