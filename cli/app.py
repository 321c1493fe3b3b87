"""The `kgctl` entry point: assembles the command groups and turns errors into messages."""

import sys
import warnings

import typer

from cli import (
    db,
    embed,
    evaluate,
    export,
    generate,
    ingest,
    personas,
    query,
    recommend,
    report,
    runs,
    schema,
    services,
    sparql,
    stats,
    train,
    workers,
)
from cli.console import err_console
from cli.interrupt import Interrupted, exit_interrupted
from kgstore.errors import KgstoreError

# Recent torch warns on every `torch.jit.script` call, and torch_geometric scripts two
# classes at import: a library's own deprecation, nothing a kgctl user can act on, printed
# in the middle of every command that trains or evaluates.
warnings.filterwarnings(
    "ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning
)

app = typer.Typer(
    name="kgctl",
    help="Knowledge-graph platform for persona-driven session-based recommendation: "
    "Neo4j graph, Celery workers, HDGI personas, SASRec retriever/reranker.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# Every command module adds its command or group with `register(parent)`.
for module in (
    services,
    workers,
    schema,
    ingest,
    embed,
    generate,
    export,
    train,
    evaluate,
    personas,
    query,
    recommend,
    db,
    stats,
    runs,
    report,
    sparql,
):
    module.register(app)


def main() -> None:
    """Run kgctl; a KgstoreError becomes one clear message and its exit code (2, or 3 for
    an ingest with too many rejected records); Ctrl-C in a long command says what it
    left and exits 130."""
    try:
        app()
    except Interrupted as exc:
        exit_interrupted(exc)
    except KgstoreError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
