"""The `kgctl` entry point: assembles the command groups and turns errors into messages."""

import sys
import warnings
from typing import Any

import typer
from typer.core import TyperGroup

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
    serve,
    services,
    sparql,
    stats,
    train,
    workers,
)
from cli.console import err_console
from cli.interrupt import Interrupted, exit_interrupted
from kgstore.errors import KgstoreError, plain_message

# Recent torch warns on every `torch.jit.script` call, and torch_geometric scripts two
# classes at import: a library's own deprecation, nothing a kgctl user can act on, printed
# in the middle of every command that trains or evaluates.
warnings.filterwarnings(
    "ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning
)


class PlainMessages(TyperGroup):
    """The root group: a refused option value reads as click words it ("Invalid value for
    '--domain': 'music' is not one of 'movies', 'books'."), without pydantic's prefix.
    Every command's options are parsed inside this group's `invoke`, so one place serves
    them all."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except typer.BadParameter as exc:
            exc.message = plain_message(exc.message)
            raise


app = typer.Typer(
    cls=PlainMessages,
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
    serve,
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
