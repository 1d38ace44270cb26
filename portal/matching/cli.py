"""`flask matching refresh`: bring the stored matches up to date."""
import click
from flask import current_app
from flask.cli import AppGroup


matching_cli = AppGroup("matching", help="Keep the stored matches up to date.")
commands = [matching_cli]


@matching_cli.command("refresh")
@click.option("--stale", is_flag=True, help="Only entries changed since their last refresh.")
def refresh(stale):
    """Recompute the stored matches behind recommendations and profile alerts. A run started
    while another is going does nothing: the running one covers the same entries."""
    from portal.core.locks import job_lock
    from portal.matching.services import refresh_matches

    def progress(done, total):
        click.echo(f"  matches refreshed: {done}/{total}", err=True)

    with job_lock("matching-refresh") as held:
        if not held:
            click.echo("matching refresh is already running; this run did nothing")
            return
        entries, kept, seconds, suppliers = refresh_matches(stale_only=stale, progress=progress)
    click.echo(f"entries: {entries}")
    click.echo(f"suppliers_rescored: {suppliers}")
    click.echo(f"matches_kept: {kept}")
    click.echo(f"ranking_s: {seconds:.1f}")
    if entries:
        click.echo(f"ranking_per_entry_ms: {seconds * 1000 / entries:.0f}")
    current_app.logger.info("Matches refreshed for %s entries", entries)
