"""Graph statistics: the paper's Table 1 columns and counts per label and relationship type."""

from dataclasses import dataclass

from neo4j import Driver

from kgstore.db import run_query
from kgstore.settings import Settings


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


def _count(driver: Driver, settings: Settings, query: str) -> int:
    return run_query(driver, settings, query)[0]["c"]


def graph_stats(driver: Driver, settings: Settings) -> GraphStats:
    """Counts from Neo4j's count store: one cheap query per label and per type."""
    labels = {
        label: _count(driver, settings, f"MATCH (n:{_quoted(label)}) RETURN count(n) AS c")
        for label in sorted(
            row["name"]
            for row in run_query(driver, settings, "CALL db.labels() YIELD label AS name")
        )
    }
    rel_types = {
        rel_type: _count(
            driver, settings, f"MATCH ()-[r:{_quoted(rel_type)}]->() RETURN count(r) AS c"
        )
        for rel_type in sorted(
            row["name"]
            for row in run_query(
                driver, settings, "CALL db.relationshipTypes() YIELD relationshipType AS name"
            )
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
