"""`kgctl evaluate --grid table3`: one recorded evaluation run. Its `Run` node is created
first (status running, so `kgctl runs` shows it while the inputs are read); then the inputs
are read, each step said through the progress callback (every refusal happens there,
before a model trains, and closes the run as failed with its message); then the grid runs,
the table's files and every row's per-user ranks (kgstore.recsys.saved_ranks) are written
into the run's directory, and the `Run` is closed with the config, the table and where the
files lie.

The run reads only the stored graph (sequences, vectors, personas) and run artifacts (the
persona encoder); it writes nothing to the graph but its own `Run` node.
"""

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database, open_database
from kgstore.device import resolve_device
from kgstore.embeddings.sentence_transformers import SentenceTransformerEmbedder
from kgstore.graph.mapping import Domain
from kgstore.graph.runs import RunKind, record_run_end, record_run_error, record_run_start
from kgstore.recsys.grid import GridConfig, Progress, prepare_grid, run_grid
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

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def evaluate_grid(
    db: Database,
    store: ArtifactStore,
    directory: Path,
    domain: Domain,
    config: GridConfig,
    device: str = "cpu",
    progress: Progress | None = None,
    run_id: str | None = None,
) -> GridReport:
    """Run the grid on `domain` and write its table into `directory / run id`."""
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
    record_run_end(
        db,
        run_id,
        "finished",
        {
            **table,
            "artifacts": str(out),
            "persona_run": inputs.personas.run if inputs.personas is not None else None,
            "curves": {name: row.curves for name, row in result.rows.items() if row.curves},
        },
    )
    return GridReport(
        run_id,
        domain.value,
        str(out),
        {kind: str(path) for kind, path in files.items()},
        markdown(result, rows, run_id),
        result.seconds,
        validation_score(result),
    )


def evaluate_grid_from_settings(
    settings: Settings,
    domain: Domain,
    config: GridConfig,
    progress: Progress | None = None,
    run_id: str | None = None,
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
        )
