"""The Pathfinder portal: application factory."""
import os

from flask import Flask
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from config import BASE_DIR, CONFIGS
from portal.core import logging as request_logging
from portal.core import routing


def create_app(config=None):
    """Build the app: configuration, extensions, blueprints, error handlers and CLI."""
    app = Flask(__name__, template_folder=str(BASE_DIR / "templates"),
                static_folder=str(BASE_DIR / "static"), instance_path=str(BASE_DIR / "instance"))
    _configure(app, config)
    request_logging.init_app(app)
    _trust_proxies(app)
    routing.init_app(app)
    _init_extensions(app)
    _register_blueprints(app)
    from portal import errors, security
    errors.init_app(app)
    security.init_app(app)
    _register_commands(app)
    return app


def _limit_connecting(config):
    """A PostgreSQL host that drops packets, rather than refusing them, would hold every
    request waiting to connect (and its worker thread) for minutes; give up after
    DATABASE_CONNECT_TIMEOUT seconds instead, so the person gets the 503 page."""
    seconds = config.get("DATABASE_CONNECT_TIMEOUT")
    if not seconds or not config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
    options["connect_args"] = {"connect_timeout": seconds, **options.get("connect_args", {})}
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _configure(app, config):
    if config is None:
        config = CONFIGS[os.environ.get("PORTAL_ENV", "development")]
    app.config.from_object(config() if isinstance(config, type) else config)
    _limit_connecting(app.config)
    app.jinja_loader = ChoiceLoader([
        app.jinja_loader,
        PrefixLoader({
            "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
            "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
        }),
    ])
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    from portal.core.widgets import with_options

    app.jinja_env.filters["with_options"] = with_options


def _trust_proxies(app):
    """Behind PROXY_FIX_HOPS proxies, the client's address and the scheme are the ones they
    forward (for audit, rate limits and https links); with none, both headers are ignored."""
    hops = app.config.get("PROXY_FIX_HOPS", 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def _init_extensions(app):
    from govuk_frontend_wtf.main import WTFormsHelpers

    from portal.extensions import csrf, db, limiter, login_manager, migrate
    from portal import models  # noqa: F401  (registers every table on the metadata)
    from portal.core import mail
    from portal.core.forms import error_summary

    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, directory=str(BASE_DIR / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    WTFormsHelpers(app)
    app.jinja_env.globals["wtforms_errors"] = error_summary
    mail.init_app(app)
    _init_search_and_changes(app)


def _init_search_and_changes(app):
    """Register the searchable document types, then what each commit is handed to, in order:
    the two indexes first, so the stored matches that follow read the new documents."""
    from portal.core import changes
    from portal.insight import subscribers as insight
    from portal.matching import following
    from portal.matching.indexing import ORGANISATIONS
    from portal.pipeline.indexing import ENTRIES
    from portal.search import app as search

    search.init_app(app, ranked_type=ORGANISATIONS, listing_type=ENTRIES)
    changes.init_app(app, [*search.subscribers(app), following.subscriber(),
                           insight.subscriber()])


BLUEPRINT_PACKAGES = ("main", "accounts", "organisations", "pipeline", "accreditation", "matching",
                      "alerts", "consortia", "insight", "admin", "api")


def _register_blueprints(app):
    """Import each package's views (which attach routes to its blueprint), then register it."""
    import importlib

    for name in BLUEPRINT_PACKAGES:
        importlib.import_module(f"portal.{name}.views")
        app.register_blueprint(importlib.import_module(f"portal.{name}").bp)


# Modules defining commands: each lists the groups it defines in `commands`. Modules that only
# add to the shared `seed` and `bench` groups of portal/cli.py are listed too, so that importing
# them adds their commands.
COMMAND_MODULES = ("cli", "accreditation.cli", "alerts.cli", "matching.cli", "pipeline.cli",
                   "insight.cli", "bench.cli")


def _register_commands(app):
    """Add every command group of COMMAND_MODULES to `flask`."""
    import importlib

    for name in COMMAND_MODULES:
        for group in importlib.import_module(f"portal.{name}").commands:
            app.cli.add_command(group)
