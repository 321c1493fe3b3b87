"""Starting over on purpose: empty the whole graph, or remove one domain.

Deletes run in batches (`CALL … IN TRANSACTIONS`), relationships before nodes, so memory
stays flat: one `DETACH DELETE` of a node with 100,000 relationships exceeds the
transaction memory pool on its own. The schema (constraints, indexes) always stays.
"""

from dataclasses import dataclass

from kgstore.db import Database
from kgstore.graph.batched import BATCH, delete_in_batches
from kgstore.graph.mapping import Domain, cypher_label
from kgstore.graph.user_properties import keywords_property, persona_keys


@dataclass(frozen=True)
class Cleared:
    """What a clear removed."""

    nodes: int
    relationships: int
    users_stripped: int = 0
    """Users kept (they rate another domain) whose personas and keywords of the cleared
    domain were removed."""


def clear_graph(db: Database) -> Cleared:
    """Delete every node and relationship."""
    relationships = delete_in_batches(db, "MATCH ()-[r]->()", "r")
    nodes = delete_in_batches(db, "MATCH (n)", "n", detach=True)
    return Cleared(nodes, relationships)


def clear_domain(db: Database, domain: Domain) -> Cleared:
    """Delete one domain's items with every relationship they have (interactions, facts,
    item-item links), then the users and entities left with no relationship at all, and
    remove the domain's personas and preference keywords from the users that stay (they
    rate another domain). Other domains, their users' personas and keywords and the
    entities they still use stay as they were; the remaining nodes keep their `idx` (gaps
    where nodes were removed)."""
    label = cypher_label(domain.label)
    relationships = delete_in_batches(db, f"MATCH (:{label})-[r]-() WITH DISTINCT r", "r")
    nodes = delete_in_batches(db, f"MATCH (i:{label})", "i", detach=True)
    nodes += delete_in_batches(db, "MATCH (n) WHERE (n:User OR n:Entity) AND NOT (n)--()", "n")
    return Cleared(nodes, relationships, _strip_users(db, domain))


def _strip_users(db: Database, domain: Domain) -> int:
    """Remove every User property of the domain's personas (`persona_movies`, its run and
    pending vector) and keywords (`preferenceKeywordsMovie` and its model, version, hash,
    run), in batches; returns how many users had some."""
    prefixes = [persona_keys(domain).vector, keywords_property(domain)]
    with db.session() as session:
        record = session.run(
            "MATCH (u:User) WITH u, [k IN keys(u) WHERE any(p IN $prefixes WHERE "
            "k STARTS WITH p)] AS owned WHERE owned <> [] "
            "CALL (u, owned) { FOREACH (k IN owned | REMOVE u[k]) } "
            f"IN TRANSACTIONS OF {BATCH} ROWS RETURN count(u) AS n",
            prefixes=prefixes,
        ).single()
    return record["n"] if record else 0
