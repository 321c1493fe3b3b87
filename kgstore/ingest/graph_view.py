"""What an ingest reads back from the graph it writes into: the items and their DBpedia
`uri`. From Neo4j, or, for the bulk path, from the `BulkGraph` collected so far — which
is what Neo4j would hold at that point of an online ingest."""

from kgstore.db import Database
from kgstore.ingest.session import IngestOptions


def graph_items(db: Database, options: IngestOptions) -> dict[str, str | None]:
    """Every Item id with its `uri` (None when not linked)."""
    if options.bulk is not None:
        return options.bulk.items()
    rows = db.query("MATCH (i:Item) RETURN i.id AS id, i.uri AS uri")
    return {row["id"]: row["uri"] for row in rows}


def linked_item_uris(db: Database, options: IngestOptions) -> set[str]:
    """IRIs of the DBpedia resources that ingested items are linked to."""
    return {uri for uri in graph_items(db, options).values() if uri is not None}
