"""Users near a persona, through the `user_persona` vector index."""

from dataclasses import dataclass

import numpy as np

from kgstore.db import Database
from kgstore.errors import PersonaError
from kgstore.personas.writeback import PERSONA_INDEX


@dataclass(frozen=True)
class Neighbour:
    user: str
    score: float
    domain: str | None


def nearest_users(db: Database, vector: np.ndarray | list[float], k: int) -> list[Neighbour]:
    rows = db.query(
        "CALL db.index.vector.queryNodes($index, $k, $vector) YIELD node, score "
        "RETURN node.id AS user, score, node.personaDomain AS domain",
        index=PERSONA_INDEX,
        k=k,
        vector=[float(value) for value in vector],
    )
    return [Neighbour(row["user"], row["score"], row["domain"]) for row in rows]


def similar_users(db: Database, user: str, k: int) -> list[Neighbour]:
    """The `k` users whose personas are nearest to `user`'s (cosine), nearest first."""
    rows = db.query(
        "OPTIONAL MATCH (u:User {id: $id}) RETURN u IS NOT NULL AS found, u.persona AS persona",
        id=user,
    )
    if not rows[0]["found"]:
        raise PersonaError(f"no user {user!r} in the graph")
    if rows[0]["persona"] is None:
        raise PersonaError(
            f"user {user!r} has no persona (held out, or no persona run covered them): "
            "run `kgctl train hdgi --domain …`"
        )
    found = nearest_users(db, rows[0]["persona"], k + 1)
    return [neighbour for neighbour in found if neighbour.user != user][:k]
