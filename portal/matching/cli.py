"""`flask bench matching --data DIR`: the matching quality benchmark (MATCHING.md)."""
import click

from portal.cli import bench_cli

commands = []


@bench_cli.command("matching")
@click.option("--data", "data_dir", required=True,
              type=click.Path(exists=True, file_okay=False, dir_okay=True),
              help="Directory holding profiles.csv, queries.jsonl, qrels.csv and the two "
                   "candidate files.")
def bench_matching(data_dir):
    """Rank each grant's true recipient among candidate profiles; print the 21 result lines."""
    from portal.matching.bench import BenchmarkError, run

    try:
        lines = run(data_dir, progress=lambda message: click.echo(f"  {message}", err=True))
    except BenchmarkError as error:
        raise click.ClickException(str(error)) from None
    for line in lines:
        click.echo(line)
