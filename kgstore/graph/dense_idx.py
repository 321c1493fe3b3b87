"""Dense `idx` per base label: the row of each node in exported tensors."""

from collections.abc import Iterable

from kgstore.db import Database
from kgstore.graph.mapping import NODE_KEYS, cypher_label


def assign_dense_indices(
    db: Database, labels: Iterable[str] = ("User", "Item", "Entity")
) -> dict[str, int]:
    """Give every node without `idx` the next dense integer of its base label, in key order.

    Existing indices never change, so exported tensors of earlier runs stay valid; doing
    this once at the end of an ingest makes an interrupted-then-resumed ingest number its
    nodes exactly as an uninterrupted one.
    """
    assigned: dict[str, int] = {}
    for label in labels:
        key = NODE_KEYS[label]
        rows = db.query(
            f"MATCH (n:{cypher_label(label)}) WITH max(n.idx) AS top "
            f"MATCH (n:{cypher_label(label)}) WHERE n.idx IS NULL "
            f"WITH top, n ORDER BY n.{key} "
            f"WITH coalesce(top, -1) AS top, collect(n) AS fresh "
            f"FOREACH (i IN range(0, size(fresh) - 1) | "
            f"SET (fresh[i]).idx = top + 1 + i) RETURN size(fresh) AS assigned"
        )
        assigned[label] = rows[0]["assigned"] if rows else 0
    return assigned
