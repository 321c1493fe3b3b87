"""Graph statistics: the paper's Table 1 columns and counts per label and relationship type."""

from dataclasses import dataclass

from kgstore.db import Database


@dataclass(frozen=True)
class GraphStats:
    """Table 1 of the paper: users, items, interactions (RATED), entities, and triples —
    every relationship that is not an interaction (item-entity and item-item facts)."""

    users: int
    items: int
    interactions: int
    entities: int
    triples: int
    labels: dict[str, int]
    relationship_types: dict[str, int]


def _quoted(name: str) -> str:
    """Backtick-quote a label or type read from the database itself (escaping backticks)."""
    return "`" + name.replace("`", "``") + "`"


def _count(db: Database, query: str) -> int:
    return db.query(query)[0]["c"]


def graph_stats(db: Database) -> GraphStats:
    """Counts from Neo4j's count store: one cheap query per label and per type."""
    labels = {
        label: _count(db, f"MATCH (n:{_quoted(label)}) RETURN count(n) AS c")
        for label in sorted(row["name"] for row in db.query("CALL db.labels() YIELD label AS name"))
    }
    rel_types = {
        rel_type: _count(db, f"MATCH ()-[r:{_quoted(rel_type)}]->() RETURN count(r) AS c")
        for rel_type in sorted(
            row["name"]
            for row in db.query("CALL db.relationshipTypes() YIELD relationshipType AS name")
        )
    }
    interactions = rel_types.get("RATED", 0)
    return GraphStats(
        users=labels.get("User", 0),
        items=labels.get("Item", 0),
        interactions=interactions,
        entities=labels.get("Entity", 0),
        triples=sum(rel_types.values()) - interactions,
        labels=labels,
        relationship_types=rel_types,
    )
