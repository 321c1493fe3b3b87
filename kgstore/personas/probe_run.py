"""Probing a persona run from the stored graph: its personas (re-encoded from its
checkpoint, as written back), its training snapshot and each user's validation item, and
the figures recorded on its `Run` node (`probe`) for `kgctl runs`, Cypher and the report.
"""

import json

import numpy as np

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.export.snapshot import GraphSnapshot
from kgstore.graph.mapping import Domain
from kgstore.graph.sequences import read_sequences
from kgstore.graph.split import LeaveOneOut
from kgstore.personas.infer import domain_encoder, latest_persona_run
from kgstore.personas.probe import ProbeResult, probe_personas


def probe_snapshot(db: Database, snapshot: GraphSnapshot, personas: np.ndarray) -> ProbeResult:
    """Probe personas of `snapshot`'s users against the validation items of the graph's
    current sequences of the snapshot's domain."""
    split = LeaveOneOut.of(read_sequences(db, Domain(snapshot.domain)))
    return probe_personas(snapshot, personas, split.validation)


def record_probe(db: Database, run_id: str, result: ProbeResult) -> None:
    """The probe as the run's `probe` property (JSON, for Cypher) and in its metrics (for
    `kgctl report`), replacing an earlier probe of the run."""
    [row] = db.query("MATCH (r:Run {id: $id}) RETURN r.metrics AS metrics", id=run_id)
    metrics = {**json.loads(row["metrics"] or "{}"), "probe": result.as_dict()}
    db.query(
        "MATCH (r:Run {id: $id}) SET r.probe = $probe, r.metrics = $metrics",
        id=run_id,
        probe=json.dumps(result.as_dict()),
        metrics=json.dumps(metrics),
    )


def probe_persona_run(
    db: Database, store: ArtifactStore, domain: Domain, run_id: str | None = None
) -> tuple[str, ProbeResult]:
    """(run id, probe) of `run_id` or the domain's newest finished persona run; recorded
    on the run."""
    run_id = run_id or latest_persona_run(db, domain)
    encoder = domain_encoder(db, store, run_id, domain)
    result = probe_snapshot(db, encoder.snapshot, encoder.encode_all())
    record_probe(db, run_id, result)
    return run_id, result
