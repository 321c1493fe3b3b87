"""The `Writer` interface every ingest writes through, and its small types.

Two implementations give the same graph: `graph_writer.GraphWriter` (batched
transactions into a running Neo4j) and `bulk_writer.BulkWriter` (an in-memory graph for
`neo4j-admin database import`). Labels and relationship types come from the mapping
table only; every value from the input travels as a query parameter or CSV field.

Provenance: every node written carries `ingestRuns`, the ids of every ingest `Run` that
wrote it, and `source` (which reader), `sourceFile` and `ingestRun` of the latest;
relationships carry `ingestRun` only, as the `Run` node holds the rest (why:
BENCHMARKS.md, "Provenance on relationships").
"""

import uuid
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Self

from kgstore.graph.mapping import NODE_KEYS, Domain, Relation

DEFAULT_BATCH_SIZE = 10_000
DOMAIN_LABELS = frozenset(domain.label for domain in Domain)
CONFLICTS_SHOWN = 5
SOURCE_KEYS = frozenset({"id", "uri"})

Row = dict[str, Any]


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


@dataclass
class WriteCounts:
    """What a writer sent and what matched (a relationship whose endpoint is missing is
    counted in `dangling`, never silently lost)."""

    nodes: Counter[str] = field(default_factory=Counter)
    relationships: Counter[str] = field(default_factory=Counter)
    dangling: Counter[str] = field(default_factory=Counter)
    written: int = 0
    """Relationships written so far, all types: one number a progress display can read
    while the writer's thread adds to it."""

    def add_relationships(self, rel_type: str, count: int) -> None:
        self.relationships[rel_type] += count
        self.written += count


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
    def items_in_other_domains(self, items: Collection[str], label: str) -> dict[str, list[str]]:
        """Up to a few of `items` the graph already holds with another domain label than
        `label`, with those labels."""

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
