"""The only code that writes ingested records into Neo4j.

Writes are batched `UNWIND $rows … MERGE` statements, each batch one transaction, so a
re-run changes nothing and an interrupted run, run again, ends in the same graph. Labels
and relationship types come from `mapping` only (see `cypher_label`, `cypher_rel_type`);
every value from the input travels as a query parameter.

Provenance: every node written carries `source` (which reader), `sourceFile` (file name
or endpoint) and `ingestRun`, the id of the `Run` node that records the source, file,
times, configuration and counts of the ingest. Relationships carry `ingestRun` only —
`(:Run {id: r.ingestRun})` has the rest: two more string properties on every relationship
cost a second property record each, a large share of the commit work (BENCHMARKS.md).

How it is fast (bench/ingest_throughput.py; on 2 cores the server's CPU is the limit,
two thirds of it in committing records):
- Relationships are merged between nodes found by internal id, not by two index seeks
  per row. Node writes return the ids of the nodes they merged; a relationship batch, in
  one transaction, merges its distinct entity targets, looks up the distinct keys it has
  not seen yet with one query, then merges every relationship by id. `elementId()` seeks
  were measured about 40% slower than `id()` seeks on Neo4j 5.26, hence the deprecated
  `id()`, with the deprecation notification switched off for these queries.
- A relationship with an endpoint this writer created is `CREATE`d, not `MERGE`d: no
  one else can have linked a node that did not exist before this run, and the writer
  itself remembers what it created, so a repeated row still goes through `MERGE` (its
  properties updated, as before). This skips `MERGE`'s look at both relationship chains,
  about a third of a relationship's cost. The one case it does not cover: two ingests
  writing the same relationships into the same new nodes at the same time may each
  create it; run overlapping ingests one after another.
- Batches are written on a background thread (`_Pipeline`), so the caller reads and
  parses its input while the server writes.
"""

import json
import threading
import uuid
from abc import ABC, abstractmethod
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Set
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, Self

from neo4j import Driver, ManagedTransaction

from kgstore.ingest.mapping import NODE_KEYS, Relation, cypher_label, cypher_rel_type
from kgstore.settings import Settings

DEFAULT_BATCH_SIZE = 10_000
MAX_CACHED_IDS = 2_000_000
"""Node ids and created relationships a writer remembers (about 150 MB); past that it
forgets them all and looks keys up again, so memory stays bounded on any input."""

Row = dict[str, Any]
SOURCE_KEYS = frozenset({"id", "uri"})


@dataclass(frozen=True)
class Provenance:
    source: str
    source_file: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def as_props(self) -> dict[str, str]:
        return {"source": self.source, "sourceFile": self.source_file, "ingestRun": self.run_id}


def base_label(label: str) -> str:
    """The label a node is keyed by: `User`, `Item`, or `Entity` for every type label."""
    return label if label in NODE_KEYS else "Entity"


def _node_query(base: str, extra_labels: tuple[str, ...]) -> str:
    key = NODE_KEYS[base]
    labels = "".join(f":{cypher_label(label)}" for label in extra_labels)
    set_labels = f" SET n{labels}" if labels else ""
    return (
        f"UNWIND $rows AS row MERGE (n:{cypher_label(base)} {{{key}: row.key}}) "
        f"SET n += row.props, n += $prov{set_labels} RETURN collect([row.key, id(n)]) AS ids"
    )


def _entity_query(label: str) -> str:
    """Merge relationship targets that are entities: provenance and name only when the
    entity is new (another source may have named it), the type label always."""
    return (
        f"UNWIND $rows AS row MERGE (n:Entity {{uri: row.key}}) "
        f"ON CREATE SET n += $prov, n.name = row.name SET n:{cypher_label(label)} "
        f"RETURN collect([row.key, id(n)]) AS ids"
    )


def _lookup_query(base: str, key: str) -> str:
    """Ids of existing nodes by key; a non-unique key (an item's `uri`) may name several."""
    return (
        f"UNWIND $keys AS key MATCH (n:{cypher_label(base)} {{{key}: key}}) "
        f"RETURN key, collect(id(n)) AS ids"
    )


def _relationship_query(relation: Relation, clause: str) -> str:
    """`MERGE` or `CREATE` relationships between nodes found by id; the labels guard
    against an id that no longer names a node of the expected kind."""
    source = cypher_label(base_label(relation.source_label))
    target = cypher_label(base_label(relation.target_label))
    return (
        f"UNWIND $rows AS row MATCH (s:{source}) WHERE id(s) = row[0] "
        f"MATCH (t:{target}) WHERE id(t) = row[1] "
        f"{clause} (s)-[r:{cypher_rel_type(relation.rel_type)}]->(t) "
        f"SET r += row[2], r.ingestRun = $prov.ingestRun RETURN count(*) AS written"
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


class WriterMemory:
    """What one writer knows of the graph: internal ids of the nodes it merged or looked
    up (by label and key), which of them it created, and the relationships it created
    from those.

    The label is the base label for users and items, the type label (`Person`, …) for
    entities, so a remembered entity also has the label a relationship needs on it.
    Ids live only as long as the writer: Neo4j may give the id of a deleted node to a new
    one, so they are never kept across ingests. An ingest deletes nothing; a node deleted
    by someone else meanwhile makes its relationships count as dangling. Past `limit`
    entries it forgets everything: forgotten nodes are looked up again and count as not
    created by this writer, so their relationships are merged — slower, still correct.
    """

    def __init__(self, limit: int = MAX_CACHED_IDS) -> None:
        self._by_label: dict[str, dict[str, int]] = defaultdict(dict)
        self._created_nodes: set[int] = set()
        self._created_rels: dict[str, set[tuple[int, int]]] = defaultdict(set)
        self._size = 0
        self._limit = limit

    def of(self, label: str) -> Mapping[str, int]:
        return self._by_label[label]

    def remember(self, label: str, pairs: Mapping[str, int] | Iterable[list[Any]]) -> None:
        self._make_room()
        known = self._by_label[label]
        before = len(known)
        known.update(pairs)
        self._size += len(known) - before

    def remember_created_nodes(self, node_ids: Iterable[int]) -> None:
        """Mark nodes this writer created (remembered with `remember` as well)."""
        self._created_nodes.update(node_ids)

    def created_node(self, node_id: int) -> bool:
        return node_id in self._created_nodes

    def created_relationships(self, rel_type: str) -> Set[tuple[int, int]]:
        return self._created_rels[rel_type]

    def remember_created(self, rel_type: str, pairs: set[tuple[int, int]]) -> None:
        self._make_room()
        self._created_rels[rel_type] |= pairs
        self._size += len(pairs)

    def _make_room(self) -> None:
        if self._size >= self._limit:
            self._by_label.clear()
            self._created_nodes.clear()
            self._created_rels.clear()
            self._size = 0


class _Pipeline:
    """Runs write batches one after another on one background thread.

    Why: on 2 cores about a quarter of an ingest's time was the client's own work
    (reading input, building rows), done while the server sat idle, and the server's
    work while the client waited. With one batch in flight the caller prepares the next
    batch while the server writes the last; batches still commit in the order they were
    handed over. A failed batch stops every later one; its error is raised to the caller
    at the next hand-off or at `drain`, and any later use raises again.
    """

    def __init__(self, depth: int = 1) -> None:
        self._depth = depth
        self._executor: ThreadPoolExecutor | None = None
        self._in_flight: deque[Future[None]] = deque()
        self._failed = threading.Event()
        self._stopped_by: BaseException | None = None

    def submit(self, work: Callable[[], None]) -> None:
        self._check()
        while self._in_flight and (self._in_flight[0].done() or len(self._in_flight) > self._depth):
            self._result(self._in_flight.popleft())
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="graph-writer")
        self._in_flight.append(self._executor.submit(self._guarded, work))

    def drain(self) -> None:
        """Wait until every batch handed over is committed; raise the first failure."""
        self._check()
        while self._in_flight:
            self._result(self._in_flight.popleft())
        self._shutdown()

    def abandon(self, reason: BaseException) -> None:
        """Write nothing more: drop waiting batches and wait for the running one."""
        self._stopped_by = reason
        self._failed.set()
        self._in_flight.clear()
        self._shutdown()

    def _check(self) -> None:
        if self._stopped_by is not None:
            raise RuntimeError("this writer stopped after an error") from self._stopped_by

    def _guarded(self, work: Callable[[], None]) -> None:
        if self._failed.is_set():
            return
        try:
            work()
        except BaseException:
            self._failed.set()
            raise

    def _result(self, future: Future[None]) -> None:
        try:
            future.result()
        except BaseException as exc:
            self.abandon(exc)
            raise

    def _shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


class QueuedRelationship(NamedTuple):
    """One `Writer.relationship` call (a tuple: built once per input row, it is the
    cheapest record Python has)."""

    relation: Relation
    source: str
    target: str
    props: dict[str, Any]
    name: str | None
    source_key: str | None


class Writer(ABC):
    """What an ingest writes through: `GraphWriter` (transactions) or the bulk path's
    `BulkWriter` (an in-memory graph for neo4j-admin import); both give the same graph."""

    provenance: Provenance
    counts: WriteCounts

    @abstractmethod
    def node(self, label: str, key: str, props: Mapping[str, Any] | None = None) -> None:
        """Queue one node; `label` is a base label (User, Item) or an entity type label."""

    @abstractmethod
    def item(self, item_id: str, domain_label: str, props: Mapping[str, Any]) -> None:
        """Queue one item with its domain label (`Movie`, `Book`)."""

    @abstractmethod
    def flush(self) -> None:
        """Write, or resolve, everything queued."""

    @abstractmethod
    def abandon(self, reason: BaseException) -> None:
        """Write nothing more: `reason` stopped the caller."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, *_: object) -> None:
        """Flush on success; after an error, abandon what is queued."""
        if exc is None:
            self.flush()
        else:
            self.abandon(exc)

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
        if source_key is not None and source_key not in SOURCE_KEYS:
            raise ValueError(f"source key {source_key!r} is not one of {sorted(SOURCE_KEYS)}")
        self._add_relationship(
            QueuedRelationship(relation, source, target, dict(props or {}), name, source_key)
        )

    @abstractmethod
    def _add_relationship(self, row: QueuedRelationship) -> None: ...


class GraphWriter(Writer):
    """Buffers rows per statement and flushes them in batches, one transaction each.

    Nodes are always flushed before relationships, so a relationship batch finds the
    nodes written before it. Batches are written on a background thread (`_Pipeline`);
    `flush()` returns when all are committed, and `counts` is complete after it. Use as a
    context manager, or call `flush()` at the end.
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
        self._memory = WriterMemory()
        self._pipeline = _Pipeline()

    def abandon(self, reason: BaseException) -> None:
        self._pipeline.abandon(reason)

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
        query, prov = _node_query(base, extra), self.provenance.as_props()

        def merge(tx: ManagedTransaction) -> tuple[list[list[Any]], int]:
            result = tx.run(query, rows=rows, prov=prov)
            ids = result.single(strict=True)["ids"]
            return ids, result.consume().counters.nodes_created

        ids, created = self._execute(merge)
        # An entity is remembered under its type label: relationships need that label on it.
        label = extra[0] if base == "Entity" and extra else base
        self._memory.remember(label, ids)
        if _all_created(ids, created):
            self._memory.remember_created_nodes(node_id for _, node_id in ids)
        self.counts.nodes[":".join((base, *extra))] += len(ids)

    def _write_relationships(
        self, relation: Relation, source_key: str | None, rows: list[Row]
    ) -> None:
        batch = _RelationshipBatch(
            relation, source_key, rows, self._memory, self.provenance.as_props()
        )
        outcome = self._execute(batch.write)
        for label, pairs in outcome.learned.items():
            self._memory.remember(label, pairs)
        self._memory.remember_created_nodes(outcome.created_nodes)
        self._memory.remember_created(relation.rel_type, outcome.created_pairs)
        self.counts.relationships[relation.rel_type] += outcome.written
        self.counts.dangling[relation.rel_type] += outcome.dangling

    def _execute(self, work: Callable[[ManagedTransaction], Any]) -> Any:
        """Run `work` in one write transaction (retried by the driver on transient errors)."""
        with self._driver.session(
            database=self._database, notifications_disabled_classifications=["DEPRECATION"]
        ) as session:
            return session.execute_write(work)


Learned = dict[str, dict[str, int]]


def _all_created(ids: list[list[Any]], nodes_created: int) -> bool:
    """Whether a `MERGE` that returned `ids` created all of its nodes. Only all-or-nothing
    is known from the counters; a batch of partly new nodes counts as not created, so its
    relationships are merged."""
    return nodes_created > 0 and nodes_created == len({node_id for _, node_id in ids})


@dataclass
class _BatchOutcome:
    written: int
    dangling: int
    learned: Learned
    created_nodes: set[int]
    created_pairs: set[tuple[int, int]]


class _RelationshipBatch:
    """One transaction's worth of relationships: endpoints to ids, then one `CREATE` query
    for relationships with an endpoint the writer created and one `MERGE` query for the
    rest (and for repeats).

    `write` may run more than once (the driver retries transient errors), so what it
    learns is returned, and the writer remembers it only after the commit.
    """

    def __init__(
        self,
        relation: Relation,
        source_key: str | None,
        rows: list[Row],
        memory: WriterMemory,
        prov: dict[str, str],
    ) -> None:
        self.relation = relation
        self.source_base = base_label(relation.source_label)
        self.target_base = base_label(relation.target_label)
        self.source_key = source_key or NODE_KEYS[self.source_base]
        self.rows = rows
        self.memory = memory
        self.prov = prov

    def write(self, tx: ManagedTransaction) -> _BatchOutcome:
        learned: Learned = defaultdict(dict)
        created_targets: set[int] = set()
        sources = self._source_ids(tx, learned)
        # An entity is created only for a relationship whose source exists.
        rows = [row for row in self.rows if row["s"] in sources]
        targets = self._target_ids(tx, rows, learned, created_targets)
        unmatched = len(self.rows) - sum(row["t"] in targets for row in rows)
        already = self.memory.created_relationships(self.relation.rel_type)
        created: set[tuple[int, int]] = set()
        to_create: list[list[Any]] = []
        to_merge: list[list[Any]] = []
        for row in rows:
            target_id = targets.get(row["t"])
            if target_id is None:
                continue
            for source_id in sources[row["s"]]:
                pair = (source_id, target_id)
                new_endpoint = (
                    target_id in created_targets
                    or self.memory.created_node(source_id)
                    or self.memory.created_node(target_id)
                )
                if new_endpoint and pair not in already and pair not in created:
                    created.add(pair)
                    to_create.append([source_id, target_id, row["props"]])
                else:
                    to_merge.append([source_id, target_id, row["props"]])
        # Created first, so a repeat of a relationship in the same batch merges into it.
        written = sum(
            tx.run(_relationship_query(self.relation, clause), rows=batch, prov=self.prov).single(
                strict=True
            )["written"]
            for clause, batch in (("CREATE", to_create), ("MERGE", to_merge))
            if batch
        )
        pairs = len(to_create) + len(to_merge)
        return _BatchOutcome(
            written, unmatched + pairs - written, learned, created_targets, created
        )

    def _source_ids(self, tx: ManagedTransaction, learned: Learned) -> dict[str, tuple[int, ...]]:
        keys = list(dict.fromkeys(row["s"] for row in self.rows))
        if self.source_key != NODE_KEYS[self.source_base]:
            # A non-unique key (an item's uri) may name several items: looked up per batch.
            return _lookup(tx, self.source_base, self.source_key, keys)
        unique = self._unique_ids(tx, self.source_base, keys, learned)
        return {key: (node_id,) for key, node_id in unique.items()}

    def _target_ids(
        self, tx: ManagedTransaction, rows: list[Row], learned: Learned, created: set[int]
    ) -> dict[str, int]:
        """Ids of the rows' targets; entity targets are merged, and the ids of those this
        query created go into `created`."""
        keys = list(dict.fromkeys(row["t"] for row in rows))
        if self.target_base != "Entity":
            return self._unique_ids(tx, self.target_base, keys, learned)
        label = self.relation.target_label
        known = self.memory.of(label)
        names: dict[str, str | None] = {}
        for row in rows:
            if row["t"] not in known:
                names.setdefault(row["t"], row["name"])
        if names:
            entities = [{"key": key, "name": name} for key, name in names.items()]
            result = tx.run(_entity_query(label), rows=entities, prov=self.prov)
            ids = result.single(strict=True)["ids"]
            learned[label].update(ids)
            if _all_created(ids, result.consume().counters.nodes_created):
                created.update(node_id for _, node_id in ids)
        return {key: known[key] for key in keys if key in known} | learned[label]

    def _unique_ids(
        self, tx: ManagedTransaction, base: str, keys: list[str], learned: Learned
    ) -> dict[str, int]:
        """Ids of nodes by their unique key: remembered ones, the others looked up."""
        known = self.memory.of(base)
        missing = [key for key in keys if key not in known]
        found = _lookup(tx, base, NODE_KEYS[base], missing)
        learned[base].update((key, ids[0]) for key, ids in found.items())
        return {key: known[key] for key in keys if key in known} | learned[base]


def _lookup(
    tx: ManagedTransaction, base: str, key: str, keys: list[str]
) -> dict[str, tuple[int, ...]]:
    if not keys:
        return {}
    result = tx.run(_lookup_query(base, key), keys=keys)
    return {record["key"]: tuple(record["ids"]) for record in result}


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
