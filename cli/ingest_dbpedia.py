"""`kgctl ingest dbpedia`: DBpedia facts about the linked items, from a SPARQL endpoint
(the default) or from a file."""

from pathlib import Path
from typing import Annotated

import typer

from cli.console import settings
from cli.ingest import BatchSize, MaxRejects, QuarantineDir, ingest_options, print_report
from kgstore.db import open_driver
from kgstore.ingest.dbpedia_file import ingest_dbpedia_file
from kgstore.ingest.dbpedia_sparql import SparqlSource, ingest_dbpedia_endpoint
from kgstore.ingest.quarantine import DEFAULT_MAX_REJECT_FRACTION
from kgstore.ingest.writer import DEFAULT_BATCH_SIZE
from kgstore.settings import load_settings


def dbpedia(
    endpoint: Annotated[
        str | None,
        typer.Option(
            help="SPARQL endpoint to ask (overrides SPARQL_ENDPOINT, by default "
            "https://dbpedia.org/sparql)."
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(help="Read an N-Triples or Turtle file (.gz too) instead of an endpoint."),
    ] = None,
    refresh: Annotated[
        bool, typer.Option(help="Ask the endpoint again instead of using cached answers.")
    ] = False,
    batch_size: BatchSize = DEFAULT_BATCH_SIZE,
    max_rejects: MaxRejects = DEFAULT_MAX_REJECT_FRACTION,
    quarantine_dir: QuarantineDir = None,
) -> None:
    """Facts (director, starring, author, …) about every item that has a DBpedia uri.
    Entity names come from rdfs:label (English) when there is one, else from the IRI."""
    if endpoint is not None and file is not None:
        raise typer.BadParameter("give --endpoint or --file, not both")
    cfg = load_settings(sparql_endpoint=endpoint) if endpoint is not None else settings()
    options = ingest_options(batch_size, max_rejects, quarantine_dir)
    with open_driver(cfg) as driver:
        if file is not None:
            report = ingest_dbpedia_file(driver, cfg, file, options)
        else:
            source = SparqlSource.from_settings(cfg, refresh=refresh)
            report = ingest_dbpedia_endpoint(driver, cfg, source, options)
    print_report(report)


def register(ingest_app: typer.Typer) -> None:
    ingest_app.command("dbpedia")(dbpedia)
