"""Configuration classes. Every key has a default; environment variables override."""
import os
import sys
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    SERVICE_NAME = "Pathfinder"
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'pathfinder.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # On PostgreSQL, connecting gives up after this many seconds (0: never).
    DATABASE_CONNECT_TIMEOUT = _env_int("DATABASE_CONNECT_TIMEOUT", 5)
    SEARCH_INDEX_DIR = os.environ.get("SEARCH_INDEX_DIR", str(INSTANCE_DIR / "search"))
    SEARCH_ENABLED = True
    # A rebuild of an index on disk uses this many processes (one per core, at most four)
    # once the directory holds this many organisations.
    SEARCH_REBUILD_PROCESSES = int(os.environ.get("SEARCH_REBUILD_PROCESSES",
                                                  min(os.cpu_count() or 1, 4)))
    SEARCH_PARALLEL_FROM = int(os.environ.get("SEARCH_PARALLEL_FROM", 5000))
    # Speed-ups that rely on Whoosh's internals (portal/search/whoosh_internals.py): "all",
    # "none" or the names of those to use. None is used on another Whoosh version.
    SEARCH_WHOOSH_SPEEDUPS = os.environ.get("SEARCH_WHOOSH_SPEEDUPS", "all")
    # Each host's indexes follow the index change log (portal/search/follow.py): the follower
    # (`flask search follow`) reads it this often; an id not seen below the newest is looked
    # for again this long (a transaction still committing) before it is taken as rolled back;
    # `flask search prune-changes` (and `retention apply`) keep this many days of the log.
    SEARCH_FOLLOW_INTERVAL = float(os.environ.get("SEARCH_FOLLOW_INTERVAL", 0.5))
    SEARCH_CHANGES_GRACE_SECONDS = float(os.environ.get("SEARCH_CHANGES_GRACE_SECONDS", 120))
    SEARCH_CHANGES_KEEP_DAYS = float(os.environ.get("SEARCH_CHANGES_KEEP_DAYS", 7))
    # Stored matches follow a change after the request that made it: "background" (a thread of
    # the web worker) or "inline" (before the response, as commands always do).
    MATCHING_REFRESH = os.environ.get("MATCHING_REFRESH", "background")

    # Sessions: secure cookies, idle and absolute timeouts, no remember-me cookie.
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "pathfinder_session"
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=_env_int("SESSION_IDLE_MINUTES", 30))
    SESSION_ABSOLUTE_HOURS = _env_int("SESSION_ABSOLUTE_HOURS", 12)
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 3600

    RATELIMIT_ENABLED = True
    # memory:// counts per worker process: with several workers (or hosts) set it to Redis,
    # redis://HOST:6379/DB, so the sign-in limits hold across them (docs/operations.md). Keys
    # start with RATELIMIT_KEY_PREFIX, so several portals can share one Redis. Should Redis
    # stop answering, each worker counts in its own memory until it is back.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "pathfinder")
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_IP = os.environ.get("LOGIN_LIMIT_PER_IP", "20 per minute;200 per day")
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per minute;50 per day")
    # Two-step sign-in (an authenticator app): site admins, everyone at an accreditation body and
    # a buyer's admins must set it up; anyone else may. MFA_KEY seals the apps' secrets at rest
    # (derived from SECRET_KEY when unset: set it so that changing SECRET_KEY keeps them).
    MFA_REQUIRED_FOR_ROLES = _env_bool("MFA_REQUIRED_FOR_ROLES", True)
    MFA_KEY = os.environ.get("MFA_KEY", "")

    # Email: SMTP when MAIL_SERVER is set, otherwise stored in the outbox (site admins can read it).
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = _env_int("MAIL_PORT", 587)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "no-reply@pathfinder.localhost")

    EMAIL_TOKEN_MAX_AGE = 60 * 60 * 24 * 3
    RESET_TOKEN_MAX_AGE = 60 * 60
    INVITE_TOKEN_MAX_AGE = 60 * 60 * 24 * 14

    # Uploaded documents live outside static/, under random names (see portal/pipeline/uploads.py).
    PIPELINE_UPLOAD_DIR = os.environ.get("PIPELINE_UPLOAD_DIR", str(INSTANCE_DIR / "uploads" / "pipeline"))
    PIPELINE_MAX_UPLOAD_BYTES = _env_int("PIPELINE_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
    # The largest request accepted: the largest upload plus the form around it. Werkzeug
    # writes a file part to a temporary file while it reads a request, so anything bigger is
    # refused (413) before a byte of it is written or read.
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH",
                                  max(PIPELINE_MAX_UPLOAD_BYTES, 10 * 1024 * 1024) + 1024 * 1024)
    OCDS_OCID_PREFIX = os.environ.get("OCDS_OCID_PREFIX", "ocds-pthfnd")
    # Accreditation evidence, likewise (see portal/accreditation/evidence.py).
    EVIDENCE_DIR = os.environ.get("EVIDENCE_DIR", str(INSTANCE_DIR / "evidence"))
    # Where evidence and certificate files are kept (portal/core/storage.py): "local" (in
    # EVIDENCE_DIR), or "module:factory" for shared object storage on several hosts.
    FILE_STORAGE = os.environ.get("FILE_STORAGE", "local")

    # The market map's counts are kept this long in each worker (portal/insight/cache.py).
    INSIGHT_CACHE_SECONDS = _env_int("INSIGHT_CACHE_SECONDS", 300)

    PER_PAGE = 20
    API_MAX_PER_PAGE = 100
    DEMO_DATA_ALLOWED = True
    PREFERRED_URL_SCHEME = "http"
    # Links in emails sent from commands (no request to take the host from) start with this.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")

    # Operations (docs/operations.md). Logs: "text", or "json" (one object a line, with the
    # request id). Proxies: how many in front of the portal set X-Forwarded-For and
    # X-Forwarded-Proto; 0 believes neither header.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    PROXY_FIX_HOPS = _env_int("PROXY_FIX_HOPS", 0)
    # Personal data is kept this many days (`flask retention apply`).
    RETENTION_UNVERIFIED_ACCOUNT_DAYS = _env_int("RETENTION_UNVERIFIED_ACCOUNT_DAYS", 30)
    RETENTION_INVITATION_DAYS = _env_int("RETENTION_INVITATION_DAYS", 90)
    RETENTION_MAIL_DAYS = _env_int("RETENTION_MAIL_DAYS", 90)
    RETENTION_AUDIT_IP_DAYS = _env_int("RETENTION_AUDIT_IP_DAYS", 365)


class DevelopmentConfig(Config):
    # The embedded default serves plain http on 127.0.0.1, so the cookie cannot demand https.
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    # The demo's commissioner, assessor and site admin sign in with a password alone unless asked.
    MFA_REQUIRED_FOR_ROLES = _env_bool("MFA_REQUIRED_FOR_ROLES", False)


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    SEARCH_INDEX_DIR = ""  # tests pass a temporary directory
    MATCHING_REFRESH = "inline"  # tests of the background refresher ask for it
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    SESSION_COOKIE_SECURE = False
    MAIL_SERVER = ""
    INSIGHT_CACHE_SECONDS = 0  # a test that needs the cache switches it on
    MFA_REQUIRED_FOR_ROLES = False  # tests of two-step sign-in switch it on


class ProductionConfig(Config):
    PREFERRED_URL_SCHEME = "https"
    DEMO_DATA_ALLOWED = False
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
    MIN_SECRET_KEY_LENGTH = 32

    def __init__(self):
        if self.SECRET_KEY == "dev-only-change-me":
            raise RuntimeError("Set SECRET_KEY for production")
        if len(self.SECRET_KEY) < self.MIN_SECRET_KEY_LENGTH:
            # Session cookies and email links are signed with it: a short key can be guessed.
            raise RuntimeError(f"SECRET_KEY must be at least {self.MIN_SECRET_KEY_LENGTH} "
                               "characters in production")
        if sys.version_info < (3, 12):
            # Python 3.11's garbage collector can free an object's attributes twice while
            # SQLAlchemy closes a session: workers die (tests/test_interpreter.py).
            raise RuntimeError("Run Pathfinder on Python 3.12 or newer in production")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
