"""`flask import ocds FILE`: load OCDS release packages into the forward plan."""
import click
from flask.cli import AppGroup

import_cli = AppGroup("import", help="Import data from other systems.")
commands = [import_cli]


@import_cli.command("ocds")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--shift-dates", is_flag=True,
              help="Move notices still in progress forward by whole years (for demos).")
def import_ocds(paths, shift_dates):
    """Load OCDS release packages (.json or .json.gz) as forward-plan entries and awards."""
    from portal.pipeline import ocds

    for path in paths:
        try:
            package = ocds.read_package(path)
        except (ValueError, OSError) as error:
            raise click.ClickException(f"{path}: {error}") from None
        report = ocds.import_package(package, source_label=click.format_filename(path),
                                     shift_dates=shift_dates,
                                     progress=lambda msg: click.echo(f"  {msg}", err=True))
        click.echo(f"{path}: {report.created} created, {report.updated} updated, "
                   f"{report.awards} with awards, {report.buyers_created} new buyers, "
                   f"{len(report.skipped)} skipped, {len(report.duplicates)} duplicates left out")
        for ocid, reason in report.skipped[:10]:
            click.echo(f"  skipped {ocid}: {reason}")
        for position, ocid, reason in report.duplicates[:10]:
            click.echo(f"  release {position} ({ocid}) left out: {reason}")
