"""`kgctl train retriever|reranker`: one SASRec variant trained on a domain's split, its
weights in the artifact store and its validation and test metrics on a `Run` node.

The reranker is the base SASRec (user none, item random); a retriever is any user/item
pair. Inputs are read exactly as the grid reads them (`prepare_grid`), so a missing input
is refused before training with the same message.
"""

import uuid
from dataclasses import asdict, dataclass, replace
from typing import Any

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database, open_database
from kgstore.device import resolve_device
from kgstore.embeddings.sentence_transformers import SentenceTransformerEmbedder
from kgstore.graph.mapping import Domain
from kgstore.graph.runs import RunKind, record_run_end, record_run_error, record_run_start
from kgstore.recsys.grid import BASELINE, GridConfig, Progress, parse_row, prepare_grid
from kgstore.recsys.model_store import save_model
from kgstore.settings import Settings
from kgstore.train.sasrec import SASRecConfig, train_sasrec


@dataclass(frozen=True)
class ModelReport:
    run: str
    model: str
    domain: str
    row: str
    best_epoch: int
    epochs: int
    validation: dict[str, float]
    test: dict[str, float]
    protocol: str
    checkpoint: str
    notes: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def train_model(
    db: Database,
    store: ArtifactStore,
    domain: Domain,
    config: SASRecConfig,
    device: str = "cpu",
    progress: Progress | None = None,
    run_id: str | None = None,
    allow_stale: bool = False,
) -> ModelReport:
    """Train the variant `config.user` / `config.item` names and record it. Personas or
    keywords made from other training interactions than the graph holds are refused
    unless `allow_stale`; then the report's notes say so, as the grid's table does."""
    say = progress or (lambda _update: None)
    row = f"{config.user}/{config.item}"
    parse_row(row)
    grid = GridConfig(
        rows=tuple(dict.fromkeys((BASELINE, row))),
        seeds=1,
        rerank="",
        anonymous=False,
        allow_stale=allow_stale,
        sasrec=replace(config, user="none", item="random"),
    )
    inputs = prepare_grid(
        db, store, domain, grid, lambda: SentenceTransformerEmbedder(device=device)
    )
    model = "sasrec-reranker" if row == BASELINE else "sasrec-retriever"
    run_id = run_id or uuid.uuid4().hex
    record_run_start(
        db,
        run_id,
        RunKind.TRAIN,
        {"domain": domain.value, **config.to_dict()},
        {"model": model},
    )
    try:
        result = train_sasrec(
            config,
            inputs.split.data,
            inputs.user_vectors.get(config.user),
            inputs.item_features if config.item == "description" else None,
            device,
            lambda epoch, loss, _metrics: say({"epoch": epoch, "loss": loss}),
        )
        persona_run = inputs.personas.run if config.user == "kg" and inputs.personas else None
        checkpoint = save_model(
            store, result.best_state, inputs.split.vocabulary.items, persona_run
        )
    except BaseException as exc:
        record_run_error(db, run_id, exc)
        raise
    labels = [
        label
        for what, label in inputs.labels.items()
        if what.endswith((f"user {config.user}", f"item {config.item}"))
        or (what == "item texts" and config.item == "description")
    ]
    report = ModelReport(
        run_id,
        model,
        domain.value,
        row,
        result.best_epoch,
        len(result.history),
        result.validation.means(),
        result.test.means(),
        result.test.label,
        checkpoint,
        [*inputs.notes, *result.notes, *labels],
    )
    record_run_end(db, run_id, "finished", report.as_dict())
    return report


def train_model_from_settings(
    settings: Settings,
    domain: Domain,
    config: SASRecConfig,
    progress: Progress | None = None,
    run_id: str | None = None,
    allow_stale: bool = False,
) -> ModelReport:
    with open_database(settings) as db:
        return train_model(
            db,
            ArtifactStore.from_settings(settings),
            domain,
            config,
            resolve_device(settings),
            progress,
            run_id,
            allow_stale,
        )
