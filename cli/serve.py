"""`kgctl serve`: the recommendation service and its session page, in the foreground."""

from typing import Annotated

import typer

from cli.console import console, settings
from kgstore.services.recommend_service import ensure_serve_token


def serve(
    host: Annotated[
        str | None,
        typer.Option(
            help="Address to bind (default KGSTORE_SERVE_HOST, 127.0.0.1: this machine only). "
            "0.0.0.0 opens it to the network: every call still needs the token."
        ),
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (default KGSTORE_SERVE_PORT, 8765).")
    ] = None,
) -> None:
    """Serve recommendations for anonymous sessions over HTTP until Ctrl-C.

    POST /recommend and /explain, GET /items?q= (title search), /healthz, /metrics, the
    session page at / and the API docs at /docs. Each domain's newest retriever that
    serves sessions (user none or kg) loads once; a newer finished one is picked up
    every KGSTORE_SERVE_POLL seconds or on POST /admin/reload, without a restart.
    Every call but /healthz needs `Authorization: Bearer KGSTORE_SERVE_TOKEN` (generated
    into .env the first time). `kgctl services up --serve` runs it in the background."""
    from kgstore.serve.server import run_service  # torch and the web framework: on use only

    cfg = ensure_serve_token(settings())
    where = f"http://{host or cfg.kgstore_serve_host}:{port or cfg.kgstore_serve_port}/"
    console.print(f"session page: {where}#token=<KGSTORE_SERVE_TOKEN from .env>")
    console.print(f"API docs: {where}docs")
    run_service(cfg, host, port)


def register(parent: typer.Typer) -> None:
    parent.command("serve")(serve)
