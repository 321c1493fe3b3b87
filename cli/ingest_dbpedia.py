"""`kgctl ingest dbpedia`: DBpedia facts about the linked items, from a SPARQL endpoint
(the default) or from a file."""

from pathlib import Path
from typing import Annotated

import typer

from cli.ingest_options import Reported, ingest_command, run_ingest
from kgstore.graph.mapping import Domain
from kgstore.ingest.session import IngestOptions
from kgstore.ingest.sources.dbpedia_file import ingest_dbpedia_file
from kgstore.ingest.sources.dbpedia_sparql import SparqlSource, ingest_dbpedia_endpoint
from kgstore.settings import load_settings


@ingest_command(bulk=False)
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
    domain: Annotated[
        Domain | None,
        typer.Option(help="Only the items of this domain (default: every item)."),
    ] = None,
    *,
    options: IngestOptions,
) -> Reported:
    """Facts (director, starring, author, …) about every item that has a DBpedia uri.
    Entity names come from rdfs:label (English) when there is one, else from the IRI."""
    if endpoint is not None and file is not None:
        raise typer.BadParameter("give --endpoint or --file, not both")
    if file is not None:
        path = file
        report = run_ingest(lambda db: ingest_dbpedia_file(db, path, options, domain), options)
    else:
        cfg = load_settings(sparql_endpoint=endpoint) if endpoint is not None else load_settings()
        source = SparqlSource.from_settings(cfg, refresh=refresh)
        report = run_ingest(
            lambda db: ingest_dbpedia_endpoint(db, source, options, domain), options
        )
    return report


def register(ingest_app: typer.Typer) -> None:
    ingest_app.command("dbpedia")(dbpedia)
