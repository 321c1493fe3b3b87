"""`kgctl ingest …`: the command group, one module per source command
(`cli/ingest_<source>.py`, each on the pattern of `cli/ingest_options.py`)."""

import typer

from cli import ingest_amazon, ingest_amazon_kg, ingest_dbpedia, ingest_demo, ingest_interactions

app = typer.Typer(
    help="Load sources into the graph. Every ingest is idempotent (re-running changes "
    "nothing) and resumable (re-run an interrupted one). Bad records are reported with "
    "file and line and kept in a quarantine file; over --max-rejects the run is undone "
    "(nothing of the input is kept), else the good records are stored.",
    no_args_is_help=True,
)
for source in (ingest_demo, ingest_amazon, ingest_amazon_kg, ingest_interactions, ingest_dbpedia):
    source.register(app)


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="ingest")
