"""Neo4j → `GraphSnapshot`, read in columns.

Every query covers a range of dense `idx` values (backed by the `idx` indexes of the
schema) and returns a few `collect()`ed lists, so a million relationships arrive in a
handful of records: Python never touches one record per edge, and node keys are mapped
to rows with `numpy.searchsorted` over sorted `idx` arrays instead of dicts.

Only training interactions are kept, by the same rule as `graph.split.LeaveOneOut`
(`training_lengths`), and the users `holdout_users` picks are left out with all their
edges: persona learning never sees a validation or test item.
"""

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from kgstore.db import Database
from kgstore.errors import ExportError, SequenceReadError
from kgstore.export.config import ExportConfig
from kgstore.export.snapshot import GraphSnapshot
from kgstore.graph.mapping import BY_TYPE, Domain, cypher_label
from kgstore.graph.split import holdout_users, training_lengths

IDX_RANGE = 50_000
"""Source nodes per query: a range's collected lists of integers stay a few MB."""
FEATURE_RANGE = 5_000
"""Nodes per query when their vectors come along: 50,000 vectors of 384 doubles make one
150 MB record that the server builds on its heap and the client decodes at once."""

Progress = Callable[[str], None]
DEFAULT_EXPORT = ExportConfig()


def export_snapshot(
    db: Database,
    domain: Domain,
    config: ExportConfig = DEFAULT_EXPORT,
    progress: Progress | None = None,
) -> GraphSnapshot:
    """Read one domain's persona graph. Raises `ExportError` (nothing is written) when the
    domain has no users or its items or entities lack text embeddings."""
    say = progress or (lambda _stage: None)
    item_label = cypher_label(domain.label)
    say("items")
    item_idx, item_keys, x_item, item_model = _features(
        db, f"Item:{item_label}", "id", f"items of {domain.value}", "kgctl embed items"
    )
    say("interactions")
    users, rated, held_out, order_assumed = _training_interactions(db, domain, item_idx, config)
    say("relationships")
    relations, targets, entity_idx = _item_relations(db, item_label, item_idx)
    say("entities")
    entity_keys, entity_types, x_entity, entity_model = _entities(db, entity_idx)
    relations = {
        rel: _rows(edges, item_idx, entity_idx if targets[rel] == "Entity" else item_idx)
        for rel, edges in relations.items()
    }
    return GraphSnapshot(
        domain=domain.value,
        users=users,
        items=item_keys,
        entities=entity_keys,
        entity_types=entity_types,
        x_item=x_item,
        x_entity=x_entity,
        rated=rated,
        relations=relations,
        relation_targets=targets,
        held_out_users=held_out,
        order_assumed=order_assumed,
        item_embedding_model=item_model,
        entity_embedding_model=entity_model,
    )


def _ranges(db: Database, labels: str, step: int = IDX_RANGE) -> Iterator[tuple[int, int]]:
    row = db.columns(f"MATCH (n:{labels}) RETURN min(n.idx) AS low, max(n.idx) AS high")
    if row["low"] is None:
        return
    for low in range(row["low"], row["high"] + 1, step):
        yield low, low + step


def _collect(db: Database, labels: str, query: str, step: int = IDX_RANGE) -> dict[str, list[Any]]:
    """Run `query` (filtered by `$low <= idx < $high` of the nodes with `labels`) over
    every idx range and concatenate each returned list."""
    columns: dict[str, list[Any]] = {}
    for low, high in _ranges(db, labels, step):
        row = db.columns(query, low=low, high=high)
        for name, values in row.items():
            columns.setdefault(name, []).extend(values)
    return columns


def _features(
    db: Database, labels: str, key: str, what: str, remedy: str
) -> tuple[np.ndarray, list[str], np.ndarray, str]:
    """(sorted idx, keys, float32 features, model) of every node with these labels."""
    columns = _collect(
        db,
        labels,
        f"MATCH (n:{labels}) WHERE n.idx >= $low AND n.idx < $high "
        f"WITH n ORDER BY n.idx RETURN collect(n.idx) AS idx, collect(n.{key}) AS keys, "
        "collect(coalesce(n.textEmbedding, [])) AS x, "
        "collect(DISTINCT n.textEmbeddingModel) AS models",
        FEATURE_RANGE,
    )
    idx, keys, vectors = columns.get("idx", []), columns.get("keys", []), columns.get("x", [])
    models = set(columns.get("models", []))
    missing = [k for k, v in zip(keys, vectors, strict=True) if not v]
    if not keys:
        raise ExportError(f"the graph holds no {what}")
    if missing:
        raise ExportError(
            f"{len(missing):,} {what} have no textEmbedding (first: {missing[0]!r}); "
            f"run `{remedy}` first"
        )
    return (
        np.asarray(idx, dtype=np.int64),
        keys,
        np.asarray(vectors, dtype=np.float32),
        _one_model(models, what, remedy),
    )


def _training_interactions(
    db: Database, domain: Domain, item_idx: np.ndarray, config: ExportConfig
) -> tuple[list[str], np.ndarray, list[str], bool]:
    """(users kept, [2, E] training (user row, item row) pairs, held-out users, order
    assumed) — positions checked to be 0…n-1 per user, as `read_sequences` checks them."""
    columns = _collect(
        db,
        "User",
        f"MATCH (u:User)-[r:RATED]->(i:Item:{cypher_label(domain.label)}) "
        "WHERE u.idx >= $low AND u.idx < $high "
        "RETURN collect(u.idx) AS u, collect(i.idx) AS i, collect(r.pos) AS pos, "
        "[x IN collect(r.orderAssumed) WHERE x][..1] AS assumed",
    )
    if not columns.get("u"):
        raise ExportError(f"no user has rated an item of {domain.value}: nothing to learn from")
    assumed = bool(columns["assumed"])
    u, i, pos = (np.asarray(columns[name], dtype=np.int64) for name in ("u", "i", "pos"))
    order = np.lexsort((pos, u))
    u, i, pos = u[order], i[order], pos[order]
    user_idx, starts, lengths = np.unique(u, return_index=True, return_counts=True)
    expected = np.arange(len(u)) - np.repeat(starts, lengths)
    ids = _keys_of(db, "User", "id", user_idx)
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
    pairs = np.unique(pairs, axis=1)
    users = [user for user, kept in zip(ids, kept_users, strict=True) if kept]
    return users, pairs, sorted(held_out), bool(assumed)


def _keys_of(db: Database, label: str, key: str, idx: np.ndarray) -> list[str]:
    """The keys of nodes with these (sorted) idx values, in that order."""
    found_idx: list[int] = []
    found_keys: list[str] = []
    for start in range(0, len(idx), IDX_RANGE):
        row = db.columns(
            f"UNWIND $idx AS x MATCH (n:{cypher_label(label)} {{idx: x}}) "
            f"RETURN collect(n.idx) AS idx, collect(n.{key}) AS keys",
            idx=idx[start : start + IDX_RANGE].tolist(),
        )
        found_idx += row["idx"]
        found_keys += row["keys"]
    order = np.argsort(np.asarray(found_idx, dtype=np.int64), kind="stable")
    return [found_keys[k] for k in order]


def _item_relations(
    db: Database, item_label: str, item_idx: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, str], np.ndarray]:
    """Relationships from the domain's items to entities and to the domain's other items,
    of every type of the mapping table, as idx pairs; and the sorted idx of the entities
    they reach."""
    columns: dict[str, tuple[list[int], list[int]]] = {}
    targets: dict[str, str] = {}
    for low, high in _ranges(db, f"Item:{item_label}"):
        rows = db.query(
            f"MATCH (i:Item:{item_label})-[r]->(t) WHERE i.idx >= $low AND i.idx < $high "
            f"AND (t:Entity OR t:{item_label}) AND type(r) IN $types "
            "RETURN type(r) AS rel, t:Entity AS entity, "
            "collect(i.idx) AS src, collect(t.idx) AS dst",
            low=low,
            high=high,
            types=[rel for rel, relation in BY_TYPE.items() if relation.source_label == "Item"],
        )
        for row in rows:
            src, dst = columns.setdefault(row["rel"], ([], []))
            src += row["src"]
            dst += row["dst"]
            targets[row["rel"]] = "Entity" if row["entity"] else "Item"
    edges = {rel: np.asarray([src, dst], dtype=np.int64) for rel, (src, dst) in columns.items()}
    entity_idx = [e[1] for rel, e in edges.items() if targets[rel] == "Entity"]
    return (
        edges,
        targets,
        np.unique(np.concatenate(entity_idx)) if entity_idx else np.empty(0, np.int64),
    )


def _entities(db: Database, entity_idx: np.ndarray) -> tuple[list[str], list[str], np.ndarray, str]:
    """(uris, type labels, features, model) of the entities with these sorted idx values."""
    if len(entity_idx) == 0:
        return [], [], np.zeros((0, 0), dtype=np.float32), ""
    found: list[int] = []
    uris: list[str] = []
    types: list[str] = []
    vectors: list[list[float]] = []
    models: set[str | None] = set()
    for start in range(0, len(entity_idx), FEATURE_RANGE):
        row = db.columns(
            "UNWIND $idx AS x MATCH (e:Entity {idx: x}) "
            "RETURN collect(e.idx) AS idx, collect(e.uri) AS uris, collect(e.textEmbedding) AS x, "
            "collect([l IN labels(e) WHERE l <> 'Entity']) AS labels, "
            "collect(DISTINCT e.textEmbeddingModel) AS models, count(e) AS n, "
            "count(e.textEmbedding) AS embedded",
            idx=entity_idx[start : start + FEATURE_RANGE].tolist(),
        )
        if row["embedded"] < row["n"]:
            raise ExportError(
                f"{row['n'] - row['embedded']:,} entities linked to these items have no "
                "textEmbedding; run `kgctl embed entities` first"
            )
        found += row["idx"]
        uris += row["uris"]
        vectors += row["x"]
        types += [sorted(labels)[0] if labels else "Entity" for labels in row["labels"]]
        models.update(row["models"])
    model = _one_model(models, "entities", "kgctl embed entities")
    order = np.argsort(np.asarray(found, dtype=np.int64), kind="stable")
    x = np.asarray(vectors, dtype=np.float32)[order]
    return [uris[k] for k in order], [types[k] for k in order], x, model


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
    return np.unique(rows, axis=1)
