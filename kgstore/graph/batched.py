"""Deleting many nodes or relationships in batches (`CALL … IN TRANSACTIONS`), so memory
stays flat: one transaction deleting millions exceeds the transaction memory pool."""

from typing import Any

from kgstore.db import Database

BATCH = 10_000


def delete_in_batches(
    db: Database, match: str, variable: str, detach: bool = False, **params: Any
) -> int:
    """Delete what `match` (with `params`) binds to `variable`, in batches; returns how
    many nodes and relationships."""
    delete = "DETACH DELETE" if detach else "DELETE"
    with db.session() as session:
        summary = session.run(
            f"{match} CALL ({variable}) {{ {delete} {variable} }} IN TRANSACTIONS OF {BATCH} ROWS",
            params,
        ).consume()
    counters = summary.counters
    return counters.nodes_deleted + counters.relationships_deleted
