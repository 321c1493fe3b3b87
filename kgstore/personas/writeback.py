"""Personas into Neo4j, all or nothing.

Vectors are first written in batches as `personaPending` with the run id; only when every
batch is in does one transaction move them to `persona` / `personaRun` / `personaDomain`.
A run that fails or is killed before that leaves every user's previous persona as it
was; its pending vectors are removed by the next persona run (`clear_stale_pending`).
The switch holds every user of the run in one transaction: about 0.3 KB each at 64
dimensions.
"""

from collections.abc import Callable

import numpy as np

from kgstore.db import Database
from kgstore.graph.vector_index import ensure_vector_index

PERSONA_INDEX = "user_persona"
WRITE_BATCH = 5_000


def clear_stale_pending(db: Database) -> int:
    """Remove pending vectors of runs that are no longer running; returns how many."""
    [row] = db.query(
        "MATCH (u:User) WHERE u.personaPendingRun IS NOT NULL "
        "OPTIONAL MATCH (r:Run {id: u.personaPendingRun}) "
        "WITH u, r WHERE r IS NULL OR r.status <> 'running' "
        "REMOVE u.personaPending, u.personaPendingRun RETURN count(u) AS n"
    )
    return row["n"]


def write_pending(
    db: Database,
    run_id: str,
    users: list[str],
    personas: np.ndarray,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    for start in range(0, len(users), WRITE_BATCH):
        rows = [
            {"id": user, "vector": vector.tolist()}
            for user, vector in zip(
                users[start : start + WRITE_BATCH],
                personas[start : start + WRITE_BATCH],
                strict=True,
            )
        ]
        db.query(
            "UNWIND $rows AS row MATCH (u:User {id: row.id}) "
            "SET u.personaPending = row.vector, u.personaPendingRun = $run",
            rows=rows,
            run=run_id,
        )
        if progress is not None:
            progress(min(start + WRITE_BATCH, len(users)), len(users))


def switch_to_run(db: Database, run_id: str, domain: str, dimension: int) -> int:
    """Make the run's pending vectors the personas (one transaction); returns how many."""
    [row] = db.query(
        "MATCH (u:User) WHERE u.personaPendingRun = $run "
        "SET u.persona = u.personaPending, u.personaRun = $run, u.personaDomain = $domain "
        "REMOVE u.personaPending, u.personaPendingRun RETURN count(u) AS n",
        run=run_id,
        domain=domain,
    )
    ensure_vector_index(db, PERSONA_INDEX, "User", "persona", dimension)
    return row["n"]
