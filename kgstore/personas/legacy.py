"""Personas stored by kgstore before they were per domain, and moving them.

Older graphs hold one persona per user: `User.persona` with `personaRun`, `personaDomain`
(and `personaPending` / `personaPendingRun` of a run that never switched), under the
vector index `user_persona`. A user who rated in two domains kept only the persona of the
domain trained last. The next `kgctl train hdgi` (of any domain) moves each such persona to
the properties of its `personaDomain` (`stored.persona_keys`) before it trains; readers
refuse an unmoved graph with a message naming that command. A domain whose run lost
personas to the old overwrite is then caught by the readers (`recsys.inputs`: the run's
own users without its persona) and must be trained again.
"""

from kgstore.db import Database
from kgstore.graph.mapping import Domain
from kgstore.graph.user_properties import persona_keys
from kgstore.graph.vector_index import ensure_vector_index

LEGACY_INDEX = "user_persona"
BATCH = 10_000


def has_legacy_personas(db: Database) -> bool:
    """True while some user still holds a persona (or a pending one) the old way."""
    [row] = db.query(
        "RETURN EXISTS { MATCH (u:User) "
        "WHERE u.persona IS NOT NULL OR u.personaPending IS NOT NULL } AS found"
    )
    return row["found"]


def legacy_note(db: Database) -> str:
    """A sentence for a reader's refusal when the graph holds old-style personas, else ''."""
    if not has_legacy_personas(db):
        return ""
    return (
        " This graph holds personas of an older kgstore (one User.persona for every "
        "domain): the next `kgctl train hdgi` moves them to one property per domain."
    )


def migrate_legacy_personas(db: Database) -> dict[str, int]:
    """Move every old-style persona to its domain's properties (a user who already holds a
    persona of that domain keeps it: a newer run wrote it), remove the old properties and
    index, and index the moved vectors. Returns how many moved per domain. Idempotent and
    batched: a migration killed half-way is finished by the next call."""
    moved = _move_to_domains(db) if has_legacy_personas(db) else {}
    db.query(f"DROP INDEX {LEGACY_INDEX} IF EXISTS")
    return moved


def _move_to_domains(db: Database) -> dict[str, int]:
    moved: dict[str, int] = {}
    for domain in Domain:
        keys = persona_keys(domain)
        count = _in_batches(
            db,
            "MATCH (u:User) WHERE u.persona IS NOT NULL AND u.personaDomain = $domain",
            "WITH u WHERE u[$vector] IS NULL "
            "SET u[$vector] = u.persona, u[$run_key] = u.personaRun RETURN 1 AS changed",
            domain=domain.value,
            vector=keys.vector,
            run_key=keys.run,
        )
        if count:
            moved[domain.value] = count
            [row] = db.query(
                "MATCH (u:User) WHERE u[$vector] IS NOT NULL "
                "RETURN size(u[$vector]) AS dimension LIMIT 1",
                vector=keys.vector,
            )
            ensure_vector_index(db, keys.index, "User", keys.vector, row["dimension"])
    _in_batches(
        db,
        "MATCH (u:User) WHERE u.persona IS NOT NULL OR u.personaPending IS NOT NULL",
        "REMOVE u.persona, u.personaRun, u.personaDomain, u.personaPending, u.personaPendingRun "
        "RETURN 1 AS changed",
    )
    return moved


def _in_batches(db: Database, match: str, update: str, **params: object) -> int:
    """Run `update` (which returns a row per user it changed) on each user `match` binds to
    `u`, in transactions of `BATCH` users; returns how many users it changed."""
    with db.session() as session:
        record = session.run(
            f"{match} CALL (u) {{ {update} }} IN TRANSACTIONS OF {BATCH} ROWS RETURN count(*) AS n",
            params,
        ).single()
    return record["n"] if record else 0
