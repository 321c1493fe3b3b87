"""Neo4j → `GraphSnapshot`, read in columns.

Every query covers a range of dense `idx` values (backed by the `idx` indexes of the
schema) and returns a few `collect()`ed lists, so a million relationships arrive in a
handful of records: Python never touches one record per edge, and node keys are mapped
to rows with `numpy.searchsorted` over sorted `idx` arrays instead of dicts. The queries
run two at a time, and text vectors do not cross the wire when the embed run's chunks hold
them (`kgstore.export.vectors`): the export reads at about 0.4 of a bare `collect()` of
the same relationships (BENCHMARKS.md, issue 22).

Only training interactions are kept, by the same rule as `graph.split.LeaveOneOut`
(`training_lengths`), and the users `holdout_users` picks are left out with all their
edges: persona learning never sees a validation or test item.
"""

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.errors import ExportError, SequenceReadError
from kgstore.export.config import ExportConfig
from kgstore.export.snapshot import GraphSnapshot
from kgstore.export.vectors import NodeVectors, read_vectors
from kgstore.graph.mapping import BY_TYPE, Domain, cypher_label
from kgstore.graph.split import holdout_users, training_lengths

IDX_RANGE = 50_000
"""Source nodes per query: a range's collected lists of integers stay a few MB."""
READERS = 2
"""Queries in flight: the server answers one while the client decodes the other."""

Progress = Callable[[str], None]
DEFAULT_EXPORT = ExportConfig()
ITEM_RELATIONS = [rel for rel, relation in BY_TYPE.items() if relation.source_label == "Item"]


def export_snapshot(
    db: Database,
    domain: Domain,
    config: ExportConfig = DEFAULT_EXPORT,
    progress: Progress | None = None,
    store: ArtifactStore | None = None,
) -> GraphSnapshot:
    """Read one domain's persona graph; text vectors come from `store`'s embed chunks where
    the graph names them (`kgstore.export.vectors`), from the graph otherwise. Raises
    `ExportError` (nothing is written) when the domain has no users or its items or
    entities lack text embeddings."""
    say = progress or (lambda _stage: None)
    item_label = cypher_label(domain.label)
    with ThreadPoolExecutor(READERS, thread_name_prefix="export") as pool:
        item_columns = pool.submit(_node_columns, db, f"Item:{item_label}", "id")
        rated_columns = pool.submit(_rated_columns, db, item_label)
        user_columns = pool.submit(_keys_by_idx, db, "User", "id")
        relation_columns = {
            rel: pool.submit(_relation_columns, db, item_label, rel)
            for rel in _present_item_relations(db)
        }
        entity_columns = pool.submit(_node_columns, db, "Entity", "uri", True)
        say("items")
        items = _embedded(item_columns.result(), f"items of {domain.value}", "kgctl embed items")
        x_item = read_vectors(db, store, items.vectors)
        say("interactions")
        users, rated, held_out, order_assumed = _training_interactions(
            domain, rated_columns.result(), user_columns.result(), items.idx, config
        )
        say("relationships")
        relations, targets = _item_relations(relation_columns)
        entity_idx = _reached_entities(relations, targets)
        say("entities")
        entities = _embedded(
            _subset(entity_columns.result(), entity_idx),
            "entities linked to these items",
            "kgctl embed entities",
            required=False,
        )
        x_entity = read_vectors(db, store, entities.vectors)
    relations = {
        rel: _rows(edges, items.idx, entity_idx if targets[rel] == "Entity" else items.idx)
        for rel, edges in relations.items()
    }
    return GraphSnapshot(
        domain=domain.value,
        users=users,
        items=list(items.keys),
        entities=list(entities.keys),
        entity_types=entities.types,
        x_item=x_item,
        x_entity=x_entity,
        rated=rated,
        relations=relations,
        relation_targets=targets,
        held_out_users=held_out,
        order_assumed=order_assumed,
        item_embedding_model=items.model,
        entity_embedding_model=entities.model,
        vector_sources={
            "items": items.vectors.sources.as_dict(),
            "entities": entities.vectors.sources.as_dict(),
        },
    )


def _ranges(db: Database, labels: str, step: int = IDX_RANGE) -> Iterator[tuple[int, int]]:
    row = db.columns(f"MATCH (n:{labels}) RETURN min(n.idx) AS low, max(n.idx) AS high")
    if row["low"] is None:
        return
    for low in range(row["low"], row["high"] + 1, step):
        yield low, low + step


def collect_ranges(
    db: Database, labels: str, query: str, step: int = IDX_RANGE
) -> dict[str, list[Any]]:
    """Run `query` (filtered by `$low <= idx < $high` of the nodes with `labels`) over
    every idx range and concatenate each returned list."""
    columns: dict[str, list[Any]] = {}
    for low, high in _ranges(db, labels, step):
        row = db.columns(query, low=low, high=high)
        for name, values in row.items():
            columns.setdefault(name, []).extend(values)
    return columns


@dataclass
class NodeColumns:
    """Per node of a kind, in `idx` order: key, embed run, text hash, whether it has a
    vector, its model, and (entities) its type labels."""

    label: str
    idx: np.ndarray
    keys: list[str]
    runs: list[str]
    hashes: list[str]
    embedded: np.ndarray
    models: list[str]
    labels: list[list[str]]


def _node_columns(db: Database, labels: str, key: str, labels_too: bool = False) -> NodeColumns:
    """Every node with these labels; its vector stays on the server (`read_vectors`)."""
    types = "collect([l IN labels(n) WHERE l <> 'Entity'])" if labels_too else "[]"
    columns = collect_ranges(
        db,
        labels,
        f"MATCH (n:{labels}) WHERE n.idx >= $low AND n.idx < $high WITH n ORDER BY n.idx "
        f"RETURN collect(n.idx) AS idx, collect(n.{key}) AS keys, "
        "collect(coalesce(n.textEmbeddingRun, '')) AS runs, "
        "collect(coalesce(n.textEmbeddingHash, '')) AS hashes, "
        # `IS NOT NULL` would read the whole vector; the key list does not.
        "collect('textEmbedding' IN keys(n)) AS embedded, "
        f"collect(coalesce(n.textEmbeddingModel, '')) AS models, {types} AS labels",
    )
    return NodeColumns(
        labels,
        np.asarray(columns.get("idx", []), dtype=np.int64),
        columns.get("keys", []),
        columns.get("runs", []),
        columns.get("hashes", []),
        np.asarray(columns.get("embedded", []), dtype=bool),
        columns.get("models", []),
        columns.get("labels", []),
    )


def _subset(columns: NodeColumns, idx: np.ndarray) -> NodeColumns:
    """The rows of these (sorted) idx values; every one must be there."""
    rows = np.searchsorted(columns.idx, idx)
    if len(idx) and (rows.max() >= len(columns.idx) or (columns.idx[rows] != idx).any()):
        raise ExportError("an entity disappeared during the export; run it again")
    pick = rows.tolist()
    return NodeColumns(
        columns.label,
        idx,
        [columns.keys[k] for k in pick],
        [columns.runs[k] for k in pick],
        [columns.hashes[k] for k in pick],
        columns.embedded[rows],
        [columns.models[k] for k in pick],
        [columns.labels[k] for k in pick] if columns.labels else [],
    )


@dataclass
class Embedded:
    """A node kind checked to be fully embedded with one model."""

    idx: np.ndarray
    keys: list[str]
    types: list[str]
    model: str
    vectors: NodeVectors


def _embedded(columns: NodeColumns, what: str, remedy: str, required: bool = True) -> Embedded:
    if required and not columns.keys:
        raise ExportError(f"the graph holds no {what}")
    missing = np.flatnonzero(~columns.embedded)
    if len(missing):
        raise ExportError(
            f"{len(missing):,} {what} have no textEmbedding (first: "
            f"{columns.keys[int(missing[0])]!r}); run `{remedy}` first"
        )
    model = _one_model(set(columns.models), what, remedy) if columns.keys else ""
    return Embedded(
        columns.idx,
        columns.keys,
        [sorted(labels)[0] if labels else "Entity" for labels in columns.labels],
        model,
        NodeVectors(columns.label, columns.idx, columns.keys, columns.runs, columns.hashes),
    )


def _keys_by_idx(db: Database, label: str, key: str) -> tuple[np.ndarray, list[str]]:
    """(sorted idx, keys) of every node with this label."""
    columns = collect_ranges(
        db,
        label,
        f"MATCH (n:{cypher_label(label)}) WHERE n.idx >= $low AND n.idx < $high "
        f"WITH n ORDER BY n.idx RETURN collect(n.idx) AS idx, collect(n.{key}) AS keys",
    )
    return np.asarray(columns.get("idx", []), dtype=np.int64), columns.get("keys", [])


def _rated_columns(db: Database, item_label: str) -> dict[str, list[Any]]:
    return collect_ranges(
        db,
        "User",
        f"MATCH (u:User)-[r:RATED]->(i:Item:{item_label}) "
        "WHERE u.idx >= $low AND u.idx < $high "
        "RETURN collect(u.idx) AS u, collect(i.idx) AS i, collect(r.pos) AS pos, "
        "[x IN collect(r.orderAssumed) WHERE x][..1] AS assumed",
    )


def _training_interactions(
    domain: Domain,
    columns: dict[str, list[Any]],
    user_keys: tuple[np.ndarray, list[str]],
    item_idx: np.ndarray,
    config: ExportConfig,
) -> tuple[list[str], np.ndarray, list[str], bool]:
    """(users kept, [2, E] training (user row, item row) pairs, held-out users, order
    assumed) — positions checked to be 0…n-1 per user, as `read_sequences` checks them."""
    if not columns.get("u"):
        raise ExportError(f"no user has rated an item of {domain.value}: nothing to learn from")
    assumed = bool(columns["assumed"])
    u, i, pos = (np.asarray(columns[name], dtype=np.int64) for name in ("u", "i", "pos"))
    order = np.lexsort((pos, u))
    u, i, pos = u[order], i[order], pos[order]
    user_idx, starts, lengths = np.unique(u, return_index=True, return_counts=True)
    expected = np.arange(len(u)) - np.repeat(starts, lengths)
    all_idx, all_keys = user_keys
    ids = [all_keys[k] for k in np.searchsorted(all_idx, user_idx).tolist()]
    if not np.array_equal(pos, expected):
        bad = int(u[np.flatnonzero(pos != expected)[0]])
        user = ids[int(np.searchsorted(user_idx, bad))]
        raise SequenceReadError(
            f"user {user!r}: RATED positions of {domain.value} are not 0, 1, 2, …"
        )
    keep_pos = pos < np.repeat(training_lengths(lengths), lengths)
    held_out = holdout_users(ids, config.holdout_fraction, config.holdout_seed)
    kept_users = np.array([user not in held_out for user in ids])
    keep = keep_pos & np.repeat(kept_users, lengths)
    user_rows = np.cumsum(kept_users) - 1
    pairs = np.stack(
        [user_rows[np.searchsorted(user_idx, u[keep])], np.searchsorted(item_idx, i[keep])]
    )
    pairs = _unique_pairs(pairs)
    users = [user for user, kept in zip(ids, kept_users, strict=True) if kept]
    return users, pairs, sorted(held_out), bool(assumed)


def _target_kind(rel: str) -> str:
    """`Item` for a relationship from items to items, `Entity` otherwise (mapping table)."""
    return "Item" if BY_TYPE[rel].target_label == "Item" else "Entity"


def _present_item_relations(db: Database) -> list[str]:
    """Every relationship type of the mapping table from items that the graph holds."""
    present = db.columns(
        "CALL db.relationshipTypes() YIELD relationshipType "
        "RETURN collect(relationshipType) AS types"
    )["types"]
    return [rel for rel in ITEM_RELATIONS if rel in present]


def _relation_columns(db: Database, item_label: str, rel: str) -> list[list[int]]:
    """[source idx, target idx] of one relationship type from the domain's items to
    entities or to the domain's other items: one typed expansion per type (filtering
    `type(r)` on every relationship costs more)."""
    target = item_label if _target_kind(rel) == "Item" else "Entity"
    columns = collect_ranges(
        db,
        f"Item:{item_label}",
        f"MATCH (i:Item:{item_label})-[:{rel}]->(t:{target}) "
        "WHERE i.idx >= $low AND i.idx < $high "
        "RETURN collect(i.idx) AS src, collect(t.idx) AS dst",
    )
    return [columns.get("src", []), columns.get("dst", [])]


def _item_relations(
    columns: dict[str, Future[list[list[int]]]],
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Relationship type → int64 [2, E] idx pairs, and → `Entity` or `Item`, of the types
    with at least one relationship."""
    edges: dict[str, np.ndarray] = {}
    targets: dict[str, str] = {}
    for rel, future in columns.items():
        src, dst = future.result()
        if src:
            edges[rel] = np.asarray([src, dst], dtype=np.int64)
            targets[rel] = _target_kind(rel)
    return edges, targets


def _reached_entities(relations: dict[str, np.ndarray], targets: dict[str, str]) -> np.ndarray:
    """The sorted idx of the entities the items' relationships reach."""
    reached = [edges[1] for rel, edges in relations.items() if targets[rel] == "Entity"]
    return np.unique(np.concatenate(reached)) if reached else np.empty(0, np.int64)


def _one_model(models: set[str | None], what: str, remedy: str) -> str:
    """The one embedding model of a node kind; vectors of two models cannot be compared."""
    if len(models) != 1:
        raise ExportError(
            f"the {what} were embedded with several models ({sorted(map(str, models))}); "
            f"run `{remedy} --model …` with one model"
        )
    return str(next(iter(models)))


def _rows(edges: np.ndarray, source_idx: np.ndarray, target_idx: np.ndarray) -> np.ndarray:
    """idx pairs → row pairs (both idx arrays sorted), duplicates removed."""
    rows = np.stack([np.searchsorted(source_idx, edges[0]), np.searchsorted(target_idx, edges[1])])
    return _unique_pairs(rows)


def _unique_pairs(pairs: np.ndarray) -> np.ndarray:
    """The distinct columns of an int64 [2, E] array of non-negative rows, sorted by the
    first line then the second, as `np.unique(axis=1)` gives them, from one sorted int64
    per pair (ten times faster)."""
    if pairs.shape[1] == 0:
        return pairs
    width = int(pairs[1].max()) + 1
    codes = np.sort(pairs[0] * width + pairs[1])
    codes = codes[np.concatenate([[True], codes[1:] != codes[:-1]])]
    return np.stack([codes // width, codes % width])
