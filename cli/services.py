"""`kgctl services …`: the local Neo4j, Redis and Celery workers together."""

import typer
from rich.table import Table

from cli.console import console, settings
from kgstore.db import open_database
from kgstore.ingest.warm_up import warm_up
from kgstore.services.neo4j_server import neo4j_status
from kgstore.services.redis_server import redis_status
from kgstore.services.stack import stack_down, stack_up
from kgstore.settings import Settings
from workers.launcher import start_workers, stop_workers, worker_status

app = typer.Typer(
    help="Provision, start, stop and inspect Neo4j and Redis (and the workers).",
    no_args_is_help=True,
)


def _print_status(cfg: Settings) -> bool:
    """Print one table of every service; returns whether all of them run."""
    neo = neo4j_status(cfg)
    red = redis_status(cfg)
    table = Table("service", "state", "pid", "ports", "version")
    table.add_row(
        "neo4j",
        _state(neo.running),
        str(neo.pid or "-"),
        f"bolt {neo.bolt_port}, http {neo.http_port}",
        f"{neo.version} {neo.edition}" if neo.version else "-",
    )
    table.add_row(
        "redis", _state(red.running), str(red.pid or "-"), str(red.port), red.version or "-"
    )
    workers = worker_status(cfg) if red.running else []
    for worker in workers:
        table.add_row(
            f"worker {worker.node}",
            _state(worker.answers),
            str(worker.pid or "-"),
            f"queue {worker.queue}",
            "-",
        )
    console.print(table)
    if neo.running:
        console.print(
            f"Neo4j Browser: {neo.browser_url}  (user {cfg.neo4j_user}, "
            "password: NEO4J_PASSWORD in .env)"
        )
    return neo.running and red.running and bool(workers) and all(w.answers for w in workers)


def _state(running: bool) -> str:
    return "[green]running[/]" if running else "[red]down[/]"


@app.command("up")
def services_up(
    workers: bool = typer.Option(True, help="Also start the Celery workers."),
) -> None:
    """Provision (first time: fetch jars, generate passwords into .env) and start everything.

    Running it again is harmless: what already runs is left as it is.
    """
    cfg, outcome = stack_up(settings())
    for name, what in outcome.items():
        console.print(f"{name}: {what}")
    if outcome["neo4j"] == "started":
        with open_database(cfg) as db:
            planned = warm_up(db)
        console.print(f"neo4j: {planned} writer statements planned ahead of the first ingest")
    if workers:
        for node, what in start_workers(cfg).items():
            console.print(f"{node}: {what}")
    _print_status(cfg)


@app.command("down")
def services_down() -> None:
    """Stop the workers, Redis and Neo4j (data stays in KGSTORE_STATE_DIR)."""
    cfg = settings()
    stopped = {**stop_workers(cfg), **stack_down(cfg)}
    for name, was_running in stopped.items():
        console.print(f"{name}: {'stopped' if was_running else 'was not running'}")


@app.command("status")
def services_status() -> None:
    """Show what runs, on which ports, with which versions. Exit code 1 if anything is down."""
    if not _print_status(settings()):
        raise typer.Exit(1)


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="services")
