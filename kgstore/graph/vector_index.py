"""Cosine vector indexes on node vectors (`textEmbedding`, `persona_<domain>`): created
after the vectors are written (one population instead of an update per write batch) and
recreated when a new model changes the dimension."""

from kgstore.db import Database
from kgstore.graph.mapping import cypher_label

_INDEX_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz_")
_PROPERTY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")


def drop_other_vector_index(db: Database, name: str, dimension: int) -> None:
    """Drop the index `name` if it has another dimension (vectors of an earlier model)."""
    existing = db.query(
        "SHOW INDEXES YIELD name, options WHERE name = $name RETURN options", name=name
    )
    config = existing[0]["options"].get("indexConfig", {}) if existing else {}
    if existing and config.get("vector.dimensions") != dimension:
        db.query(f"DROP INDEX {_checked(name, _INDEX_NAME_CHARS)}")


def ensure_vector_index(db: Database, name: str, label: str, prop: str, dimension: int) -> None:
    """A cosine index `name` on `label`.`prop` of `dimension`, online when this returns."""
    drop_other_vector_index(db, name, dimension)
    db.query(
        f"CREATE VECTOR INDEX {_checked(name, _INDEX_NAME_CHARS)} IF NOT EXISTS "
        f"FOR (n:{cypher_label(label)}) ON n.{_checked(prop, _PROPERTY_CHARS)} "
        f"OPTIONS {{indexConfig: {{`vector.dimensions`: {int(dimension)}, "
        "`vector.similarity_function`: 'cosine'}}"
    )
    db.query("CALL db.awaitIndex($name, 600)", name=name)


def _checked(name: str, allowed: frozenset[str]) -> str:
    """Index and property names enter the query text: only our own constants do."""
    if not name or not set(name) <= allowed:
        raise ValueError(f"{name!r} is not a plain index or property name")
    return name
