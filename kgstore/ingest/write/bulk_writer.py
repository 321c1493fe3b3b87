"""The bulk path's writer: collect an ingest in memory, for `bulk_files` to write as
import files and `bulk_load` to load into an empty database.

`BulkWriter` takes the same calls as `GraphWriter` and gives the same graph: a node's
properties are merged in call order (last value wins) with the run's provenance, an
entity reached by a relationship is created with its name and provenance only when new,
a relationship's properties are merged like `MERGE … SET r += props`, and relationships
are resolved when the writer is flushed, after every node queued before, as the online
writer flushes nodes before relationships. What differs: a relationship is written once
per (type, source, target) whatever the input repeats, as `MERGE` does, and a property
holding integers in some nodes and floats in others becomes a float in all of them (one
type per CSV column).

Everything is held in memory until the import (about 1 KB per relationship with its
keys), so this path is for first loads that fit in memory; the online writer has no
such limit.
"""

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from kgstore.graph.mapping import NODE_KEYS
from kgstore.graph.runs import node_key
from kgstore.ingest.write.writer import (
    CONFLICTS_SHOWN,
    DOMAIN_LABELS,
    Provenance,
    QueuedRelationship,
    WriteCounts,
    Writer,
    base_label,
)

NodeRef = tuple[str, str]
"""(base label, key)."""


def merge_props(props: dict[str, Any], updates: Mapping[str, Any]) -> None:
    """`SET x += updates`: later values win, and a null removes the property."""
    for name, value in updates.items():
        if value is None:
            props.pop(name, None)
        else:
            props[name] = value


@dataclass
class BulkNode:
    labels: set[str]
    props: dict[str, Any] = field(default_factory=dict)

    def add_run(self, run_id: str) -> None:
        """List `run_id` in `ingestRuns` once, as the online writer does."""
        runs = self.props.setdefault("ingestRuns", [])
        if run_id not in runs:
            runs.append(run_id)


class CollectedReport(Protocol):
    """What the import needs of a collected run's report (an `ingest.session.IngestReport`;
    named structurally so this layer does not import the session that uses it)."""

    @property
    def seconds(self) -> float: ...

    def as_dict(self) -> dict[str, Any]: ...


class CollectedSession(Protocol):
    """What the import needs of a collected run's session (an `ingest.session.IngestSession`):
    how it ended and its reject check."""

    @property
    def status(self) -> str: ...

    def close_checks(self, outcome: str) -> None: ...


@dataclass
class BulkRun:
    """An ingest run whose reject threshold is checked before the import (a run over it
    stops the import: the database stays empty, as online the run is undone) and whose
    `Run` node is written after it."""

    provenance: Provenance
    config: dict[str, Any]
    report: CollectedReport
    session: CollectedSession


@dataclass
class BulkGraph:
    """The graph several ingest runs build, in memory, for one import."""

    nodes: dict[NodeRef, BulkNode] = field(default_factory=dict)
    relationships: dict[tuple[str, NodeRef, NodeRef], dict[str, Any]] = field(default_factory=dict)
    runs: list[BulkRun] = field(default_factory=list)
    _by_uri: dict[str, dict[str, set[str]]] = field(default_factory=lambda: defaultdict(dict))

    def merge_node(
        self, base: str, key: str, labels: Iterable[str], props: Mapping[str, Any]
    ) -> BulkNode:
        node = self.nodes.setdefault((base, key), BulkNode({base}))
        node.labels.update(labels)
        old_uri = node.props.get("uri")
        merge_props(node.props, props)
        if base != "Entity" and node.props.get("uri") != old_uri:
            if old_uri is not None:
                self._by_uri[base][old_uri].discard(key)
            if node.props.get("uri") is not None:
                self._by_uri[base].setdefault(node.props["uri"], set()).add(key)
        return node

    def items(self, label: str = "Item") -> dict[str, str | None]:
        """Every item's id and `uri` (None when not linked), of the items with `label`."""
        return {
            key: node.props.get("uri")
            for (base, key), node in self.nodes.items()
            if base == "Item" and label in node.labels
        }

    def held_by_run(self, run_id: str) -> tuple[dict[str, int], dict[str, int]]:
        """(nodes by labels, relationships by type) of this graph written by `run_id`,
        each once: what the online path counts in Neo4j (`graph.runs.held_by_run`)."""
        nodes = Counter(
            node_key(sorted(node.labels))
            for node in self.nodes.values()
            if run_id in node.props.get("ingestRuns", ())
        )
        relationships = Counter(
            rel_type
            for (rel_type, _, _), props in self.relationships.items()
            if props.get("ingestRun") == run_id
        )
        return dict(nodes), dict(relationships)

    def sources(self, base: str, source_key: str, value: str) -> list[NodeRef]:
        """The nodes a relationship's source names: by the label's key, or by `uri`."""
        if source_key == NODE_KEYS[base]:
            return [(base, value)] if (base, value) in self.nodes else []
        return [(base, key) for key in sorted(self._by_uri[base].get(value, ()))]


class BulkWriter(Writer):
    """`GraphWriter`'s interface over a `BulkGraph`, for one ingest run."""

    def __init__(self, graph: BulkGraph, provenance: Provenance) -> None:
        self.graph = graph
        self.provenance = provenance
        self.counts = WriteCounts()
        self._pending: list[QueuedRelationship] = []

    def node(self, label: str, key: str, props: Mapping[str, Any] | None = None) -> None:
        base = base_label(label)
        self._merge(base, key, label, props or {})

    def item(self, item_id: str, domain_label: str, props: Mapping[str, Any]) -> None:
        self._merge("Item", item_id, domain_label, props)

    def _add_relationship(self, row: QueuedRelationship) -> None:
        self._pending.append(row)

    def abandon(self, reason: BaseException) -> None:
        self._pending.clear()

    def items_in_other_domains(self, items: Collection[str], label: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for item in items:
            node = self.graph.nodes.get(("Item", item))
            others = sorted((node.labels & DOMAIN_LABELS) - {label}) if node else []
            if others:
                found[item] = others
                if len(found) == CONFLICTS_SHOWN:
                    break
        return found

    def flush(self) -> None:
        """Resolve the queued relationships against every node queued so far."""
        pending, self._pending = self._pending, []
        for rel in pending:
            self._resolve(rel)

    def _merge(self, base: str, key: str, label: str, props: Mapping[str, Any]) -> None:
        node = self.graph.merge_node(base, key, {label}, {**props, **self.provenance.as_props()})
        node.add_run(self.provenance.run_id)
        self.counts.nodes[base if label == base else f"{base}:{label}"] += 1

    def _resolve(self, rel: QueuedRelationship) -> None:
        relation, rel_type = rel.relation, rel.relation.rel_type
        self.counts.dangling[rel_type] += 0  # every type written is listed, as online
        source_base = base_label(relation.source_label)
        sources = self.graph.sources(
            source_base, rel.source_key or NODE_KEYS[source_base], rel.source
        )
        target_base = base_label(relation.target_label)
        if not sources:
            self.counts.dangling[rel_type] += 1
            return
        target = (target_base, rel.target)
        if target_base == "Entity":
            if target not in self.graph.nodes:
                self.graph.merge_node(
                    "Entity", rel.target, (), {**self.provenance.as_props(), "name": rel.name}
                )
            self.graph.nodes[target].labels.add(relation.target_label)
            self.graph.nodes[target].add_run(self.provenance.run_id)
        elif target not in self.graph.nodes:
            self.counts.dangling[rel_type] += 1
            return
        for source in sources:
            props = self.graph.relationships.setdefault((rel_type, source, target), {})
            merge_props(props, rel.props)
            props["ingestRun"] = self.provenance.run_id
            self.counts.add_relationships(rel_type, 1)
