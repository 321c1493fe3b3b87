"""The text vectors of exported nodes: from the embed runs' artifact chunks where the graph
says they are the same, from the graph otherwise.

Shipping vectors through Bolt is most of an export's time (384 doubles per node, decoded
one by one), while the graph's small per-node columns — which run wrote the vector
(`textEmbeddingRun`) and the hash of its text and model (`textEmbeddingHash`) — name the
chunk row that `kgctl embed` stored beside it (`kgstore.embeddings.vector_artifacts`).
A node is read from the graph instead when its run kept no chunk (graphs embedded before
chunks existed, vectors written by anything but `kgctl embed`), the chunk is not in the
store, or the hashes differ.

The check against the graph: a fixed sample of the chunk-resolved nodes is also read from
the graph and compared bit for bit; one difference and every node of the kind is read from
the graph (a script that rewrote `textEmbedding` and left `textEmbeddingRun` behind). That
catches wholesale rewrites, not a single edited node: anything but `kgctl embed` that sets
`textEmbedding` must also `REMOVE n.textEmbeddingRun` (README, "Text vectors").
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.embeddings.vector_artifacts import get_chunk
from kgstore.errors import ArtifactNotFound

GRAPH_RANGE = 5_000
"""Nodes per query when vectors come from the graph: 5,000 vectors of 384 doubles are a
15 MB record, which the server builds on its heap and the client decodes at once."""
SAMPLE = 256
"""Chunk-resolved nodes per kind checked against the graph, spread evenly over the rows."""


@dataclass
class VectorSources:
    """How many vectors of a node kind came from where, for the export's summary."""

    artifacts: int = 0
    graph: int = 0
    checked: int = 0
    mismatched: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "fromArtifacts": self.artifacts,
            "fromGraph": self.graph,
            "checkedAgainstGraph": self.checked,
            "mismatched": self.mismatched,
        }


@dataclass
class NodeVectors:
    """One node kind's rows as the graph names them: sorted `idx`, and per row the key,
    the embed run and the text hash ('' where the node has none)."""

    label: str
    idx: np.ndarray
    keys: Sequence[str]
    runs: Sequence[str]
    hashes: Sequence[str]
    sources: VectorSources = field(default_factory=VectorSources)


@dataclass
class Resolved:
    """Rows found in chunks: `rows[k]` takes `vectors[k]`."""

    rows: np.ndarray
    vectors: np.ndarray

    @classmethod
    def none(cls) -> "Resolved":
        return cls(np.empty(0, np.int64), np.empty((0, 0), np.float32))


def read_vectors(db: Database, store: ArtifactStore | None, nodes: NodeVectors) -> np.ndarray:
    """float32 [rows, dimension], row k the vector of node `nodes.idx[k]`; `nodes.sources`
    says where they came from. Every node must have a `textEmbedding` (checked before)."""
    rows = len(nodes.idx)
    if rows == 0:
        return np.zeros((0, 0), dtype=np.float32)
    found = _from_chunks(db, store, nodes) if store is not None else Resolved.none()
    if len(found.rows) and not _sample_matches(db, nodes, found):
        nodes.sources.mismatched = 1
        found = Resolved.none()
    missing = np.ones(rows, dtype=bool)
    missing[found.rows] = False
    missing_rows = np.flatnonzero(missing)
    from_graph = _from_graph(db, nodes.label, nodes.idx[missing_rows])
    dimension = found.vectors.shape[1] if len(found.rows) else from_graph.shape[1]
    vectors = np.empty((rows, dimension), dtype=np.float32)
    if len(found.rows):
        vectors[found.rows] = found.vectors
    if len(missing_rows):
        vectors[missing_rows] = from_graph
    nodes.sources.artifacts = len(found.rows)
    nodes.sources.graph = len(missing_rows)
    return vectors


def _from_chunks(db: Database, store: ArtifactStore, nodes: NodeVectors) -> Resolved:
    """The rows whose run's chunks hold their key with the same hash, and those vectors."""
    runs = sorted({run for run in nodes.runs if run})
    if not runs:
        return Resolved.none()
    chunk_keys = db.columns(
        "MATCH (r:Run) WHERE r.id IN $runs "
        "RETURN collect(r.id) AS runs, collect(coalesce(r.vectorArtifacts, [])) AS chunks",
        runs=runs,
    )
    wanted: dict[tuple[str, str], int] = {
        (run, key): row
        for row, (run, key) in enumerate(zip(nodes.runs, nodes.keys, strict=True))
        if run
    }
    rows: list[np.ndarray] = []
    vectors: list[np.ndarray] = []
    for run, keys in zip(chunk_keys["runs"], chunk_keys["chunks"], strict=True):
        for artifact in keys:
            try:
                chunk = get_chunk(store, artifact)
            except ArtifactNotFound:
                continue
            taken = [
                (position, row)
                for position, (key, text_hash) in enumerate(
                    zip(chunk.keys, chunk.hashes, strict=True)
                )
                if (row := wanted.pop((run, key), None)) is not None
                and nodes.hashes[row] == text_hash
            ]
            if taken:
                positions, chunk_rows = np.asarray(taken, dtype=np.int64).T
                rows.append(chunk_rows)
                vectors.append(chunk.vectors[positions])
    if not rows:
        return Resolved.none()
    return Resolved(np.concatenate(rows), np.concatenate(vectors))


def _sample_matches(db: Database, nodes: NodeVectors, found: Resolved) -> bool:
    """Whether an evenly spread sample of the chunk-resolved rows equals the graph's."""
    order = np.argsort(found.rows)
    picks = np.unique(order[np.linspace(0, len(order) - 1, SAMPLE).astype(np.int64)])
    graph = _from_graph(db, nodes.label, nodes.idx[found.rows[picks]])
    nodes.sources.checked = len(picks)
    return bool(np.array_equal(graph, found.vectors[picks]))


def _from_graph(db: Database, label: str, idx: np.ndarray) -> np.ndarray:
    """The graph's vectors of the nodes with these idx values, in that order."""
    if len(idx) == 0:
        return np.empty((0, 0), dtype=np.float32)
    got: list[int] = []
    vectors: list[list[float]] = []
    for start in range(0, len(idx), GRAPH_RANGE):
        row = db.columns(
            f"UNWIND $idx AS x MATCH (n:{label} {{idx: x}}) "
            "RETURN collect(n.idx) AS idx, collect(n.textEmbedding) AS x",
            idx=idx[start : start + GRAPH_RANGE].tolist(),
        )
        got += row["idx"]
        vectors += row["x"]
    got_idx = np.asarray(got, dtype=np.int64)
    order = np.argsort(got_idx, kind="stable")
    return np.asarray(vectors, dtype=np.float32)[order[np.searchsorted(got_idx[order], idx)]]
