"""`kgctl runs`: the latest runs of every kind, with what each one did; `kgctl runs undo
RUN` takes one ingest run out of the graph."""

from typing import Annotated

import typer
from rich.table import Table

from cli.console import console, database
from kgstore.graph.runs import RunKind, list_runs, mark_interrupted_runs
from kgstore.graph.undo import summary as undo_summary
from kgstore.graph.undo import undo_ingest_run

app = typer.Typer(invoke_without_command=True)


@app.callback()
def runs(
    context: typer.Context,
    kind: Annotated[RunKind | None, typer.Option(help="Only runs of this kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 20,
) -> None:
    """Status, source, counts, rate and duration of the latest runs. A `running` run of
    this host whose process is gone is marked `interrupted` first."""
    if context.invoked_subcommand is not None:
        return
    with database() as db:
        interrupted = mark_interrupted_runs(db)
        records = list_runs(db, kind, limit)
    table = Table("run", "kind", "source", "status", "started", "seconds", "result")
    for run in records:
        seconds = run.seconds
        table.add_row(
            run.id,
            run.kind,
            " ".join(filter(None, (run.source, run.source_file))),
            run.status,
            run.started.strftime("%Y-%m-%d %H:%M:%S") if run.started else "-",
            f"{seconds:.1f}" if seconds is not None else "-",
            summary(run.metrics),
        )
    console.print(table)
    for run_id in interrupted:
        console.print(f"marked interrupted: run {run_id} (its process is gone)")


def summary(metrics: dict) -> str:
    """The few figures that say what a run did, whatever its kind."""
    if "error" in metrics:
        return f"error: {metrics['error']}"[:120]
    if "best_loss" in metrics:
        return (
            f"{metrics['users']:,} users, {metrics['epochs']} epochs, "
            f"loss {metrics['first_loss']:.3f} → {metrics['best_loss']:.3f}"
        )
    if "encoded" in metrics:
        return f"{metrics['encoded']:,} encoded, {metrics.get('unchanged', 0):,} unchanged"
    if "records" in metrics:
        rate = metrics.get("relationshipsPerSecond")
        return f"{metrics['records']:,} records" + (f", {rate:,} rel/s" if rate else "")
    if "trainingInteractions" in metrics:
        return f"{metrics['users']:,} users, {metrics['trainingInteractions']:,} interactions"
    return "-"


@app.command()
def undo(run: Annotated[str, typer.Argument(help="The id of an ingest run.")]) -> None:
    """Remove exactly what one ingest run added.

    The nodes and relationships it created go, the properties and labels it changed on
    earlier data come back, and the run is marked `undone`. Refused, changing nothing,
    where that cannot be exact (a later run wrote over it or links to what it created):
    the message names what."""
    with database() as db:
        undone = undo_ingest_run(db, run)
    console.print(undo_summary(undone))


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="runs")
