"""Users near a persona, through the vector index of the persona's domain
(`user_persona_movies`, `user_persona_books`): a persona is only compared with personas
of its own domain, which one run (one encoder) wrote."""

from dataclasses import dataclass

import numpy as np

from kgstore.db import Database
from kgstore.errors import PersonaError
from kgstore.graph.mapping import Domain
from kgstore.graph.user_properties import persona_keys
from kgstore.personas.legacy import legacy_note
from kgstore.personas.stored import stored_run


@dataclass(frozen=True)
class Neighbour:
    user: str
    score: float


@dataclass(frozen=True)
class SimilarUsers:
    """The `domain` persona of run `run` and the users nearest to it, nearest first."""

    domain: Domain
    run: str
    neighbours: list[Neighbour]


def nearest_users(
    db: Database, domain: Domain, run: str, vector: np.ndarray | list[float], k: int
) -> list[Neighbour]:
    """The `k` users whose `domain` personas are nearest to `vector` (cosine), a persona
    of `run`'s encoder. Refused unless the stored personas are that run's: vectors of two
    encoders are not comparable."""
    keys = persona_keys(domain)
    held = stored_run(db, domain)
    if held is None:
        raise PersonaError(
            f"no {domain.value} personas in the graph: run "
            f"`kgctl train hdgi --domain {domain.value}` first.{legacy_note(db)}"
        )
    if held != run:
        raise PersonaError(
            f"the stored {domain.value} personas are of run {held}, not {run}: nearest users "
            "are found among personas of the same run only"
        )
    rows = db.query(
        "CALL db.index.vector.queryNodes($index, $k, $vector) YIELD node, score "
        "RETURN node.id AS user, score",
        index=keys.index,
        k=k,
        vector=[float(value) for value in vector],
    )
    return [Neighbour(row["user"], row["score"]) for row in rows]


def similar_users(db: Database, user: str, k: int, domain: Domain | None = None) -> SimilarUsers:
    """The `k` users whose `domain` personas are nearest to `user`'s. Without `domain`: the
    one domain the user has a persona of (refused when they have several)."""
    rows = db.query(
        "OPTIONAL MATCH (u:User {id: $id}) RETURN u IS NOT NULL AS found, "
        "[d IN $domains WHERE u[d.key] IS NOT NULL | d.name] AS domains",
        id=user,
        domains=[{"name": each.value, "key": persona_keys(each).vector} for each in Domain],
    )
    if not rows[0]["found"]:
        raise PersonaError(f"no user {user!r} in the graph")
    held = [Domain(name) for name in rows[0]["domains"]]
    if domain is None and len(held) > 1:
        raise PersonaError(
            f"user {user!r} has personas of {' and '.join(d.value for d in held)}: give --domain"
        )
    if domain is None and held:
        domain = held[0]
    if domain is None or domain not in held:
        where = f" of {domain.value}" if domain else ""
        raise PersonaError(
            f"user {user!r} has no persona{where} (held out, or no persona run covered "
            f"them): run `kgctl train hdgi --domain {domain.value if domain else '…'}`."
            f"{legacy_note(db)}"
        )
    keys = persona_keys(domain)
    [row] = db.query(
        "MATCH (u:User {id: $id}) RETURN u[$vector] AS persona, u[$run_key] AS run",
        id=user,
        vector=keys.vector,
        run_key=keys.run,
    )
    found = nearest_users(db, domain, row["run"], row["persona"], k + 1)
    return SimilarUsers(
        domain, row["run"], [neighbour for neighbour in found if neighbour.user != user][:k]
    )
