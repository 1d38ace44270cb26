"""`flask alerts send`: find and email new matches. Safe to run from cron every few minutes."""
import click
from flask import current_app
from flask.cli import AppGroup

alerts_cli = AppGroup("alerts", help="Email people about new matches for their alerts.")
commands = [alerts_cli]


@alerts_cli.command("send")
def send():
    """Find new or changed matches for every alert and send those that are due. A run started
    while another is going does nothing (two at once would email the same matches twice)."""
    from portal.alerts.services import run
    from portal.core.locks import job_lock

    def progress(report):
        if report.subscriptions % 100 == 0:
            click.echo(f"  {report.subscriptions} alerts checked", err=True)

    with job_lock("alerts-send") as held:
        if not held:
            click.echo("alerts send is already running; this run did nothing")
            return
        with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
            report = run(progress=progress)
    click.echo(f"alerts checked: {report.subscriptions}")
    click.echo(f"new matches: {report.new_items}")
    click.echo(f"emails: {report.emails} carrying {report.items_sent} matches")
