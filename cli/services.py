"""`kgctl services ...`: the local Neo4j, Redis, Celery workers and Flower together."""

import typer
from rich.table import Table

from cli.console import console, settings
from kgstore.db import open_database
from kgstore.errors import ServiceError
from kgstore.ingest.write.warm_up import warm_up
from kgstore.services.flower import Flower
from kgstore.services.guide_server import GuideServer
from kgstore.services.logs import LogSource, show_logs
from kgstore.services.neo4j_server import Neo4jServer
from kgstore.services.recommend_service import RecommendationService
from kgstore.services.redis_server import RedisServer
from kgstore.services.stack import stack_down, stack_up
from kgstore.settings import Settings, env_file_path
from workers.launcher import (
    WORKERS,
    await_workers,
    launch_workers,
    stop_workers,
    worker_status,
)

app = typer.Typer(
    help="Provision, start, stop and inspect Neo4j and Redis (and the workers, and Flower).",
    no_args_is_help=True,
)


def _print_status(cfg: Settings) -> bool:
    """Print one table of every service; returns whether all of them run."""
    neo = Neo4jServer(cfg).status()
    red = RedisServer(cfg).status()
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
    guide = GuideServer(cfg).status()
    table.add_row("guide", _state(guide.running), str(guide.pid or "-"), f"http {guide.port}", "-")
    serve = RecommendationService(cfg).status()
    models = ", ".join(f"{domain} {run}" for domain, run in serve.models.items())
    table.add_row(
        "serve",
        _state(serve.running),
        str(serve.pid or "-"),
        f"http {cfg.kgstore_serve_port}",
        models or "-",
    )
    flower = Flower(cfg).status()
    if flower.running:
        table.add_row(
            "flower", _state(True), str(flower.pid), f"http {cfg.flower_port}", flower.version
        )
    console.print(table)
    if neo.running:
        console.print(
            f"Neo4j Browser: {neo.browser_url}  (user {cfg.neo4j_user}, "
            "password: NEO4J_PASSWORD in .env)"
        )
    if guide.running:
        console.print(f"Browser guide: {guide.url}  (opens with the style sheet on login)")
    if serve.running:
        console.print(
            f"Recommendation service: {serve.url}  (session page; API docs at {serve.url}docs; "
            "token: KGSTORE_SERVE_TOKEN in .env)"
        )
    if flower.running:
        console.print(
            f"Celery Flower: {flower.url}  (user {flower.user}, "
            f"password: FLOWER_PASSWORD in {env_file_path()})"
        )
    console.print(f"Logs: kgctl services logs {'|'.join(_log_sources(cfg))}")
    return neo.running and red.running and bool(workers) and all(w.answers for w in workers)


def _state(running: bool) -> str:
    return "[green]running[/]" if running else "[red]down[/]"


@app.command("up")
def services_up(
    workers: bool = typer.Option(True, help="Also start the Celery workers."),
    flower: bool = typer.Option(
        False,
        "--flower",
        help="Also start Celery Flower (workers, queued and running tasks) on "
        "127.0.0.1:FLOWER_PORT, with user FLOWER_USER and password FLOWER_PASSWORD (.env).",
    ),
    serve: bool = typer.Option(
        False,
        "--serve",
        help="Also start the recommendation service and session page (`kgctl serve`) in "
        "the background on KGSTORE_SERVE_HOST:KGSTORE_SERVE_PORT.",
    ),
) -> None:
    """Provision (first time: fetch jars, generate passwords into .env) and start everything.

    Running it again is harmless: what already runs is left as it is.
    """
    cfg, outcome = stack_up(settings(), flower=flower)
    for name, what in outcome.items():
        console.print(f"{name}: {what}")
    launched = launch_workers(cfg) if workers else {}
    if outcome["neo4j"] == "started":
        with open_database(cfg) as db:
            planned = warm_up(db)
        console.print(f"neo4j: {planned} writer statements planned ahead of the first ingest")
    for node, what in await_workers(cfg, launched).items():
        console.print(f"{node}: {what}")
    if flower:
        console.print(f"flower: {Flower(cfg).start()}")
    if serve:
        console.print(f"serve: {RecommendationService(cfg).start()}")
    _print_status(cfg)


@app.command("down")
def services_down() -> None:
    """Stop the service, the workers, Flower, Redis and Neo4j (data stays in
    KGSTORE_STATE_DIR)."""
    cfg = settings()
    stopped = {"serve": RecommendationService(cfg).stop(), **stop_workers(cfg), **stack_down(cfg)}
    for name, was_running in stopped.items():
        console.print(f"{name}: {'stopped' if was_running else 'was not running'}")


@app.command("status")
def services_status() -> None:
    """Show what runs, on which ports, with which versions. Exit code 1 if anything is down."""
    if not _print_status(settings()):
        raise typer.Exit(1)


def _log_sources(cfg: Settings) -> dict[str, list[LogSource]]:
    """Each service's log files, as its launcher names them."""
    return {
        "neo4j": Neo4jServer(cfg).log_sources(),
        "redis": RedisServer(cfg).log_sources(),
        "worker": [LogSource(spec.node_name(), spec.process(cfg).logfile) for spec in WORKERS],
        "flower": Flower(cfg).log_sources(),
        "guide": GuideServer(cfg).log_sources(),
        "serve": RecommendationService(cfg).log_sources(),
    }


@app.command("logs")
def services_logs(
    service: str = typer.Argument(
        ..., help="neo4j, redis, worker (all workers), flower, guide or serve."
    ),
    lines: int = typer.Option(50, "--lines", "-n", min=0, help="How many lines to show."),
    follow: bool = typer.Option(
        False, "--follow", "-f", help="Keep printing what is appended, until Ctrl-C."
    ),
) -> None:
    """Print the end of a service's log files, each after a line naming the file."""
    sources = _log_sources(settings())
    if service not in sources:
        raise ServiceError(f"unknown service {service!r}: choose one of {', '.join(sources)}")
    show_logs(sources[service], lines, follow)


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="services")
