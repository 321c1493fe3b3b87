"""`kgctl runs`: the latest runs of every kind (ingest and embed so far)."""

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
    table = Table("run", "kind", "source", "status", "started", "seconds", "records", "rel/s")
    for run in records:
        seconds = run.seconds
        table.add_row(
            run.id,
            run.kind,
            " ".join(filter(None, (run.source, run.source_file))),
            run.status,
            run.started.strftime("%Y-%m-%d %H:%M:%S") if run.started else "-",
            f"{seconds:.1f}" if seconds is not None else "-",
            f"{run.metrics['records']:,}" if "records" in run.metrics else "-",
            f"{run.metrics['relationshipsPerSecond']:,}"
            if "relationshipsPerSecond" in run.metrics
            else "-",
        )
    console.print(table)
    for run_id in interrupted:
        console.print(f"marked interrupted: run {run_id} (its process is gone)")


def register(parent: typer.Typer) -> None:
    parent.command("runs")(runs)
