"""`flask bench …`: every benchmark in one group. `search`: search, matching and
recommendation speed at a given scale; `matching --data DIR`: the matching quality benchmark
(MATCHING.md); `recommendations`: the time to score a supplier again after a profile edit;
`imports`: the shape of the package import graph; `pages`: what each page costs one person
on the current database."""
from pathlib import Path

import click
from flask.cli import AppGroup

bench_cli = AppGroup("bench", help="Measure speed and quality.")
commands = [bench_cli]


@bench_cli.command("search")
@click.option("--suppliers", default=1000, show_default=True, type=click.IntRange(1, 1_000_000),
              help="How many supplier profiles to generate.")
@click.option("--opportunities", default=100, show_default=True,
              type=click.IntRange(1, 1_000_000), help="How many forward-plan entries to generate.")
def bench_search(suppliers, opportunities):
    """Time keyword search, matching, recommendations, indexing and a rebuild on a temporary
    database; print one `name value` line each."""
    from portal.bench.search import run

    for line in run(suppliers, opportunities,
                    progress=lambda message: click.echo(f"  {message}", err=True)):
        click.echo(line)


@bench_cli.command("imports")
def bench_imports():
    """The package import graph: pairs importing each other, imports inside functions and
    module cycles."""
    from portal.bench.imports import report

    for line in report(Path(__file__).resolve().parents[1]):
        click.echo(line)


@bench_cli.command("matching")
@click.option("--data", "data_dir", required=True,
              type=click.Path(exists=True, file_okay=False, dir_okay=True),
              help="Directory holding profiles.csv, queries.jsonl, qrels.csv and the two "
                   "candidate files.")
@click.option("--baseline", type=click.Choice(["tfidf"]), default=None,
              help="Rank with a plain TF-IDF cosine over the same texts instead of the "
                   "portal's matcher.")
@click.option("--folds", type=click.IntRange(min=2), default=None,
              help="Split the queries into this many folds (by a hash of query_id) and print "
                   "each figure's mean, standard deviation and per-fold values.")
@click.option("--keep", type=click.IntRange(min=0), default=None,
              help="How many suppliers each grant keeps for the recommendation direction: "
                   "by default as many as the dashboard keeps; 0 keeps every one ranked.")
def bench_matching(data_dir, baseline, folds, keep):
    """Rank each grant's true recipient among candidate profiles, then each recipient's grants
    as its dashboard would list them; print the 21 result lines and 4 recommendation lines."""
    from portal.bench.matching import BenchmarkError, run

    try:
        lines = run(data_dir, progress=lambda message: click.echo(f"  {message}", err=True),
                    baseline=baseline, folds=folds, listed=keep)
    except BenchmarkError as error:
        raise click.ClickException(str(error)) from None
    for line in lines:
        click.echo(line)


@bench_cli.command("recommendations")
@click.option("--suppliers", default=20, show_default=True,
              help="How many suppliers to score again: half those listed most, half at random.")
def bench_recommendations(suppliers):
    """Time scoring suppliers again as after a profile edit; nothing is changed."""
    for line in measure_rescoring(suppliers,
                                  progress=lambda message: click.echo(f"  {message}", err=True)):
        click.echo(line)


def measure_rescoring(count, progress=None, seed=7):
    """Score `count` suppliers again, twice over (the first pass reads and parses the entries,
    which a running worker keeps), in a session that is rolled back; return result lines."""
    import random
    import statistics

    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from portal.extensions import db
    from portal.matching.models import OpportunityMatch
    from portal.matching.ranking import SUPPLIER_TYPES
    from portal.matching.rescore import rescore_supplier
    from portal.organisations.models import Organisation

    with Session(bind=db.engine) as session:
        busiest = session.scalars(
            select(OpportunityMatch.organisation_id).group_by(OpportunityMatch.organisation_id)
            .order_by(func.count().desc(), OpportunityMatch.organisation_id)
            .limit(count // 2)).all()
        others = sorted(set(session.scalars(select(Organisation.id).where(
            Organisation.org_type.in_(SUPPLIER_TYPES), Organisation.status == "active")))
            - set(busiest))
        chosen = busiest + random.Random(seed).sample(others, min(len(others),
                                                                   count - len(busiest)))
        passes = []
        for label in ("first", "again"):
            passes.append([rescore_supplier(session, org_id) for org_id in chosen])
            session.rollback()
            if progress:
                progress(f"{label} pass: {len(chosen)} suppliers")
    if not chosen:
        return ["suppliers: 0"]
    lines = [f"suppliers: {len(chosen)}",
             f"entries_p50: {statistics.median(r.entries for r in passes[0]):.0f}",
             f"entries_max: {max(r.entries for r in passes[0])}"]
    for label, results in zip(("first_pass", "warm"), passes):
        times = sorted(r.milliseconds for r in results)
        lines += [f"{label}_p50_ms: {statistics.median(times):.0f}",
                  f"{label}_p95_ms: {times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]}",
                  f"{label}_max_ms: {times[-1]}"]
    return lines


@bench_cli.command("judged")
@click.option("--pairs", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The judgements CSV (default: benchmarks/judged/demo_pairs.csv).")
@click.option("--unjudged", "unjudged_path", type=click.Path(dir_okay=False, writable=True),
              default=None, help="Write the shown pairs nobody has judged to this CSV.")
def bench_judged(pairs, unjudged_path):
    """Precision of what the demo data shows: the judged suppliers' five recommendations and
    the judged entries' first ten matches (benchmarks/judged/README.md)."""
    from portal.bench.judged import JudgedSetError, run

    try:
        lines = run(lambda message: click.echo(f"  {message}", err=True), pairs_path=pairs,
                    unjudged_path=unjudged_path)
    except JudgedSetError as error:
        raise click.ClickException(str(error)) from None
    for line in lines:
        click.echo(line)


@bench_cli.command("insight")
@click.option("--suppliers", default=100_000, show_default=True,
              type=click.IntRange(1, 1_000_000), help="How many organisations to generate.")
@click.option("--opportunities", default=10_000, show_default=True,
              type=click.IntRange(1, 1_000_000),
              help="How many forward-plan entries to generate (all one buyer's).")
def bench_insight(suppliers, opportunities):
    """Time the insight pages (dashboard, report, market map, transparency) on a temporary
    database at the given scale; print one line per page."""
    from portal.bench.insight import run

    for line in run(suppliers, opportunities,
                    progress=lambda message: click.echo(f"  {message}", err=True)):
        click.echo(line)


@bench_cli.command("loaddata")
@click.option("--organisations", default=100_000, show_default=True,
              type=click.IntRange(2, 2_000_000), help="How many organisations to generate.")
@click.option("--entries", default=10_000, show_default=True,
              type=click.IntRange(1, 1_000_000), help="How many forward-plan entries.")
@click.option("--seed", default=2026, show_default=True, help="Seed of the recombination.")
@click.option("--marker", type=click.Path(dir_okay=False), default=None,
              help="A file saying which data the database holds: written once the data and "
                   "indexes are built; with --check, compared with what would be built.")
@click.option("--check", is_flag=True,
              help="Build nothing: exit 0 when the marker and the database say the data are "
                   "there, 1 otherwise.")
@click.pass_context
def bench_loaddata(ctx, organisations, entries, seed, marker, check):
    """Fill an empty database with national-scale data for the load test (docs/loadtest.md)
    and rebuild the search indexes."""
    from portal.bench.loadgen import LoadDataError, Scale, generate, is_built
    from portal.cli import search_rebuild

    scale = Scale(organisations=organisations, entries=entries, seed=seed)
    if check:
        ctx.exit(0 if is_built(scale, marker) else 1)
    try:
        counts = generate(scale, progress=lambda message: click.echo(f"  {message}", err=True))
    except LoadDataError as error:
        raise click.ClickException(str(error)) from None
    for name, count in counts.items():
        click.echo(f"{name}: {count}")
    ctx.invoke(search_rebuild)
    if marker:
        Path(marker).parent.mkdir(parents=True, exist_ok=True)
        Path(marker).write_text(scale.marker + "\n", encoding="utf-8")


@bench_cli.command("pages")
@click.option("--repeats", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="Timed requests per page, after one warm-up request that is not counted.")
@click.option("--person", "people", multiple=True,
              help="Only this demo person's pages (vcse.admin, commissioner, …); repeatable.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, writable=True),
              default=None, help="Also write the figures to this JSON file.")
def bench_pages(repeats, people, json_path):
    """Time each demo person's representative pages on the current database (the demo data
    `flask prepare` loads) with one client: median and 95th-percentile ms and SQL statements
    per request."""
    from flask import current_app

    from portal.bench.pages import PagesBenchError, bench_settings, measure, table, write_json

    app = current_app._get_current_object()
    try:
        with bench_settings(app):
            results = measure(app, repeats, people=set(people) or None,
                              progress=lambda row: click.echo(f"  {row}", err=True))
    except PagesBenchError as error:
        raise click.ClickException(str(error)) from None
    for line in table(results, repeats):
        click.echo(line)
    if json_path:
        write_json(results, repeats, json_path)
