"""`flask bench search`: search, matching and recommendation speed at a given scale."""
import click

from portal.cli import bench_cli

commands = []


@bench_cli.command("search")
@click.option("--suppliers", default=1000, show_default=True, type=click.IntRange(1, 1_000_000),
              help="How many supplier profiles to generate.")
@click.option("--opportunities", default=100, show_default=True,
              type=click.IntRange(1, 1_000_000), help="How many forward-plan entries to generate.")
def bench_search(suppliers, opportunities):
    """Time keyword search, matching, recommendations, indexing and a rebuild on a temporary
    database; print one `name value` line each."""
    from portal.search.bench import run

    for line in run(suppliers, opportunities,
                    progress=lambda message: click.echo(f"  {message}", err=True)):
        click.echo(line)
