"""The `kgctl` entry point: assembles the command groups and turns errors into messages."""

import sys

import typer

from cli import ingest, ingest_amazon, ingest_dbpedia, ingest_demo, schema, services, sparql, stats
from cli.console import err_console
from kgstore.errors import KgstoreError

app = typer.Typer(
    name="kgctl",
    help="Knowledge-graph platform for persona-driven session-based recommendation: "
    "Neo4j graph, Celery workers, HDGI personas, SASRec retriever/reranker.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(services.app, name="services")
app.add_typer(services.workers_app, name="workers")
app.add_typer(schema.app, name="schema")
app.add_typer(ingest.app, name="ingest")
stats.register(app)
# ingest sources: each module adds its `kgctl ingest <source>` command
ingest_demo.register(ingest.app)
ingest_amazon.register(ingest.app)
ingest_dbpedia.register(ingest.app)
sparql.register(app)


def main() -> None:
    """Run kgctl; a KgstoreError becomes one clear message and its exit code (2, or 3 for
    an ingest with too many rejected records)."""
    try:
        app()
    except KgstoreError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
