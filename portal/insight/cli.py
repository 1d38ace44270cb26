"""`flask insight contracts-sync`: give every award a contract on its buyer's register (awards
recorded before the register existed, demo data). `flask prepare` runs it too."""
import click
from flask.cli import AppGroup

insight_cli = AppGroup("insight", help="Commissioner insight: the contracts register.")
commands = [insight_cli]


@insight_cli.command("contracts-sync")
@click.option("--organisation", type=int, default=None,
              help="Only this commissioning organisation's awards (its id).")
def contracts_sync(organisation):
    """Create the missing contract of each award; safe to run again."""
    from portal.core.exceptions import NotFound
    from portal.insight import access, contracts

    try:
        org = access.public_buyer(organisation) if organisation is not None else None
    except NotFound:
        raise click.ClickException(f"No commissioning organisation has id {organisation}") \
            from None
    click.echo(f"Contracts created from awards: {contracts.sync_contracts(org)}")
