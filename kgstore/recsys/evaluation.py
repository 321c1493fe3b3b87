"""`kgctl evaluate --grid table3`: one recorded evaluation run. Its `Run` node is created
first (status running, so `kgctl runs` shows it while the inputs are read); then the inputs
are read, each step said through the progress callback (every refusal happens there,
before a model trains, and closes the run as failed with its message); then the grid runs,
the table's files and every row's per-user ranks (kgstore.recsys.saved_ranks) are written
into the run's directory, and the `Run` is closed with the config, the table and where the
files lie.

The run reads only the stored graph (sequences, vectors, personas) and run artifacts (the
persona encoder); it writes nothing to the graph but its own `Run` node.

Once the inputs are read, their fingerprint (kgstore.fingerprint: every input tensor,
the config, the code and the machine's arithmetic) is compared with the finished
evaluation runs': when one matches and its files are still there, training again would
give the same table, so the run is closed at once as a reuse of that one — its metrics
and files, `reusedFrom` naming it — unless `reuse` is false.
"""

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from torch import Tensor

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database, open_database
from kgstore.device import resolve_device
from kgstore.embeddings.sentence_transformers import SentenceTransformerEmbedder
from kgstore.fingerprint import fingerprint
from kgstore.graph.mapping import Domain
from kgstore.graph.runs import RunKind, record_run_end, record_run_error, record_run_start
from kgstore.ranking.data import SequenceTensors
from kgstore.recsys.grid import GridConfig, GridInputs, Progress, prepare_grid, run_grid
from kgstore.recsys.grid_progress import carrying_lines
from kgstore.recsys.names import GRID
from kgstore.recsys.saved_ranks import save_ranks
from kgstore.recsys.table import as_json, markdown, table_rows, write_table
from kgstore.recsys.window import validation_score
from kgstore.settings import Settings


@dataclass(frozen=True)
class GridReport:
    run: str
    domain: str
    directory: str
    files: dict[str, str]
    markdown: str
    seconds: float
    validation: float
    """Mean validation NDCG@10 of the trained models at their selected epochs (what
    `--windows` chooses on)."""
    reused_from: str | None = None
    """The finished run with the same fingerprint whose table this is (nothing trained)."""

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def _tensors(seqs: SequenceTensors) -> Iterator[Tensor]:
    for field in fields(seqs):
        value = getattr(seqs, field.name)
        if value is not None:
            yield value


def inputs_fingerprint(inputs: GridInputs, config: GridConfig, device: str) -> str:
    """Everything a grid's numbers depend on besides the code and the machine: config,
    split, vectors, features, the persona run and its held-out users, labels and notes."""
    data = inputs.split.data
    personas = inputs.personas
    described = {
        "grid": GRID,
        "domain": inputs.split.domain.value,
        "config": config.to_dict(),
        "items": list(data.vocabulary.items),
        "users": list(data.vocabulary.users),
        "personas": None if personas is None else [personas.run, sorted(personas.inferred)],
        "vectors": sorted(inputs.user_vectors),
        "labels": inputs.labels,
        "notes": [*inputs.notes, *data.notes],
    }
    arrays = [
        *(t for seqs in (data.train, data.validation, data.test) for t in _tensors(seqs)),
        *(inputs.user_vectors[name] for name in sorted(inputs.user_vectors)),
        *([] if inputs.item_features is None else [inputs.item_features]),
    ]
    return fingerprint(device, described, arrays)


def reusable_grid(db: Database, domain: Domain, digest: str) -> dict[str, Any] | None:
    """The newest finished evaluation of `domain` with fingerprint `digest` whose files
    are still on disk: {"id", "metrics"}."""
    rows = db.query(
        "MATCH (r:Run {kind: 'evaluate', status: 'finished', domain: $domain, "
        "fingerprint: $digest}) WHERE r.reusedFrom IS NULL "
        "RETURN r.id AS id, r.metrics AS metrics ORDER BY r.finishedAt DESC",
        domain=domain.value,
        digest=digest,
    )
    for row in rows:
        metrics = json.loads(row["metrics"])
        if {"validation", "files"} <= metrics.keys() and Path(metrics["artifacts"]).is_dir():
            return {"id": row["id"], "metrics": metrics}
    return None


def reuse_grid(db: Database, run_id: str, earlier: dict[str, Any]) -> GridReport:
    """Close `run_id` as a reuse of `earlier`'s table and return that table's report."""
    metrics = earlier["metrics"]
    db.query(
        "MATCH (r:Run {id: $id}) SET r.reusedFrom = $from", id=run_id, **{"from": earlier["id"]}
    )
    record_run_end(db, run_id, "finished", {**metrics, "reused_from": earlier["id"]})
    out = Path(metrics["artifacts"])
    files = {kind: str(path) for kind, path in metrics["files"].items()}
    return GridReport(
        run_id,
        metrics["domain"],
        str(out),
        files,
        Path(files["md"]).read_text(),
        0.0,
        metrics["validation"],
        earlier["id"],
    )


def evaluate_grid(
    db: Database,
    store: ArtifactStore,
    directory: Path,
    domain: Domain,
    config: GridConfig,
    device: str = "cpu",
    progress: Progress | None = None,
    run_id: str | None = None,
    reuse: bool = True,
) -> GridReport:
    """Run the grid on `domain` and write its table into `directory / run id` (or reuse a
    finished run's, see the module docstring)."""
    run_id = run_id or uuid.uuid4().hex
    progress = carrying_lines(progress)
    record_run_start(
        db,
        run_id,
        RunKind.EVALUATE,
        {"grid": GRID, "domain": domain.value, **config.to_dict()},
        {"model": "sasrec", "grid": GRID},
    )
    try:
        inputs = prepare_grid(
            db,
            store,
            domain,
            config,
            lambda: SentenceTransformerEmbedder(device=device),
            progress,
        )
        digest = inputs_fingerprint(inputs, config, device)
        db.query("MATCH (r:Run {id: $id}) SET r.fingerprint = $digest", id=run_id, digest=digest)
        if reuse and (earlier := reusable_grid(db, domain, digest)):
            return reuse_grid(db, run_id, earlier)
        result = run_grid(inputs, config, device, progress)
        out = directory / run_id
        files = write_table(result, out, run_id)
        test_users = inputs.split.data.test.users.tolist()
        users = [inputs.split.vocabulary.users[index] for index in test_users]
        files["ranks"] = save_ranks(result, users, out, run_id)
    except BaseException as exc:
        record_run_error(db, run_id, exc, error=f"{type(exc).__name__}: {exc}")
        raise
    rows = table_rows(result)
    table = as_json(result, rows, run_id)
    report = GridReport(
        run_id,
        domain.value,
        str(out),
        {kind: str(path) for kind, path in files.items()},
        markdown(result, rows, run_id),
        result.seconds,
        validation_score(result),
    )
    record_run_end(
        db,
        run_id,
        "finished",
        {
            **table,
            "artifacts": str(out),
            "files": report.files,
            "validation": report.validation,
            "persona_run": inputs.personas.run if inputs.personas is not None else None,
            "curves": {name: row.curves for name, row in result.rows.items() if row.curves},
        },
    )
    return report


def evaluate_grid_from_settings(
    settings: Settings,
    domain: Domain,
    config: GridConfig,
    progress: Progress | None = None,
    run_id: str | None = None,
    reuse: bool = True,
) -> GridReport:
    """What the Celery task and `--local` both run."""
    with open_database(settings) as db:
        return evaluate_grid(
            db,
            ArtifactStore.from_settings(settings),
            settings.state_dir / "runs",
            domain,
            config,
            resolve_device(settings),
            progress,
            run_id,
            reuse,
        )
