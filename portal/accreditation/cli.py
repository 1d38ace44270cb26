"""`flask accreditation …` and `flask seed accreditation`."""
from datetime import date

import click
from flask.cli import AppGroup

from portal.cli import seed_cli

accreditation_cli = AppGroup("accreditation", help="Run accreditation housekeeping.")
commands = [accreditation_cli]


@seed_cli.command("accreditation")
def seed_accreditation():
    """Load the accreditation schemes and recognised marks from seed/accreditation."""
    from portal.accreditation.schemes import load_schemes

    for label, count in load_schemes().items():
        click.echo(f"{label}: {count}")


@accreditation_cli.command("expire")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Run as if it were this date (YYYY-MM-DD).")
def expire(today):
    """Lapse expired accreditations and send the 90- and 30-day reminders (safe to run daily).

    Run it shortly after midnight: an accreditation leaves the register the day after its
    expiry date, and leaves matching (the search index and recommendations) when this lapses it.
    """
    from portal.accreditation.services import run_expiry

    counts = run_expiry(today.date() if today else None)
    click.echo(f"Lapsed {counts['lapsed']}; reminders sent: {counts['reminder_90']} at 90 days, "
               f"{counts['reminder_30']} at 30 days.")


@accreditation_cli.command("counts")
def counts():
    """Current accreditations by scheme and level."""
    from portal.accreditation.services import accredited_counts

    total = 0
    for scheme, level, tier, count in accredited_counts(date.today()):
        click.echo(f"{scheme} | {level} (tier {tier}): {count}")
        total += count
    click.echo(f"Total current accreditations: {total}")
