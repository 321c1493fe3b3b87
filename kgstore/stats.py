"""Graph statistics: the paper's Table 1 columns and counts per label and relationship type."""

from dataclasses import dataclass

from kgstore.db import Database
from kgstore.graph.mapping import Domain, cypher_label


@dataclass(frozen=True)
class Table1:
    """The paper's Table 1 for one domain: users who rated its items, its items, their
    interactions, the entities its items link to, and its items' triples (every
    relationship from one of its items: facts and item-item links)."""

    users: int
    items: int
    interactions: int
    entities: int
    triples: int


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
    domains: dict[Domain, Table1]


def _quoted(name: str) -> str:
    """Backtick-quote a label or type read from the database itself (escaping backticks)."""
    return "`" + name.replace("`", "``") + "`"


def _count(db: Database, query: str) -> int:
    return db.query(query)[0]["c"]


def label_counts(db: Database) -> dict[str, int]:
    """Nodes per label, sorted by label (from the count store: one cheap query each)."""
    return {
        label: _count(db, f"MATCH (n:{_quoted(label)}) RETURN count(n) AS c")
        for label in sorted(row["name"] for row in db.query("CALL db.labels() YIELD label AS name"))
    }


def relationship_type_counts(db: Database) -> dict[str, int]:
    """Relationships per type, sorted by type (from the count store, as `label_counts`)."""
    return {
        rel_type: _count(db, f"MATCH ()-[r:{_quoted(rel_type)}]->() RETURN count(r) AS c")
        for rel_type in sorted(
            row["name"]
            for row in db.query("CALL db.relationshipTypes() YIELD relationshipType AS name")
        )
    }


def graph_stats(db: Database) -> GraphStats:
    """Counts per label and type from Neo4j's count store (one cheap query each), and
    Table 1 per domain (`domain_table1`: traversals of that domain's items)."""
    labels = label_counts(db)
    rel_types = relationship_type_counts(db)
    interactions = rel_types.get("RATED", 0)
    return GraphStats(
        users=labels.get("User", 0),
        items=labels.get("Item", 0),
        interactions=interactions,
        entities=labels.get("Entity", 0),
        triples=sum(rel_types.values()) - interactions,
        labels=labels,
        relationship_types=rel_types,
        domains={
            domain: domain_table1(db, domain)
            for domain in Domain
            if labels.get(domain.label, 0) > 0
        },
    )


def domain_table1(db: Database, domain: Domain) -> Table1:
    """Table 1 of one domain's items (entities shared by two domains count in both)."""
    label = cypher_label(domain.label)
    rated = db.query(
        f"MATCH (u:User)-[r:RATED]->(:{label}) "
        "RETURN count(DISTINCT u) AS users, count(r) AS interactions"
    )[0]
    return Table1(
        users=rated["users"],
        items=_count(db, f"MATCH (i:{label}) RETURN count(i) AS c"),
        interactions=rated["interactions"],
        entities=_count(db, f"MATCH (:{label})-->(e:Entity) RETURN count(DISTINCT e) AS c"),
        triples=_count(db, f"MATCH (:{label})-[f]->() RETURN count(f) AS c"),
    )
