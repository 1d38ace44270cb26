"""Command-line tasks for the whole portal, grouped by area: `flask seed …`, `flask search …`,
`flask users …`, `flask mail …`, and the `flask bench …` group that domains add their
measurements to. A domain's own commands live in its `cli` module; `create_app` adds the groups
of every module in `portal.COMMAND_MODULES`."""
import importlib
import logging
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

seed_cli = AppGroup("seed", help="Load reference and demo data from seed/.")
search_cli = AppGroup("search", help="Build and check the search index.")
users_cli = AppGroup("users", help="Manage people who sign in.")
mail_cli = AppGroup("mail", help="Outgoing email.")
retention_cli = AppGroup("retention", help="Delete personal data kept past its period.")
log = logging.getLogger(__name__)
commands = [seed_cli, search_cli, users_cli, mail_cli, retention_cli]  # and those below

# Packages whose `demo` module (with `load_demo(progress)`) adds to `flask seed demo`, in order.
DEMO_PACKAGES = ("pipeline", "accreditation", "matching", "consortia", "insight")


def progress_printer(label, total=None, every=500):
    """Return a callback printing progress to stderr about every `every` items."""
    from portal.core.progress import every as every_step

    def report(count):
        suffix = f"/{total}" if total else ""
        click.echo(f"  {label}: {count}{suffix}", err=True)

    periodic = every_step(every, report)

    def callback(count):
        if total and count == total:
            report(count)
        else:
            periodic(count)

    return callback


@seed_cli.command("reference")
def seed_reference():
    """Load CPV codes, areas and vocabularies (safe to run again)."""
    from portal.reference.loaders import load_reference

    counts = load_reference(progress=lambda msg: click.echo(f"  {msg}", err=True))
    for name, count in counts.items():
        click.echo(f"{name}: {count}")


@seed_cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when organisations already exist.")
def seed_demo(if_empty):
    """Load demo organisations and one demo account per role (never in production)."""
    from portal.organisations.demo import DEMO_ACCOUNTS, DEMO_EMAIL_DOMAIN, DEMO_PASSWORD, load_demo

    if not current_app.config["DEMO_DATA_ALLOWED"]:
        raise click.ClickException("Demo data is not allowed in this configuration")
    report = lambda msg: click.echo(f"  {msg}", err=True)  # noqa: E731
    result = load_demo(if_empty=if_empty, progress=report)
    if result is None:
        click.echo("Demo data already loaded.")
    else:
        click.echo(f"Loaded {result['organisations']} demo organisations.")
        for package in DEMO_PACKAGES:
            module = importlib.import_module(f"portal.{package}.demo")
            for label, count in (module.load_demo(progress=report) or {}).items():
                click.echo(f"{label}: {count}")
    click.echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
    for label, local_part, *_rest in DEMO_ACCOUNTS:
        click.echo(f"  {label:<22} {local_part}@{DEMO_EMAIL_DOMAIN}")


@search_cli.command("rebuild")
@click.option("--if-needed", is_flag=True, help="Only when the index is missing or empty.")
def search_rebuild(if_needed):
    """Rebuild the organisation index from the database."""
    from portal.search import services as search_services

    if if_needed and not search_services.needs_rebuild():
        click.echo("Search index is up to date.")
        return
    count = search_services.rebuild(progress=progress_printer("indexed"))
    click.echo(f"Indexed {count} organisations.")


@click.command("prepare")
@click.pass_context
def prepare(ctx):
    """Make everything `make run` serves ready, in one process: the migrations, the reference
    data, the demo data when the database has none, and the search indexes when missing or
    old. A second start does each check cheaply and loads the app once."""
    from flask_migrate import upgrade

    from portal.insight.cli import contracts_sync

    upgrade()
    ctx.invoke(seed_reference)
    if current_app.config["DEMO_DATA_ALLOWED"]:
        ctx.invoke(seed_demo, if_empty=True)
    ctx.invoke(contracts_sync)
    ctx.invoke(search_rebuild, if_needed=True)


@search_cli.command("check")
def search_check():
    """Compare the index with the database and report how far this host is behind the change
    log; exit 1 when they differ."""
    from portal.search import services as search_services

    report = search_services.check()
    for kind in ("missing", "stale", "extra"):
        click.echo(f"{kind}: {len(report[kind])}")
    for name, behind in search_services.changes_behind().items():
        click.echo(f"{name} changes behind: {'not following' if behind is None else behind}")
    if any(report.values()):
        sys.exit(1)


@search_cli.command("follow")
@click.option("--interval", type=float, default=None,
              help="Seconds between reads of the change log (SEARCH_FOLLOW_INTERVAL, 0.5).")
@click.option("--once", is_flag=True, help="Catch up once and stop.")
def search_follow(interval, once):
    """Keep this host's indexes up to the change log (one such process per host)."""
    import time

    from portal.search import services as search_services

    interval = interval if interval is not None else current_app.config["SEARCH_FOLLOW_INTERVAL"]
    while True:
        try:
            done = search_services.follow_changes()
            if once:
                click.echo(" ".join(f"{name}: {count}" for name, count in done.items()))
                return
        except Exception:  # the database or the disk away for a moment: try again
            if once:
                raise
            log.exception("Following the change log failed; trying again")
        time.sleep(interval)


@search_cli.command("prune-changes")
@click.option("--days", type=float, default=None,
              help="Keep this many days of changes (SEARCH_CHANGES_KEEP_DAYS, 7).")
def search_prune_changes(days):
    """Delete old changes from the index change log (daily, with `retention apply`)."""
    from portal.search import services as search_services

    click.echo(f"index changes deleted: {search_services.prune_changes(days)}")


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--name", default="Site administrator")
@click.password_option()
def create_admin(email, name, password):
    """Create a site administrator account."""
    from portal.accounts.services import create_site_admin

    user = create_site_admin(email=email, name=name, password=password)
    click.echo(f"Created site admin {user.email}")


@mail_cli.command("flush")
@click.option("--older-than", default=60, show_default=True, help="Seconds a message must have waited.")
def mail_flush(older_than):
    """Send queued email that was not handed to the mail server (after a crash, say)."""
    from portal.core.mail import flush

    click.echo(f"sent: {flush(older_than)}")


@retention_cli.command("apply")
def retention_apply():
    """Delete what is kept past its retention period (docs/operations.md); safe to run daily."""
    from portal.accounts.retention import apply
    from portal.search import services as search_services

    for label, count in apply().items():
        click.echo(f"{label}: {count}")
    click.echo(f"index changes: {search_services.prune_changes()}")


@click.command("backup")
@with_appcontext
@click.argument("destination", type=click.Path(file_okay=False))
def backup_command(destination):
    """Copy the database and uploaded files into DESTINATION (a new or empty folder)."""
    from portal.core import backup
    from portal.core.exceptions import DomainError

    try:
        manifest = backup.backup(destination)
    except DomainError as error:
        raise click.ClickException(error.message)
    _echo_manifest(manifest)
    click.echo(f"Backed up to {destination}")


@click.command("restore")
@with_appcontext
@click.argument("source", type=click.Path(exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Replace the data and files this instance holds.")
def restore_command(source, force):
    """Restore the backup in SOURCE into this instance's database and file folders, then
    rebuild the search indexes."""
    from portal.core import backup
    from portal.core.exceptions import DomainError
    from portal.search import services as search_services

    try:
        manifest = backup.restore(source, force=force)
    except DomainError as error:
        raise click.ClickException(error.message)
    _echo_manifest(manifest)
    count = search_services.rebuild(progress=progress_printer("indexed"))
    click.echo(f"Restored from {source}; indexed {count} organisations.")


def _echo_manifest(manifest):
    rows = sum(manifest["tables"].values())
    files = ", ".join(f"{name} {item['files']}" for name, item in manifest["files"].items())
    click.echo(f"{manifest['database']} database of {manifest['created_at']} "
               f"(revision {manifest['alembic_revision']}): {len(manifest['tables'])} tables, "
               f"{rows} rows; files: {files}")


commands.extend([prepare, backup_command, restore_command])
