"""What an ingest reads back from the graph it writes into: the items and their DBpedia
`uri`. From Neo4j, or, for the bulk path, from the `BulkGraph` collected so far — which
is what Neo4j would hold at that point of an online ingest."""

from kgstore.db import Database
from kgstore.graph.mapping import Domain, cypher_label
from kgstore.ingest.session import IngestOptions


def graph_items(
    db: Database, options: IngestOptions, domain: Domain | None = None
) -> dict[str, str | None]:
    """Every Item id (of one domain, or all) with its `uri` (None when not linked)."""
    label = domain.label if domain is not None else "Item"
    if options.bulk is not None:
        return options.bulk.items(label)
    rows = db.query(f"MATCH (i:{cypher_label(label)}) RETURN i.id AS id, i.uri AS uri")
    return {row["id"]: row["uri"] for row in rows}


def linked_item_uris(
    db: Database, options: IngestOptions, domain: Domain | None = None
) -> set[str]:
    """IRIs of the DBpedia resources that ingested items (of one domain) are linked to."""
    return {uri for uri in graph_items(db, options, domain).values() if uri is not None}
