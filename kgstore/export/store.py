"""Snapshots in the artifact store: the export task writes one and passes its key (a
sha256 of the bytes) to training, so a worker on another machine reads exactly the graph
that was exported, and an unchanged graph is stored once."""

import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.export.config import ExportConfig
from kgstore.export.pyg import to_hetero_data
from kgstore.export.reader import export_snapshot
from kgstore.export.snapshot import GraphSnapshot
from kgstore.graph.mapping import Domain
from kgstore.graph.runs import RunKind, record_run_end, record_run_error, record_run_start

SUFFIX = ".snapshot.pt"


def put_snapshot(store: ArtifactStore, snapshot: GraphSnapshot) -> str:
    return store.put(snapshot.to_bytes(), SUFFIX)


def get_snapshot(store: ArtifactStore, key: str) -> GraphSnapshot:
    return GraphSnapshot.from_bytes(store.get(key))


def export_pyg_file(
    db: Database, store: ArtifactStore, domain: Domain, config: ExportConfig, out: Path
) -> tuple[str, dict[str, Any]]:
    """`kgctl export pyg`: the domain's snapshot into the store (its key returned) and as a
    `HeteroData` saved with `torch.save` to `out` (load it with `weights_only=False`); an
    `export` Run records the counts."""
    run_id = uuid.uuid4().hex
    snapshot = export_snapshot(db, domain, config, store=store)
    record_run_start(db, run_id, RunKind.EXPORT, {"domain": domain.value, **asdict(config)})
    try:
        key = put_snapshot(store, snapshot)
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        torch.save(to_hetero_data(snapshot, seed=config.holdout_seed), partial)
        partial.replace(out)
    except BaseException as exc:
        record_run_error(db, run_id, exc)
        raise
    summary = {**snapshot.summary(), "snapshot": key, "file": str(out), "run": run_id}
    record_run_end(db, run_id, "finished", summary)
    return key, summary
