"""What an ingest reads back from the graph it writes into: the items and their DBpedia
`uri`. From Neo4j, or, for the bulk path, from the `BulkGraph` collected so far — which
is what Neo4j would hold at that point of an online ingest."""

from neo4j import Driver

from kgstore.db import run_query
from kgstore.ingest.session import IngestOptions
from kgstore.settings import Settings


def graph_items(
    driver: Driver, settings: Settings, options: IngestOptions
) -> dict[str, str | None]:
    """Every Item id with its `uri` (None when not linked)."""
    if options.bulk is not None:
        return options.bulk.items()
    rows = run_query(driver, settings, "MATCH (i:Item) RETURN i.id AS id, i.uri AS uri")
    return {row["id"]: row["uri"] for row in rows}


def linked_item_uris(driver: Driver, settings: Settings, options: IngestOptions) -> set[str]:
    """IRIs of the DBpedia resources that ingested items are linked to."""
    return {uri for uri in graph_items(driver, settings, options).values() if uri is not None}
