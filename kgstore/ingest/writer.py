"""The only code that writes ingested records into Neo4j.

Writes are batched `UNWIND $rows … MERGE` statements, each batch one transaction, so a
re-run changes nothing and an interrupted run, run again, ends in the same graph. Labels
and relationship types come from `mapping` only (see `cypher_label`, `cypher_rel_type`);
every value from the input travels as a query parameter.

Every node and relationship written carries its provenance: `source` (which reader),
`sourceFile` (file name or endpoint) and `ingestRun` (the id of the `Run` node that
records the time, configuration and counts of the ingest).
"""

import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from neo4j import Driver

from kgstore.ingest.mapping import NODE_KEYS, Relation, cypher_label, cypher_rel_type
from kgstore.settings import Settings

DEFAULT_BATCH_SIZE = 10_000
Row = dict[str, Any]


@dataclass(frozen=True)
class Provenance:
    source: str
    source_file: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def as_props(self) -> dict[str, str]:
        return {"source": self.source, "sourceFile": self.source_file, "ingestRun": self.run_id}


def _node_query(base: str, extra_labels: tuple[str, ...]) -> str:
    key = NODE_KEYS[base]
    labels = "".join(f":{cypher_label(label)}" for label in extra_labels)
    set_labels = f" SET n{labels}" if labels else ""
    return (
        f"UNWIND $rows AS row MERGE (n:{cypher_label(base)} {{{key}: row.key}}) "
        f"SET n += row.props, n += $prov{set_labels} RETURN count(*) AS written"
    )


def _base_of(label: str) -> str:
    return label if label in NODE_KEYS else "Entity"


SOURCE_KEYS = frozenset({"id", "uri"})


def _relationship_query(relation: Relation, source_key: str | None = None) -> str:
    """MATCH the source, MERGE an entity target (it is created here) or MATCH an item or
    user target (those come only from their own records), then MERGE the relationship.

    `source_key` matches items by another indexed property: DBpedia facts name an item by
    its `uri`, not its id.
    """
    source_base, target_base = _base_of(relation.source_label), _base_of(relation.target_label)
    key = source_key or NODE_KEYS[source_base]
    if key not in SOURCE_KEYS:
        raise ValueError(f"source key {key!r} is not one of {sorted(SOURCE_KEYS)}")
    source = f"MATCH (s:{cypher_label(source_base)} {{{key}: row.s}})"
    if target_base == "Entity":
        target = (
            f"MERGE (t:Entity {{uri: row.t}}) "
            f"ON CREATE SET t += $prov, t.name = row.name "
            f"SET t:{cypher_label(relation.target_label)}"
        )
    else:
        target = f"MATCH (t:{cypher_label(target_base)} {{{NODE_KEYS[target_base]}: row.t}})"
    return (
        f"UNWIND $rows AS row {source} {target} "
        f"MERGE (s)-[r:{cypher_rel_type(relation.rel_type)}]->(t) "
        f"SET r += row.props, r += $prov RETURN count(*) AS written"
    )


@dataclass
class WriteCounts:
    """What a writer sent and what matched (a relationship whose endpoint is missing is
    counted in `dangling`, never silently lost)."""

    nodes: Counter[str] = field(default_factory=Counter)
    relationships: Counter[str] = field(default_factory=Counter)
    dangling: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            "nodes": dict(self.nodes),
            "relationships": dict(self.relationships),
            "dangling": dict(self.dangling),
        }


class GraphWriter:
    """Buffers rows per statement and flushes them in batches, one transaction each.

    Nodes are always flushed before relationships, so a relationship batch finds the
    nodes written before it. Use as a context manager, or call `flush()` at the end.
    """

    def __init__(
        self,
        driver: Driver,
        settings: Settings,
        provenance: Provenance,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self._driver = driver
        self._database = settings.neo4j_database
        self.provenance = provenance
        self.batch_size = batch_size
        self.counts = WriteCounts()
        self._nodes: dict[tuple[str, tuple[str, ...]], list[Row]] = defaultdict(list)
        self._rels: dict[tuple[str, str | None], list[Row]] = defaultdict(list)
        self._relations: dict[str, Relation] = {}

    def __enter__(self) -> "GraphWriter":
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.flush()

    def node(self, label: str, key: str, props: Mapping[str, Any] | None = None) -> None:
        """Queue one node; `label` is a base label (User, Item) or an entity type label."""
        base = _base_of(label)
        extra = () if label == base else (label,)
        self._queue_node(base, extra, {"key": key, "props": dict(props or {})})

    def item(self, item_id: str, domain_label: str, props: Mapping[str, Any]) -> None:
        self._queue_node("Item", (domain_label,), {"key": item_id, "props": dict(props)})

    def relationship(
        self,
        relation: Relation,
        source: str,
        target: str,
        props: Mapping[str, Any] | None = None,
        name: str | None = None,
        source_key: str | None = None,
    ) -> None:
        """Queue one relationship; `name` is the display name of a created entity target,
        `source_key` the property the source is matched on (default: its label's key)."""
        self._relations[relation.rel_type] = relation
        rows = self._rels[(relation.rel_type, source_key)]
        rows.append({"s": source, "t": target, "props": dict(props or {}), "name": name})
        if len(rows) >= self.batch_size:
            self._flush_rels(relation.rel_type, source_key, rows)

    def flush(self) -> None:
        for (rel_type, source_key), rows in self._rels.items():
            self._flush_rels(rel_type, source_key, rows)
        self._flush_nodes()

    def _flush_rels(self, rel_type: str, source_key: str | None, rows: list[Row]) -> None:
        self._flush_nodes()
        if rows:
            query = _relationship_query(self._relations[rel_type], source_key)
            self._write(query, rows, rel_type, is_node=False)
            rows.clear()

    def _queue_node(self, base: str, extra: tuple[str, ...], row: Row) -> None:
        rows = self._nodes[(base, extra)]
        rows.append(row)
        if len(rows) >= self.batch_size:
            self._write(_node_query(base, extra), rows, ":".join((base, *extra)), is_node=True)
            rows.clear()

    def _flush_nodes(self) -> None:
        for (base, extra), rows in self._nodes.items():
            if rows:
                self._write(_node_query(base, extra), rows, ":".join((base, *extra)), is_node=True)
                rows.clear()

    def _write(self, query: str, rows: list[Row], what: str, is_node: bool) -> None:
        params = {"rows": rows, "prov": self.provenance.as_props()}
        records, _, _ = self._driver.execute_query(query, params, database_=self._database)
        written = records[0]["written"] if records else 0
        if is_node:
            self.counts.nodes[what] += written
        else:
            self.counts.relationships[what] += written
            self.counts.dangling[what] += len(rows) - written


def record_run_start(
    driver: Driver, settings: Settings, provenance: Provenance, config: Mapping[str, Any]
) -> None:
    """Create the `Run` node of an ingest (status `running`)."""
    driver.execute_query(
        "MERGE (r:Run {id: $id}) SET r.kind = 'ingest', r.source = $source, "
        "r.sourceFile = $file, r.config = $config, r.status = 'running', "
        "r.startedAt = datetime($now)",
        {
            "id": provenance.run_id,
            "source": provenance.source,
            "file": provenance.source_file,
            "config": json.dumps(dict(config), sort_keys=True, default=str),
            "now": datetime.now(UTC).isoformat(),
        },
        database_=settings.neo4j_database,
    )


def record_run_end(
    driver: Driver,
    settings: Settings,
    provenance: Provenance,
    status: str,
    metrics: Mapping[str, Any],
) -> None:
    driver.execute_query(
        "MATCH (r:Run {id: $id}) SET r.status = $status, r.metrics = $metrics, "
        "r.finishedAt = datetime($now)",
        {
            "id": provenance.run_id,
            "status": status,
            "metrics": json.dumps(dict(metrics), sort_keys=True, default=str),
            "now": datetime.now(UTC).isoformat(),
        },
        database_=settings.neo4j_database,
    )


def assign_dense_indices(
    driver: Driver, settings: Settings, labels: Iterable[str] = ("User", "Item", "Entity")
) -> dict[str, int]:
    """Give every node without `idx` the next dense integer of its base label, in key order.

    Existing indices never change, so exported tensors of earlier runs stay valid; doing
    this once at the end of an ingest makes an interrupted-then-resumed ingest number its
    nodes exactly as an uninterrupted one.
    """
    assigned: dict[str, int] = {}
    for label in labels:
        key = NODE_KEYS[label]
        records, _, _ = driver.execute_query(
            f"MATCH (n:{cypher_label(label)}) WITH max(n.idx) AS top "
            f"MATCH (n:{cypher_label(label)}) WHERE n.idx IS NULL "
            f"WITH top, n ORDER BY n.{key} "
            f"WITH coalesce(top, -1) AS top, collect(n) AS fresh "
            f"FOREACH (i IN range(0, size(fresh) - 1) | "
            f"SET (fresh[i]).idx = top + 1 + i) RETURN size(fresh) AS assigned",
            database_=settings.neo4j_database,
        )
        assigned[label] = records[0]["assigned"] if records else 0
    return assigned
