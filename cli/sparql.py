"""`kgctl sparql up|down|status`: a private Virtuoso SPARQL endpoint (tests, offline demo)."""

from pathlib import Path
from typing import Annotated

import typer

from cli.console import console, settings
from kgstore.services.virtuoso import (
    GRAPH,
    ensure_virtuoso_password,
    stop_virtuoso,
    virtuoso_status,
    virtuoso_up,
)
from kgstore.settings import Settings

app = typer.Typer(
    help="A local Virtuoso SPARQL endpoint on loopback, for tests and the offline demo of "
    "`kgctl ingest dbpedia --endpoint`.",
    no_args_is_help=True,
)

LoadFiles = Annotated[
    list[Path] | None,
    typer.Option(
        "--load",
        help=f"N-Triples or Turtle file (.gz too) to bulk-load into graph {GRAPH}; repeatable. "
        "Loading the same content again does nothing.",
    ),
]


@app.command("up")
def sparql_up(load: LoadFiles = None) -> None:
    """Start Virtuoso (first time: create its database with a generated dba password in
    .env) and load files. Harmless when it already runs."""
    cfg = ensure_virtuoso_password(settings())
    started, loaded = virtuoso_up(cfg, load or [])
    console.print(f"virtuoso: {started}")
    for item in loaded:
        console.print(f"{item.source}: {item.outcome}")
    _print_status(cfg)


@app.command("down")
def sparql_down() -> None:
    """Stop Virtuoso (its database stays in KGSTORE_STATE_DIR/virtuoso)."""
    was_running = stop_virtuoso(settings())
    console.print(f"virtuoso: {'stopped' if was_running else 'was not running'}")


@app.command("status")
def sparql_status() -> None:
    """Show whether Virtuoso runs, its ports, endpoint and triple count. Exit 1 if down."""
    if not _print_status(settings()):
        raise typer.Exit(1)


def _print_status(cfg: Settings) -> bool:
    status = virtuoso_status(cfg)
    if not status.running:
        console.print(f"virtuoso: down (http {status.http_port}, sql {status.sql_port})")
        return False
    console.print(
        f"virtuoso: running, pid {status.pid}, http {status.http_port}, sql {status.sql_port}; "
        f"endpoint {status.endpoint}; {status.triples} triples in {GRAPH}"
    )
    return True


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="sparql")
