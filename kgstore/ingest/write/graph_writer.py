"""The online writer: batched `UNWIND $rows … MERGE` transactions into a running Neo4j.

Each batch is one transaction, so a re-run changes nothing and an interrupted run, run
again, ends in the same graph. How it is made fast (ids instead of key seeks, `CREATE`
for relationships on new nodes, a background write thread) is measured in BENCHMARKS.md.
"""

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from typing import Any

from neo4j import ManagedTransaction

from kgstore.db import Database
from kgstore.graph.mapping import Relation
from kgstore.graph.undo_records import Kind, store_before
from kgstore.ingest.write.memory import WriterMemory
from kgstore.ingest.write.pipeline import WritePipeline
from kgstore.ingest.write.queries import node_query
from kgstore.ingest.write.relationship_batch import RelationshipBatch, all_created
from kgstore.ingest.write.writer import (
    CONFLICTS_SHOWN,
    DEFAULT_BATCH_SIZE,
    DOMAIN_LABELS,
    Provenance,
    QueuedRelationship,
    Row,
    WriteCounts,
    Writer,
    base_label,
)


class GraphWriter(Writer):
    """Buffers rows per statement and flushes them in batches, one transaction each.

    Nodes are always flushed before relationships, so a relationship batch finds the
    nodes written before it. Batches are written on a background thread (`WritePipeline`);
    `flush()` returns when all are committed, and `counts` is complete after it. Use as a
    context manager, or call `flush()` at the end.
    """

    def __init__(
        self,
        db: Database,
        provenance: Provenance,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self._db = db
        self.provenance = provenance
        self.batch_size = batch_size
        self.counts = WriteCounts()
        self._nodes: dict[tuple[str, tuple[str, ...]], list[Row]] = defaultdict(list)
        self._rels: dict[tuple[str, str | None], list[Row]] = defaultdict(list)
        self._relations: dict[str, Relation] = {}
        self._memory = WriterMemory()
        self._pipeline = WritePipeline()

    def abandon(self, reason: BaseException) -> None:
        self._pipeline.abandon(reason)

    def items_in_other_domains(self, items: Collection[str], label: str) -> dict[str, list[str]]:
        rows = self._db.query(
            "UNWIND $ids AS id MATCH (i:Item {id: id}) "
            "WITH i, [l IN labels(i) WHERE l IN $domains AND l <> $label] AS others "
            "WHERE others <> [] RETURN i.id AS id, others LIMIT $shown",
            ids=list(items),
            domains=sorted(DOMAIN_LABELS),
            label=label,
            shown=CONFLICTS_SHOWN,
        )
        return {row["id"]: row["others"] for row in rows}

    def node(self, label: str, key: str, props: Mapping[str, Any] | None = None) -> None:
        base = base_label(label)
        extra = () if label == base else (label,)
        self._queue_node(base, extra, {"key": key, "props": dict(props or {})})

    def item(self, item_id: str, domain_label: str, props: Mapping[str, Any]) -> None:
        self._queue_node("Item", (domain_label,), {"key": item_id, "props": dict(props)})

    def _add_relationship(self, row: QueuedRelationship) -> None:
        relation, source_key = row.relation, row.source_key
        self._relations[relation.rel_type] = relation
        rows = self._rels[(relation.rel_type, source_key)]
        rows.append({"s": row.source, "t": row.target, "props": row.props, "name": row.name})
        if len(rows) >= self.batch_size:
            self._flush_rels(relation.rel_type, source_key)

    def flush(self) -> None:
        """Write everything queued and wait until it is committed."""
        for rel_type, source_key in list(self._rels):
            self._flush_rels(rel_type, source_key)
        self._flush_nodes()
        self._pipeline.drain()

    def _queue_node(self, base: str, extra: tuple[str, ...], row: Row) -> None:
        rows = self._nodes[(base, extra)]
        rows.append(row)
        if len(rows) >= self.batch_size:
            self._hand_over_nodes(base, extra)

    def _flush_nodes(self) -> None:
        for (base, extra), rows in list(self._nodes.items()):
            if rows:
                self._hand_over_nodes(base, extra)

    def _hand_over_nodes(self, base: str, extra: tuple[str, ...]) -> None:
        rows = self._nodes.pop((base, extra))
        self._pipeline.submit(lambda: self._write_nodes(base, extra, rows))

    def _flush_rels(self, rel_type: str, source_key: str | None) -> None:
        self._flush_nodes()
        rows = self._rels.pop((rel_type, source_key))
        if rows:
            relation = self._relations[rel_type]
            self._pipeline.submit(lambda: self._write_relationships(relation, source_key, rows))

    # Run on the pipeline's thread, one at a time: the only code that touches `_memory`.

    def _write_nodes(self, base: str, extra: tuple[str, ...], rows: list[Row]) -> None:
        query, prov = node_query(base, extra), self.provenance.as_props()

        def merge(tx: ManagedTransaction) -> tuple[list[list[Any]], int]:
            result = tx.run(query, rows=rows, prov=prov)
            record = result.single(strict=True)
            created = result.consume().counters.nodes_created
            store_before(tx, self.provenance.run_id, Kind.NODE, record["before"])
            return record["ids"], created

        ids, created = self._execute(merge)
        # An entity is remembered under its type label: relationships need that label on it.
        label = extra[0] if base == "Entity" and extra else base
        self._memory.remember(label, ids)
        if all_created(ids, created):
            self._memory.remember_created_nodes(node_id for _, node_id in ids)
        self.counts.nodes[":".join((base, *extra))] += len(ids)

    def _write_relationships(
        self, relation: Relation, source_key: str | None, rows: list[Row]
    ) -> None:
        batch = RelationshipBatch(
            relation, source_key, rows, self._memory, self.provenance.as_props()
        )
        outcome = self._execute(batch.write)
        for label, pairs in outcome.learned.items():
            self._memory.remember(label, pairs)
        self._memory.remember_created_nodes(outcome.created_nodes)
        self._memory.remember_created(relation.rel_type, outcome.created_pairs)
        self.counts.add_relationships(relation.rel_type, outcome.written)
        self.counts.dangling[relation.rel_type] += outcome.dangling

    def _execute(self, work: Callable[[ManagedTransaction], Any]) -> Any:
        """Run `work` in one write transaction (retried by the driver on transient errors)."""
        with self._db.session() as session:
            return session.execute_write(work)
