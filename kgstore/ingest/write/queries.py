"""The Cypher statements of the online graph writer, built from mapping-table names only.

Nodes are merged by key and return their internal ids; relationships are then merged
or created between nodes found by id (`id()` rather than `elementId()`: measured faster
on Neo4j 5.26, see BENCHMARKS.md; the driver asks for no server notifications, so its
deprecation notice is not printed, see kgstore.db).
"""

from neo4j import ManagedTransaction

from kgstore.graph.mapping import NODE_KEYS, Relation, cypher_label, cypher_rel_type
from kgstore.ingest.write.writer import base_label

ADD_RUN = (
    "n.ingestRuns = CASE WHEN $prov.ingestRun IN coalesce(n.ingestRuns, []) "
    "THEN n.ingestRuns ELSE coalesce(n.ingestRuns, []) + $prov.ingestRun END"
)
"""Every ingest that wrote a node is listed on it, so a second source never hides the
first (`source`, `sourceFile`, `ingestRun` name the latest)."""


def node_before(changed: str) -> str:
    """`before`: what this run is about to change on a node that existed before it (id,
    labels, `ingestRuns`, and the `changed` keys as [key, value] pairs); null on a node
    this run created (no `ingestRuns` yet) or has already written (its first write kept
    the values from before the run). Kept for `kgctl runs undo` (graph/undo_records.py);
    new nodes, most of an ingest, cost only the test."""
    return (
        "CASE WHEN n.ingestRuns IS NULL OR $prov.ingestRun IN n.ingestRuns THEN null "
        f"ELSE [id(n), labels(n), n.ingestRuns, [k IN {changed} | [k, n[k]]]] END AS before"
    )


RELATIONSHIP_BEFORE = (
    "CASE WHEN r.ingestRun IS NULL OR r.ingestRun = $prov.ingestRun THEN null "
    "ELSE [id(r), type(r), r.ingestRun, [k IN keys(row[2]) | [k, r[k]]]] END AS before"
)
"""As `node_before`, for a relationship that `MERGE` found: its id, type, `ingestRun`
and the properties this row sets."""


def node_query(base: str, extra_labels: tuple[str, ...]) -> str:
    """Merge nodes by key with their properties, provenance and extra labels."""
    key = NODE_KEYS[base]
    labels = "".join(f":{cypher_label(label)}" for label in extra_labels)
    set_labels = f" SET n{labels}" if labels else ""
    return (
        f"UNWIND $rows AS row MERGE (n:{cypher_label(base)} {{{key}: row.key}}) "
        f"WITH row, n, {node_before('keys(row.props) + keys($prov)')} "
        f"SET n += row.props, n += $prov, {ADD_RUN}{set_labels} "
        "RETURN collect([row.key, id(n)]) AS ids, collect(before) AS before"
    )


def entity_query(label: str) -> str:
    """Merge relationship targets that are entities: provenance and name only when the
    entity is new (another source may have named it), the type label always."""
    return (
        f"UNWIND $rows AS row MERGE (n:Entity {{uri: row.key}}) "
        f"ON CREATE SET n += $prov, n.name = row.name WITH row, n, {node_before('[]')} "
        f"SET n:{cypher_label(label)}, {ADD_RUN} "
        "RETURN collect([row.key, id(n)]) AS ids, collect(before) AS before"
    )


def lookup_query(base: str, key: str) -> str:
    """Ids of existing nodes by key; a non-unique key (an item's `uri`) may name several."""
    return (
        f"UNWIND $keys AS key MATCH (n:{cypher_label(base)} {{{key}: key}}) "
        f"RETURN key, collect(id(n)) AS ids"
    )


def relationship_query(relation: Relation, clause: str) -> str:
    """`MERGE` or `CREATE` relationships between nodes found by id; the labels guard
    against an id that no longer names a node of the expected kind. A `MERGE` also
    returns what it is about to change on relationships that existed (`before`)."""
    source = cypher_label(base_label(relation.source_label))
    target = cypher_label(base_label(relation.target_label))
    before = f"WITH row, r, {RELATIONSHIP_BEFORE} " if clause == "MERGE" else ""
    collected = "collect(before)" if clause == "MERGE" else "[]"
    return (
        f"UNWIND $rows AS row MATCH (s:{source}) WHERE id(s) = row[0] "
        f"MATCH (t:{target}) WHERE id(t) = row[1] "
        f"{clause} (s)-[r:{cypher_rel_type(relation.rel_type)}]->(t) {before}"
        f"SET r += row[2], r.ingestRun = $prov.ingestRun "
        f"RETURN count(*) AS written, {collected} AS before"
    )


def lookup_ids(
    tx: ManagedTransaction, base: str, key: str, keys: list[str]
) -> dict[str, tuple[int, ...]]:
    """Internal ids of the nodes of `base` whose `key` is one of `keys`."""
    if not keys:
        return {}
    result = tx.run(lookup_query(base, key), keys=keys)
    return {record["key"]: tuple(record["ids"]) for record in result}
