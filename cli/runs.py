"""`kgctl runs`: the latest runs of every kind, with what each one did; `kgctl runs undo
RUN` takes one ingest run out of the graph."""

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.console import console, database
from kgstore.graph.run_results import result_line
from kgstore.graph.runs import RunKind, list_runs, mark_interrupted_runs
from kgstore.ingest.write.undo import summary as undo_summary
from kgstore.ingest.write.undo import undo_ingest_run

app = typer.Typer(invoke_without_command=True)


@app.callback()
def runs(
    context: typer.Context,
    kind: Annotated[RunKind | None, typer.Option(help="Only runs of this kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 20,
) -> None:
    """Kind, domain, source, status, start, seconds and a one-line result of the latest
    runs. Seconds are the ones the run's own command printed (its rates come from them).
    A `running` run of this host whose process is gone is marked `interrupted` first."""
    if context.invoked_subcommand is not None:
        return
    with database() as db:
        interrupted = mark_interrupted_runs(db)
        records = list_runs(db, kind, limit)
    table = Table(
        "run", "kind", "domain", "source or model", "status", "started", "seconds", "result"
    )
    for run in records:
        seconds = run.seconds
        table.add_row(
            run.id,
            run.kind,
            run.domain or "all",
            escape(" ".join(filter(None, (run.source, run.source_file, run.model)))),
            run.status,
            run.started.strftime("%Y-%m-%d %H:%M:%S") if run.started else "-",
            f"{seconds:.1f}" if seconds is not None else "-",
            escape(result_line(run.kind, run.metrics)),
        )
    console.print(table)
    for run_id in interrupted:
        console.print(f"marked interrupted: run {run_id} (its process is gone)")


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
