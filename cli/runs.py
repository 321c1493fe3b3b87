"""`kgctl runs`: the latest runs of every kind, with what each one did."""

from typing import Annotated

import typer
from rich.table import Table

from cli.console import console, database
from kgstore.graph.runs import RunKind, list_runs, mark_interrupted_runs


def runs(
    kind: Annotated[RunKind | None, typer.Option(help="Only runs of this kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 20,
) -> None:
    """Status, source, counts, rate and duration of the latest runs. A `running` run of
    this host whose process is gone is marked `interrupted` first."""
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


def register(parent: typer.Typer) -> None:
    parent.command("runs")(runs)
