"""Snapshots in the artifact store: the export task writes one and passes its key (a
sha256 of the bytes) to training, so a worker on another machine reads exactly the graph
that was exported, and an unchanged graph is stored once."""

from kgstore.artifacts import ArtifactStore
from kgstore.export.snapshot import GraphSnapshot

SUFFIX = ".snapshot.pt"


def put_snapshot(store: ArtifactStore, snapshot: GraphSnapshot) -> str:
    return store.put(snapshot.to_bytes(), SUFFIX)


def get_snapshot(store: ArtifactStore, key: str) -> GraphSnapshot:
    return GraphSnapshot.from_bytes(store.get(key))
