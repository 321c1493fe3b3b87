"""One persona run: export the domain's training graph, train HDGI, store the snapshot and
the encoder, write the personas back (to the domain's own properties, `personas.stored`),
probe them (`personas.probe`) and record it all on a `Run` node. Personas an older
kgstore stored in one property for every domain are moved per domain first
(`personas.legacy`).

Everything that can refuse (no users, vectors missing, a meta-path the graph lacks) is
checked before the run is recorded or anything is written. What the `Run` keeps: the
config, the loss curve and why training stopped, the learned semantic-attention weight of
each meta-path, the probe figures, the artifact keys of snapshot and encoder, and the
counts.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database, open_database
from kgstore.device import resolve_device
from kgstore.errors import ExportError
from kgstore.export.config import ExportConfig
from kgstore.export.reader import export_snapshot
from kgstore.export.snapshot import GraphSnapshot
from kgstore.export.store import put_snapshot
from kgstore.graph.mapping import Domain
from kgstore.graph.runs import RunKind, record_run_end, record_run_error, record_run_start
from kgstore.personas.checkpoint import put_checkpoint
from kgstore.personas.legacy import migrate_legacy_personas
from kgstore.personas.probe import ProbeResult
from kgstore.personas.probe_run import probe_snapshot, record_probe
from kgstore.personas.writeback import clear_stale_pending, switch_to_run, write_pending
from kgstore.settings import Settings
from kgstore.train.hdgi import HDGIConfig, persona_graph, train_hdgi

Progress = Callable[[dict[str, Any]], None]
"""Called with {"stage": …} and, while training, {"epoch", "epochs", "loss"}."""


@dataclass(frozen=True)
class PersonaReport:
    run: str
    domain: str
    users: int
    held_out_users: int
    training_interactions: int
    metapaths: list[str]
    semantic_weights: dict[str, float]
    epochs: int
    best_epoch: int
    stopped: str
    """`patience` or `epochs` (the cap)."""
    first_loss: float
    best_loss: float
    seconds: float
    train_seconds: float
    device: str
    snapshot: str
    checkpoint: str
    order_assumed: bool
    migrated: dict[str, int]
    """Old-style personas moved to their domain's properties before this run, per domain."""
    probe: dict[str, Any] | None
    """`personas.probe` figures; None when no user has a validation item."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def export_config(config: HDGIConfig) -> ExportConfig:
    return ExportConfig(config.holdout_fraction, config.holdout_seed)


def train_personas(
    db: Database,
    store: ArtifactStore,
    domain: Domain,
    config: HDGIConfig,
    device: str = "cpu",
    progress: Progress | None = None,
    run_id: str | None = None,
) -> PersonaReport:
    """`run_id` lets a caller that follows the run from elsewhere (the CLI, while a worker
    trains) know its `Run` node in advance."""
    say = progress or (lambda _update: None)
    started = time.perf_counter()
    say({"stage": "export"})
    snapshot = export_snapshot(db, domain, export_config(config))
    try:
        graph = persona_graph(snapshot, config)
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    snapshot_key = put_snapshot(store, snapshot)
    run_id = run_id or uuid.uuid4().hex
    migrated = migrate_legacy_personas(db)
    clear_stale_pending(db)
    record_run_start(
        db,
        run_id,
        RunKind.TRAIN,
        {"model": "hdgi", "domain": domain.value, **config.as_dict()},
        {"model": "hdgi"},
    )
    try:
        say({"stage": "train"})
        result = train_hdgi(
            graph,
            config,
            device,
            lambda epoch, epochs, loss: say(
                {"stage": "train", "epoch": epoch, "epochs": epochs, "loss": loss}
            ),
        )
        checkpoint_key = put_checkpoint(store, config, snapshot_key, result)
        say({"stage": "write"})
        write_pending(db, run_id, domain, snapshot.users, result.personas)
        switch_to_run(db, run_id, domain, config.hidden)
        say({"stage": "probe"})
        probe = _probe(db, snapshot, result.personas)
    except BaseException as exc:
        record_run_error(db, run_id, exc)
        raise
    report = PersonaReport(
        run=run_id,
        domain=domain.value,
        users=len(snapshot.users),
        held_out_users=len(snapshot.held_out_users),
        training_interactions=int(snapshot.rated.shape[1]),
        metapaths=result.metapaths,
        semantic_weights=result.semantic_weights,
        epochs=len(result.losses),
        best_epoch=result.best_epoch,
        stopped=result.stopped,
        first_loss=result.losses[0],
        best_loss=min(result.losses),
        seconds=time.perf_counter() - started,
        train_seconds=result.seconds,
        device=device,
        snapshot=snapshot_key,
        checkpoint=checkpoint_key,
        order_assumed=snapshot.order_assumed,
        migrated=migrated,
        probe=probe.as_dict() if probe else None,
    )
    record_run_end(db, run_id, "finished", {**report.as_dict(), "losses": result.losses})
    record_attention(db, run_id, result.semantic_weights)
    if probe:
        record_probe(db, run_id, probe)
    return report


def _probe(db: Database, snapshot: GraphSnapshot, personas: np.ndarray) -> ProbeResult | None:
    """The run's probe, or None when the graph gives no user a validation item (every
    user has fewer than 3 interactions): nothing to probe, not an error of the run."""
    try:
        return probe_snapshot(db, snapshot, personas)
    except ValueError:
        return None


def record_attention(db: Database, run_id: str, weights: dict[str, float]) -> None:
    """The semantic-attention weights also as two parallel list properties of the run,
    so Cypher (cypher/runs/hdgi_attention.cypher) can read them without parsing JSON."""
    db.query(
        "MATCH (r:Run {id: $id}) SET r.metapaths = $paths, r.semanticWeights = $weights",
        id=run_id,
        paths=list(weights),
        weights=[float(w) for w in weights.values()],
    )


def train_personas_from_settings(
    settings: Settings,
    domain: Domain,
    config: HDGIConfig,
    progress: Progress | None = None,
    run_id: str | None = None,
) -> PersonaReport:
    """What the Celery task and `--local` both run: the configured database and artifact
    store, on KGSTORE_DEVICE (CUDA when present)."""
    with open_database(settings) as db:
        return train_personas(
            db,
            ArtifactStore.from_settings(settings),
            domain,
            config,
            resolve_device(settings),
            progress,
            run_id,
        )
