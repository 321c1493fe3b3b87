"""One persona run: export the domain's training graph, train HDGI, store the snapshot and
the encoder, write the personas back (to the domain's own properties, `personas.stored`),
probe them (`personas.probe`) and record it all on a `Run` node. Personas an older
kgstore stored in one property for every domain are moved per domain first
(`personas.legacy`).

Everything that can refuse (no users, vectors missing, a meta-path the graph lacks) is
checked before the run is recorded or anything is written. What the `Run` keeps: the
config, the loss curve and why training stopped, the learned semantic-attention weight of
each meta-path, the probe figures, the artifact keys of snapshot and encoder, the counts
and a fingerprint (kgstore.fingerprint) of snapshot, config, code and machine arithmetic.
When the personas the users hold now are those of a finished run with the same
fingerprint, training again would write the same vectors: that run is reused (its report
returned with `reused`), nothing is trained or written, unless `reuse=False`.
"""

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
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
from kgstore.fingerprint import fingerprint
from kgstore.graph.mapping import Domain
from kgstore.graph.runs import RunKind, record_run_end, record_run_error, record_run_start
from kgstore.personas.checkpoint import put_checkpoint
from kgstore.personas.legacy import migrate_legacy_personas
from kgstore.personas.probe import ProbeResult
from kgstore.personas.probe_run import probe_snapshot, record_probe
from kgstore.personas.stored import persona_users, stored_run
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
    fingerprint: str = ""
    reused: bool = False
    """True when this is an earlier run's report: same fingerprint, its personas still
    stored, nothing trained."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_metrics(cls, metrics: dict[str, Any]) -> "PersonaReport":
        """The report a finished run recorded (its `Run.metrics`), marked reused."""
        names = {field.name for field in fields(cls)}
        return cls(**{**{k: v for k, v in metrics.items() if k in names}, "reused": True})


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
    reuse: bool = True,
) -> PersonaReport:
    """`run_id` lets a caller that follows the run from elsewhere (the CLI, while a worker
    trains) know its `Run` node in advance (a reused run keeps its own id)."""
    say = progress or (lambda _update: None)
    started = time.perf_counter()
    say({"stage": "export"})
    snapshot = export_snapshot(db, domain, export_config(config), store=store)
    try:
        graph = persona_graph(snapshot, config)
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    snapshot_key = put_snapshot(store, snapshot)
    run_id = run_id or uuid.uuid4().hex
    migrated = migrate_legacy_personas(db)
    clear_stale_pending(db)
    run_config = {"model": "hdgi", "domain": domain.value, **config.as_dict()}
    digest = fingerprint(device, {"snapshot": snapshot_key, "config": run_config})
    if reuse and (earlier := reusable_run(db, domain, digest, len(snapshot.users))):
        return replace(earlier, migrated=migrated)
    record_run_start(
        db, run_id, RunKind.TRAIN, run_config, {"model": "hdgi", "fingerprint": digest}
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
        fingerprint=digest,
    )
    record_run_end(db, run_id, "finished", {**report.as_dict(), "losses": result.losses})
    record_attention(db, run_id, result.semantic_weights)
    if probe:
        record_probe(db, run_id, probe)
    return report


def reusable_run(db: Database, domain: Domain, digest: str, users: int) -> PersonaReport | None:
    """The report of the finished run with fingerprint `digest` when the `users` users of
    the snapshot hold its `domain` personas now (another run since, or personas removed,
    and it is trained again)."""
    current = stored_run(db, domain)
    if current is None:
        return None
    rows = db.query(
        "MATCH (r:Run {id: $id, status: 'finished', fingerprint: $digest}) RETURN r.metrics AS m",
        id=current,
        digest=digest,
    )
    if not rows or len(persona_users(db, domain, current)) != users:
        return None
    return PersonaReport.from_metrics(json.loads(rows[0]["m"]))


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
    reuse: bool = True,
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
            reuse,
        )
