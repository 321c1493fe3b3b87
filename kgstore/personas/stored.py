"""Where a domain's personas live in the graph, and reading them back.

A user may rate items of several domains (Amazon reviewer ids are shared across
categories), and each domain's persona run learns its own persona for them. So a persona is
stored per (user, domain), as properties of the User named after the domain
(`graph.user_properties.persona_keys`): `persona_movies` with `persona_movies_run`,
`persona_books` with `persona_books_run`, and a cosine vector index per domain
(`user_persona_movies`, ...; Neo4j indexes vectors per label and property). A persona
run of one domain never touches another domain's properties. The names derive from the
`--domain` value so that Cypher with a `$domain` parameter reads `u['persona_' + $domain]`
and queries the index `'user_persona_' + $domain`.
"""

from typing import Any

import numpy as np

from kgstore.db import Database
from kgstore.errors import PersonaError
from kgstore.graph.mapping import Domain
from kgstore.graph.user_properties import persona_keys


def persona_users(db: Database, domain: Domain, run: str) -> list[str]:
    """The ids of the users holding a `domain` persona written by `run`, sorted."""
    return sorted(_of_run(db, domain, run, "collect(u.id) AS ids")["ids"])


def read_personas(db: Database, domain: Domain, run: str) -> dict[str, np.ndarray]:
    """User id -> the `domain` persona `run` stored for them (one scan of the users)."""
    row = _of_run(db, domain, run, "collect(u.id) AS ids, collect(u[$vector]) AS x")
    return {user: np.asarray(vector) for user, vector in zip(row["ids"], row["x"], strict=True)}


def _of_run(db: Database, domain: Domain, run: str, returns: str) -> dict[str, Any]:
    """One row of `returns` (collected) over the users holding `run`'s `domain` persona."""
    keys = persona_keys(domain)
    return db.columns(
        f"MATCH (u:User) WHERE u[$run_key] = $run AND u[$vector] IS NOT NULL RETURN {returns}",
        run_key=keys.run,
        vector=keys.vector,
        run=run,
    )


def stored_run(db: Database, domain: Domain) -> str | None:
    """The run whose `domain` personas the users hold, None when no user holds one. A
    run's switch removes the domain's personas of earlier runs, so there is one; personas
    moved from an older kgstore can be of several runs, which is refused (the vector index
    would compare vectors of different encoders)."""
    keys = persona_keys(domain)
    rows = db.query(
        "MATCH (u:User) WHERE u[$run_key] IS NOT NULL RETURN DISTINCT u[$run_key] AS run LIMIT 2",
        run_key=keys.run,
    )
    if len(rows) > 1:
        raise PersonaError(
            f"the stored {domain.value} personas are of several runs ({rows[0]['run']}, "
            f"{rows[1]['run']}, ...): run `kgctl train hdgi --domain {domain.value}` so that "
            "they are of one"
        )
    return rows[0]["run"] if rows else None
