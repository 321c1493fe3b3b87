"""Plan the online writer's statements before the first batch of a fresh server.

Neo4j plans a statement the first time it sees its text and keeps the plan; the writer
uses one text per (label, relationship type, clause), so the first ingest after a start
pays for planning them all inside its batches. Running each once with no rows plans it
without writing anything (measured in bench/first_ingest.py).
"""

from kgstore.db import Database
from kgstore.graph.mapping import ENTITY_LABELS, RELATIONS
from kgstore.ingest.write.queries import (
    entity_query,
    lookup_query,
    node_query,
    relationship_query,
)
from kgstore.ingest.write.writer import DOMAIN_LABELS

NO_PROVENANCE = {"source": "", "sourceFile": "", "ingestRun": ""}


def writer_statements() -> list[str]:
    """Every statement text the online writer can send."""
    statements = [node_query("User", ())]
    statements += [node_query("Item", (label,)) for label in sorted(DOMAIN_LABELS)]
    statements += [entity_query(label) for label in sorted(ENTITY_LABELS)]
    statements += [lookup_query(base, key) for base, key in (("User", "id"), ("Item", "id"))]
    statements.append(lookup_query("Item", "uri"))
    statements += [
        relationship_query(relation, clause)
        for relation in RELATIONS
        for clause in ("CREATE", "MERGE")
    ]
    return statements


def warm_up(db: Database) -> int:
    """Run every writer statement once on no rows (nothing is written); returns how many."""
    statements = writer_statements()
    with db.session() as session:
        for statement in statements:
            session.run(statement, rows=[], keys=[], prov=NO_PROVENANCE).consume()
    return len(statements)
