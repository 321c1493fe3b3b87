"""What one online writer remembers of the graph between its batches."""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Set
from typing import Any

MAX_CACHED_IDS = 2_000_000
"""Node ids and created relationships a writer remembers (about 150 MB); past that it
forgets them all and looks keys up again, so memory stays bounded on any input."""


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
