"""The bulk path for first loads: collect an ingest in memory, then write it into an empty
database with `neo4j-admin database import full` instead of transactions.

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

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgstore.errors import KgstoreError
from kgstore.ingest.mapping import NODE_KEYS
from kgstore.ingest.quarantine import Quarantine
from kgstore.ingest.writer import (
    Provenance,
    QueuedRelationship,
    WriteCounts,
    Writer,
    base_label,
)

ARRAY_DELIMITER = "\x1f"
"""Between the elements of a list in a CSV field (and between labels): the ASCII unit
separator, which no text of our sources contains; a value that does is refused."""

NodeRef = tuple[str, str]
"""(base label, key)."""


class BulkImportError(KgstoreError):
    """The collected graph cannot be written as import files, or the import failed."""


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


@dataclass
class BulkRun:
    """An ingest run whose `Run` node is written, and whose reject threshold is checked,
    after the import (so the good records are stored either way, as online)."""

    provenance: Provenance
    config: dict[str, Any]
    report: dict[str, Any]
    quarantine: Quarantine


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

    def items(self) -> dict[str, str | None]:
        """Every item's id and `uri` (None when not linked)."""
        return {
            key: node.props.get("uri") for (base, key), node in self.nodes.items() if base == "Item"
        }

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

    def flush(self) -> None:
        """Resolve the queued relationships against every node queued so far."""
        pending, self._pending = self._pending, []
        for rel in pending:
            self._resolve(rel)

    def _merge(self, base: str, key: str, label: str, props: Mapping[str, Any]) -> None:
        self.graph.merge_node(base, key, {label}, {**props, **self.provenance.as_props()})
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
        elif target not in self.graph.nodes:
            self.counts.dangling[rel_type] += 1
            return
        for source in sources:
            props = self.graph.relationships.setdefault((rel_type, source, target), {})
            merge_props(props, rel.props)
            props["ingestRun"] = self.provenance.run_id
            self.counts.relationships[rel_type] += 1


@dataclass(frozen=True)
class ImportFiles:
    """CSV files for `neo4j-admin database import full`: (label, file) and (type, file)."""

    nodes: list[Path]
    relationships: list[tuple[str, Path]]

    def arguments(self) -> list[str]:
        return [f"--nodes={path}" for path in self.nodes] + [
            f"--relationships={rel_type}={path}" for rel_type, path in self.relationships
        ]


_SCALAR_TYPES = {bool: "boolean", int: "long", float: "double", str: "string"}


def _csv_type(owner: str, name: str, values: Iterable[Any]) -> str:
    """The import type of a property from every value it has in one file."""
    kinds: set[str] = set()
    for value in values:
        element = value[0] if isinstance(value, list) and value else value
        if value is None or (isinstance(value, list) and not value):
            continue
        kind = _SCALAR_TYPES.get(type(element))
        if kind is None:
            raise BulkImportError(
                f"{owner}.{name}: a {type(element).__name__} value cannot be bulk-imported"
            )
        kinds.add(kind + ("[]" if isinstance(value, list) else ""))
    if kinds <= {"long", "double"} and kinds:
        return "double" if "double" in kinds else "long"
    if kinds <= {"long[]", "double[]"} and kinds:
        return "double[]" if "double[]" in kinds else "long[]"
    if len(kinds) > 1:
        raise BulkImportError(
            f"{owner}.{name} holds values of several types ({', '.join(sorted(kinds))}); "
            "the bulk path needs one type per property: use the online ingest (without --bulk)"
        )
    return kinds.pop() if kinds else "string[]"


def _field(value: Any) -> str:
    """One CSV field: quoted text, empty for a missing value."""
    if value is None:
        return ""
    if isinstance(value, list):
        text = ARRAY_DELIMITER.join(_text(element) for element in value)
    else:
        text = _text(value)
    return '"' + text.replace('"', '""') + '"'


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value) if not isinstance(value, float) else repr(value)
    if ARRAY_DELIMITER in text:
        raise BulkImportError(f"a value contains the control character U+001F: {text[:80]!r}")
    return text


def _write_table(
    path: Path, owner: str, fixed: list[str], rows: list[tuple[list[Any], Mapping[str, Any]]]
) -> None:
    """A CSV file: the `fixed` header columns, then one typed column per property."""
    names = sorted({name for _, props in rows for name in props})
    types = {
        name: _csv_type(owner, name, (p[name] for _, p in rows if name in p)) for name in names
    }
    with path.open("w", encoding="utf-8", newline="") as out:
        header = fixed + [f"{name}:{types[name]}" for name in names]
        out.write(",".join(_field(column) for column in header) + "\n")
        for values, props in rows:
            fields = [_field(value) for value in values]
            fields += [_field(props.get(name)) for name in names]
            out.write(",".join(fields) + "\n")


def write_import_files(graph: BulkGraph, folder: Path) -> ImportFiles:
    """One node file per base label and one relationship file per type."""
    folder.mkdir(parents=True, exist_ok=True)
    by_base: dict[str, list[tuple[list[Any], Mapping[str, Any]]]] = defaultdict(list)
    for (base, key), node in graph.nodes.items():
        by_base[base].append(([key, sorted(node.labels)], node.props))
    nodes = []
    for base, rows in sorted(by_base.items()):
        path = folder / f"nodes-{base}.csv"
        _write_table(path, base, [f"{NODE_KEYS[base]}:ID({base})", ":LABEL"], rows)
        nodes.append(path)
    by_type: dict[tuple[str, str, str], list[tuple[list[Any], Mapping[str, Any]]]] = defaultdict(
        list
    )
    for (rel_type, source, target), props in graph.relationships.items():
        by_type[(rel_type, source[0], target[0])].append(([source[1], target[1]], props))
    relationships = []
    for (rel_type, source_base, target_base), rows in sorted(by_type.items()):
        path = folder / f"rels-{rel_type}-{source_base}-{target_base}.csv"
        header = [f":START_ID({source_base})", f":END_ID({target_base})"]
        _write_table(path, rel_type, header, rows)
        relationships.append((rel_type, path))
    return ImportFiles(nodes, relationships)
