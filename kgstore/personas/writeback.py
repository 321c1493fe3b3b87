"""Personas into Neo4j, all or nothing, one domain at a time.

Vectors are first written in batches to the domain's pending property with the run id
(`stored.persona_keys`: `persona_movies_pending`, `persona_movies_pending_run`); only when
every batch is in does one transaction make them the domain's personas (`persona_movies`,
`persona_movies_run`). A run that fails or is killed before that leaves every user's
previous persona as it was; its pending vectors are removed by the next persona run
(`clear_stale_pending`). Other domains' personas are never touched. The switch holds every
user of the run in one transaction: about 0.3 KB each at 64 dimensions.
"""

from collections.abc import Callable

import numpy as np

from kgstore.db import Database
from kgstore.graph.mapping import Domain
from kgstore.graph.user_properties import persona_keys
from kgstore.graph.vector_index import ensure_vector_index

WRITE_BATCH = 5_000


def clear_stale_pending(db: Database) -> int:
    """Remove the pending vectors (of every domain) of runs that are no longer running;
    returns how many."""
    removed = 0
    for domain in Domain:
        keys = persona_keys(domain)
        [row] = db.query(
            "MATCH (u:User) WHERE u[$pending_run] IS NOT NULL "
            "OPTIONAL MATCH (r:Run {id: u[$pending_run]}) "
            "WITH u, r WHERE r IS NULL OR r.status <> 'running' "
            "REMOVE u[$pending], u[$pending_run] RETURN count(u) AS n",
            pending=keys.pending,
            pending_run=keys.pending_run,
        )
        removed += row["n"]
    return removed


def write_pending(
    db: Database,
    run_id: str,
    domain: Domain,
    users: list[str],
    personas: np.ndarray,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    keys = persona_keys(domain)
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
            "SET u[$pending] = row.vector, u[$pending_run] = $run",
            rows=rows,
            run=run_id,
            pending=keys.pending,
            pending_run=keys.pending_run,
        )
        if progress is not None:
            progress(min(start + WRITE_BATCH, len(users)), len(users))


def switch_to_run(db: Database, run_id: str, domain: Domain, dimension: int) -> int:
    """Make the run's pending vectors the domain's personas and remove the domain's
    personas of earlier runs from the users this run did not store (users now held out):
    one transaction, after which every persona of the domain is this run's, so the
    domain's vector index compares vectors of one encoder. Returns how many switched."""
    keys = persona_keys(domain)
    [row] = db.query(
        "MATCH (u:User) WHERE u[$run_key] IS NOT NULL OR u[$pending_run] = $run "
        "WITH u, coalesce(u[$pending_run] = $run, false) AS mine "
        "SET u[$vector] = CASE WHEN mine THEN u[$pending] END, "
        "u[$run_key] = CASE WHEN mine THEN $run END "
        "WITH u, mine WHERE mine REMOVE u[$pending], u[$pending_run] RETURN count(u) AS n",
        run=run_id,
        vector=keys.vector,
        run_key=keys.run,
        pending=keys.pending,
        pending_run=keys.pending_run,
    )
    ensure_vector_index(db, keys.index, "User", keys.vector, dimension)
    return row["n"]
