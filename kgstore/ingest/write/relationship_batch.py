"""One transaction's worth of relationships for the online writer: resolve the endpoints
to internal ids, split the pairs into those to `CREATE` and those to `MERGE`, run both.

A relationship with an endpoint this writer created is created, not merged: nobody else
can have linked a node that did not exist before this run, and the writer remembers what
it created, so a repeated row still merges. (Two ingests writing the same relationships
into the same new nodes at the same time could each create one; run overlapping ingests
one after another.)
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from neo4j import ManagedTransaction

from kgstore.graph.mapping import NODE_KEYS, Relation
from kgstore.graph.undo_records import Kind, store_before
from kgstore.ingest.write.memory import WriterMemory
from kgstore.ingest.write.queries import entity_query, lookup_ids, relationship_query
from kgstore.ingest.write.writer import Row, base_label

Learned = dict[str, dict[str, int]]
Pair = tuple[int, int]


def all_created(ids: list[list[Any]], nodes_created: int) -> bool:
    """Whether a `MERGE` that returned `ids` created all of its nodes. Only all-or-nothing
    is known from the counters; a batch of partly new nodes counts as not created, so its
    relationships are merged."""
    return nodes_created > 0 and nodes_created == len({node_id for _, node_id in ids})


@dataclass
class Resolved:
    """The batch's endpoints as ids: `pairs` holds (source id, target id, props) of every
    row whose endpoints exist; `unmatched` counts the rows whose target does not."""

    pairs: list[tuple[int, int, dict[str, Any]]]
    unmatched: int
    learned: Learned
    created_targets: set[int]


@dataclass
class Split:
    to_create: list[list[Any]] = field(default_factory=list)
    to_merge: list[list[Any]] = field(default_factory=list)
    created: set[Pair] = field(default_factory=set)


@dataclass
class BatchOutcome:
    written: int
    dangling: int
    learned: Learned
    created_nodes: set[int]
    created_pairs: set[Pair]


class RelationshipBatch:
    """Relationships of one type, written in one transaction by `write`.

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

    def write(self, tx: ManagedTransaction) -> BatchOutcome:
        resolved = self.resolve(tx)
        split = self.split(resolved)
        written = self.run(tx, split)
        matched = len(split.to_create) + len(split.to_merge)
        return BatchOutcome(
            written,
            resolved.unmatched + matched - written,
            resolved.learned,
            resolved.created_targets,
            split.created,
        )

    def resolve(self, tx: ManagedTransaction) -> Resolved:
        """Ids of both endpoints of every row; entity targets are merged on the way, but
        only for rows whose source exists."""
        learned: Learned = defaultdict(dict)
        created_targets: set[int] = set()
        sources = self._source_ids(tx, learned)
        rows = [row for row in self.rows if row["s"] in sources]
        targets = self._target_ids(tx, rows, learned, created_targets)
        pairs = [
            (source_id, targets[row["t"]], row["props"])
            for row in rows
            if row["t"] in targets
            for source_id in sources[row["s"]]
        ]
        unmatched = len(self.rows) - sum(row["t"] in targets for row in rows)
        return Resolved(pairs, unmatched, learned, created_targets)

    def split(self, resolved: Resolved) -> Split:
        """New pairs with an endpoint this writer created go to `CREATE` (once), all
        others — and repeats — to `MERGE`."""
        already = self.memory.created_relationships(self.relation.rel_type)
        created_node = self.memory.created_node
        split = Split()
        for source_id, target_id, props in resolved.pairs:
            pair = (source_id, target_id)
            new_endpoint = (
                target_id in resolved.created_targets
                or created_node(source_id)
                or created_node(target_id)
            )
            if new_endpoint and pair not in already and pair not in split.created:
                split.created.add(pair)
                split.to_create.append([source_id, target_id, props])
            else:
                split.to_merge.append([source_id, target_id, props])
        return split

    def run(self, tx: ManagedTransaction, split: Split) -> int:
        """Created first, so a repeat of a relationship in the same batch merges into it."""
        written = 0
        for clause, rows in (("CREATE", split.to_create), ("MERGE", split.to_merge)):
            if rows:
                query = relationship_query(self.relation, clause)
                record = tx.run(query, rows=rows, prov=self.prov).single(strict=True)
                store_before(tx, self.prov["ingestRun"], Kind.RELATIONSHIP, record["before"])
                written += record["written"]
        return written

    def _source_ids(self, tx: ManagedTransaction, learned: Learned) -> dict[str, tuple[int, ...]]:
        keys = list(dict.fromkeys(row["s"] for row in self.rows))
        if self.source_key != NODE_KEYS[self.source_base]:
            # A non-unique key (an item's uri) may name several items: looked up per batch.
            return lookup_ids(tx, self.source_base, self.source_key, keys)
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
            result = tx.run(entity_query(label), rows=entities, prov=self.prov)
            record = result.single(strict=True)
            ids = record["ids"]
            learned[label].update(ids)
            if all_created(ids, result.consume().counters.nodes_created):
                created.update(node_id for _, node_id in ids)
            store_before(tx, self.prov["ingestRun"], Kind.NODE, record["before"])
        return {key: known[key] for key in keys if key in known} | learned[label]

    def _unique_ids(
        self, tx: ManagedTransaction, base: str, keys: list[str], learned: Learned
    ) -> dict[str, int]:
        """Ids of nodes by their unique key: remembered ones, the others looked up."""
        known = self.memory.of(base)
        missing = [key for key in keys if key not in known]
        found = lookup_ids(tx, base, NODE_KEYS[base], missing)
        learned[base].update((key, ids[0]) for key, ids in found.items())
        return {key: known[key] for key in keys if key in known} | learned[base]
