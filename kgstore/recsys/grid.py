"""The paper's Table 3 as one grid: every retriever row (user / item representation) over
several seeds on one domain's leave-one-out split, the reranking row, the anonymous-session
row and the cold-start slice — ranks per user kept, so every number of the table and every
paired test is derived from them (kgstore.recsys.table).

Per seed, each row is one `train_sasrec` run with that seed. The reranker is the base
SASRec (user none, item random) — the `none/random` row of the same seed, trained once —
reordering the top `candidates` of the `rerank` retriever row. The anonymous-session row
evaluates the first `kg` (or `kg:<run>`) row's model on the users the persona run held out
of persona learning, with no user id: their persona is inferred from the *session* — exactly
the items of the model's input window before the test item (the last `max_len` of the
training and validation items), never the test item itself.
"""

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.embeddings.base import Embedder
from kgstore.errors import ConfigError
from kgstore.generation.pipeline import keyword_items
from kgstore.graph.mapping import Domain
from kgstore.ranking.data import SequenceTensors
from kgstore.ranking.evaluate import evaluate, rerank, retrieve
from kgstore.recsys.grid_progress import PrepareSteps
from kgstore.recsys.inputs import (
    DomainSplit,
    Personas,
    item_text_features,
    keyword_vectors,
    load_split,
    persona_encoders,
    persona_source_vectors,
    session_personas,
    training_mean_vectors,
)
from kgstore.recsys.leakage import checked, keyword_check, persona_check
from kgstore.recsys.names import (
    BASELINE_PERSONAS,
    ITEMS,
    RUN_PREFIX,
    USERS,
    is_persona_run_source,
    is_user_source,
    sasrec_user,
)
from kgstore.train.config import config_from_dict, read_config_table
from kgstore.train.sasrec import SELECT, SASRecConfig, TrainResult, diverged_in, train_sasrec

BASELINE = "none/random"
TABLE3_ROWS = (
    "none/random",
    "none/description",
    "random/description",
    "llm/description",
    "kg/description",
)
ANONYMOUS = "anonymous session"
COLD_START = "cold-start"
ALL = "all users"

Progress = Callable[[dict[str, Any]], None]
"""Called with the preparation's steps (kgstore.recsys.grid_progress), then with {"done",
"total", "row", "seed"} and, while a row trains, {"epoch", "loss"}."""


def parse_row(name: str) -> tuple[str, str]:
    """`"kg/description"` -> ("kg", "description"), or a ConfigError listing the choices."""
    user, _, item = name.partition("/")
    if not is_user_source(user) or item not in ITEMS:
        users = [*USERS, *BASELINE_PERSONAS, f"{RUN_PREFIX}<persona run id>"]
        raise ConfigError(
            f"row {name!r} is not user/item with user in {users} and item in {list(ITEMS)}"
        )
    return user, item


def rerank_name(retriever: str) -> str:
    return f"rerank {retriever} by {BASELINE}"


def anonymous_name(retriever: str) -> str:
    return f"{retriever} ({ANONYMOUS})"


@dataclass(frozen=True)
class GridConfig:
    """What the grid trains (`kgctl evaluate --grid table3 --config FILE`: top-level keys
    below, and a `[sasrec]` table of `SASRecConfig` keys shared by every row — all but
    user, item and seed, which the grid sets)."""

    rows: tuple[str, ...] = TABLE3_ROWS
    """`user/item`: user none | random | llm | kg | kg:<persona run> | mean | untrained |
    metapath2vec."""
    seeds: int = 3
    """Seeds sasrec.seed, sasrec.seed + 1, …"""
    candidates: int = 100
    """K of the retriever: how many items the reranker reorders."""
    rerank: str = "kg/description"
    """The retriever row whose candidates the base SASRec reorders ("" for no rerank row)."""
    anonymous: bool = True
    cold_start: int = 5
    """The cold-start slice: users with at most this many training interactions."""
    min_users: int = 20
    allow_stale: bool = False
    """Run on personas or keywords made from other training interactions than the graph
    holds now (refused otherwise); the table is labelled stale (kgstore.recsys.leakage)."""
    label: str = ""
    """What this grid is, when it is not the paper's protocol (the quick demo grid): the
    table's first line under its title."""
    sasrec: SASRecConfig = field(default_factory=SASRecConfig)

    def __post_init__(self) -> None:
        for name in self.rows:
            parse_row(name)
        if BASELINE not in self.rows:
            raise ConfigError(f"rows must include {BASELINE} (the baseline of every test)")
        if len(set(self.rows)) != len(self.rows):
            raise ConfigError("rows repeat a row")
        if self.rerank and self.rerank not in self.rows:
            raise ConfigError(f"rerank {self.rerank!r} is not one of the rows")
        if self.rerank and self.sasrec.sampled_negatives:
            raise ConfigError(
                "rerank ranks the retriever's top candidates by full ranking: with "
                'sampled_negatives the two rows would not be comparable (set rerank = "")'
            )
        if self.anonymous and self.kg_row is None:
            raise ConfigError("anonymous = true needs a row with user kg (or kg:<run>)")
        for name in ("seeds", "candidates", "min_users"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.cold_start < 0:
            raise ConfigError("cold_start must be 0 or more")

    @property
    def kg_row(self) -> str | None:
        """The first row with a persona run's personas: the anonymous-session row's model."""
        return next((row for row in self.rows if is_persona_run_source(parse_row(row)[0])), None)

    @property
    def seed_values(self) -> list[int]:
        return [self.sasrec.seed + offset for offset in range(self.seeds)]

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> "GridConfig":
        """Strict: an unknown key, at the top or in `[sasrec]`, is a ConfigError."""
        data = dict(data)
        sasrec = data.pop("sasrec", {})
        if not isinstance(sasrec, dict):
            raise ConfigError(f"{source}: sasrec must be a table of SASRecConfig keys")
        fixed = sorted({"user", "item"} & set(sasrec))
        if fixed:
            raise ConfigError(f"{source}: [sasrec] {fixed[0]} is set by each row, not here")
        base = SASRecConfig.from_dict(sasrec, f"{source} [sasrec]")
        return replace(config_from_dict(cls, data, source), sasrec=base)

    @classmethod
    def from_file(cls, path: Path | str) -> "GridConfig":
        return cls.from_dict(read_config_table(path), str(path))

    def to_dict(self) -> dict[str, Any]:
        sasrec = {k: v for k, v in self.sasrec.to_dict().items() if k not in ("user", "item")}
        return {**asdict(self), "rows": list(self.rows), "sasrec": sasrec}


@dataclass
class GridInputs:
    """Everything the rows need, read from the graph before anything trains."""

    split: DomainSplit
    user_vectors: dict[str, Tensor]
    item_features: Tensor | None
    personas: Personas | None
    labels: dict[str, str]
    notes: list[str] = field(default_factory=list)
    """Labels the table must carry (stale inputs run with `allow_stale`)."""


def prepare_grid(
    db: Database,
    store: ArtifactStore,
    domain: Domain,
    config: GridConfig,
    embedder: Callable[[], Embedder],
    progress: Progress | None = None,
) -> GridInputs:
    """Read the split and only the representations the rows use; every missing input is an
    error here, before training (`embedder` is built only when a row has user llm). Each
    read is said as it starts and ends through `progress` (kgstore.recsys.grid_progress).
    Inputs made from held-out interactions are refused; inputs made from another split
    are refused unless `config.allow_stale`, then labelled (kgstore.recsys.leakage)."""
    steps = PrepareSteps(progress)
    with steps.step("sequences") as read:
        split = load_split(db, domain, config.sasrec.max_len, config.min_users)
        read.update(users=len(split.vocabulary.users), items=len(split.vocabulary.items))
        read["evaluated users"] = len(split.split.test)
    users = {parse_row(row)[0] for row in config.rows}
    items = {parse_row(row)[1] for row in config.rows}
    vectors: dict[str, Tensor] = {}
    labels = {
        "item random": "a learned item embedding table",
        "user random": "a learned per-user embedding",
    }
    features = None
    if "description" in items or "mean" in users:
        with steps.step("item texts") as read:
            features, labels["item texts"] = item_text_features(db, domain, split.vocabulary)
            read["items"] = features.shape[0] - 1
        labels["item description"] = (
            "stored Item.textEmbedding through a learned projection"
            if config.sasrec.item_text == "projection"
            else "item table started from the stored Item.textEmbedding (principal components)"
        )
    sources = [parse_row(row)[0] for row in config.rows]
    encoders = persona_encoders(db, store, domain, sources)
    checks = [
        persona_check(encoder.snapshot, split.split, encoder.run)
        for encoder in {id(e.snapshot): e for e in encoders.values()}.values()
    ]
    if "llm" in users:
        made_from = keyword_items(db, domain, list(split.vocabulary.users))
        checks.append(keyword_check(made_from, split.split, domain.value))
    notes = checked(checks, config.allow_stale)  # before any persona is inferred from them
    found: dict[str, Personas] = {}
    for source, encoder in encoders.items():
        with steps.step("personas" if source == "kg" else f"personas {source}") as read:
            found[source] = persona_source_vectors(db, store, domain, split, source, encoder)
            read.update(run=found[source].run, inferred=len(found[source].inferred))
            made = len(split.vocabulary.users) - len(found[source].inferred)
            read["stored" if source == "kg" else "encoded"] = made
        vectors[source] = found[source].vectors
        labels[f"user {source}"] = found[source].label
    if "mean" in users:
        assert features is not None
        vectors["mean"] = training_mean_vectors(features, split)
        labels["user mean"] = "each user's mean stored Item.textEmbedding over their training items"
    kg_row = config.kg_row
    personas = found[parse_row(kg_row)[0]] if kg_row is not None else None
    if "llm" in users:
        with steps.step("keywords") as read:
            vectors["llm"], labels["user llm"] = keyword_vectors(
                db, embedder(), domain, split.vocabulary
            )
            read["users"] = len(vectors["llm"])
    return GridInputs(split, vectors, features, personas, labels, notes)


@dataclass
class RowRanks:
    """One table row: the test positions it covers and the rank of each one's positive per
    seed (`[seeds, positions]`), with the best epoch and the training curve of each seed's
    model (rows that reuse another row's models have no curves)."""

    name: str
    positions: Tensor
    ranks: list[Tensor] = field(default_factory=list)
    best_epochs: list[int] = field(default_factory=list)
    curves: list[dict[str, Any]] = field(default_factory=list)

    @property
    def matrix(self) -> Tensor:
        return torch.stack(self.ranks)


@dataclass
class GridResult:
    domain: Domain
    config: GridConfig
    rows: dict[str, RowRanks]
    slices: dict[str, Tensor]
    """Test positions of each slice: all users, cold-start, anonymous session."""
    notes: list[str]
    labels: dict[str, str]
    device: str
    seconds: float


def training_curve(result: TrainResult, seed: int) -> dict[str, Any]:
    """One model's mean loss per epoch and its validation metric of model selection at the
    epochs it was evaluated: what a report plots (the full metrics are not kept)."""
    metric = result.validation.name(*SELECT)
    evaluated = [record for record in result.history if record.validation is not None]
    return {
        "seed": seed,
        "loss": [record.loss for record in result.history],
        "metric": metric,
        "validation_epochs": [record.epoch for record in evaluated],
        "validation": [record.validation[metric] for record in evaluated],
        "best_epoch": result.best_epoch,
    }


def take(seqs: SequenceTensors, positions: Tensor) -> SequenceTensors:
    """The evaluation rows `positions` of `seqs`."""
    return SequenceTensors(
        items=seqs.items[positions],
        lengths=seqs.lengths[positions],
        users=seqs.users[positions],
        positives=seqs.positives[positions],
        history=seqs.history[positions],
    )


def input_sessions(inputs: GridInputs, seqs: SequenceTensors) -> list[list[str]]:
    """The item ids of each row's input window: the anonymous session."""
    items = inputs.split.vocabulary.items
    return [
        [items[index - 1] for index in row[:length].tolist()]
        for row, length in zip(seqs.items, seqs.lengths.tolist(), strict=True)
    ]


def grid_slices(inputs: GridInputs, config: GridConfig) -> dict[str, Tensor]:
    test = inputs.split.data.test
    users = inputs.split.vocabulary.users
    train = inputs.split.split.train
    ids = [users[index] for index in test.users.tolist()]
    cold = [p for p, user in enumerate(ids) if len(train[user]) <= config.cold_start]
    slices = {ALL: torch.arange(len(test)), COLD_START: torch.tensor(cold, dtype=torch.long)}
    if config.anonymous and inputs.personas is not None:
        held = [p for p, user in enumerate(ids) if user in inputs.personas.held_out]
        slices[ANONYMOUS] = torch.tensor(held, dtype=torch.long)
    return slices


def run_grid(
    inputs: GridInputs,
    config: GridConfig,
    device: str = "cpu",
    progress: Progress | None = None,
) -> GridResult:
    """Train and evaluate every row for every seed (see the module docstring)."""
    say = progress or (lambda _update: None)
    started = time.perf_counter()
    data = inputs.split.data
    slices = grid_slices(inputs, config)
    everyone = slices[ALL]
    rows = {name: RowRanks(name, everyone) for name in config.rows}
    if config.rerank:
        rows[rerank_name(config.rerank)] = RowRanks(rerank_name(config.rerank), everyone)
    anonymous = None
    if ANONYMOUS in slices and len(slices[ANONYMOUS]):
        kg_row = config.kg_row
        assert kg_row is not None and inputs.personas is not None
        held = take(data.test, slices[ANONYMOUS])
        anonymous_vectors = inputs.user_vectors[parse_row(kg_row)[0]].clone()
        anonymous_vectors[held.users] = session_personas(
            inputs.personas.encoder, input_sessions(inputs, held)
        )
        anonymous = (kg_row, held, anonymous_vectors)
        rows[anonymous_name(kg_row)] = RowRanks(anonymous_name(kg_row), slices[ANONYMOUS])
    total = config.seeds * len(config.rows)
    done = 0
    for seed in config.seed_values:
        models = {}
        for name in config.rows:
            user, item = parse_row(name)
            row_config = replace(config.sasrec, user=sasrec_user(user), item=item, seed=seed)
            step = {"done": done, "total": total, "row": name, "seed": seed}
            say(step)

            def epoch_progress(epoch: int, loss: float, _metrics: Any, step=step) -> None:
                say({**step, "epoch": epoch, "loss": loss})

            result = train_sasrec(
                row_config,
                data,
                inputs.user_vectors.get(user),
                inputs.item_features if item == "description" else None,
                device,
                epoch_progress,
            )
            rows[name].ranks.append(result.test.rank)
            rows[name].best_epochs.append(result.best_epoch)
            rows[name].curves.append(training_curve(result, seed))
            models[name] = result.model
            done += 1
        sasrec = config.sasrec
        if config.rerank:
            vectors = inputs.user_vectors.get(parse_row(config.rerank)[0])
            candidates = retrieve(
                models[config.rerank],
                data.test,
                config.candidates,
                sasrec.exclude_history,
                sasrec.eval_batch_size,
                vectors,
            )
            base = replace(sasrec, user="none", item="random", seed=seed)
            with diverged_in(base, f"reranking the candidates of {config.rerank}, test"):
                reranked = rerank(
                    models[BASELINE],
                    data.test,
                    candidates,
                    sasrec.ks,
                    sasrec.eval_batch_size,
                    None,
                    sasrec.exclude_history,
                )
            rows[rerank_name(config.rerank)].ranks.append(reranked.rank)
        if anonymous is not None:
            kg_row, held, anonymous_vectors = anonymous
            user, item = parse_row(kg_row)
            with diverged_in(
                replace(sasrec, user=sasrec_user(user), item=item, seed=seed),
                "anonymous sessions, test",
            ):
                metrics = evaluate(
                    models[kg_row],
                    held,
                    sasrec.ks,
                    sasrec.exclude_history,
                    sasrec.sampled_negatives,
                    seed + 1,
                    sasrec.eval_batch_size,
                    anonymous_vectors,
                )
            rows[anonymous_name(kg_row)].ranks.append(metrics.rank)
    say({"done": done, "total": total})
    notes = [*inputs.notes, *data.notes]
    sasrec = config.sasrec
    notes.append(
        f"sasrec: {sasrec.min_epochs} to {sasrec.max_epochs} epochs, patience "
        f"{sasrec.patience}, max_len {sasrec.max_len}, loss {loss_text(sasrec)}; "
        f"seeds {config.seed_values}"
    )
    if config.label:
        notes.insert(0, config.label)
    return GridResult(
        inputs.split.domain,
        config,
        rows,
        slices,
        notes,
        dict(inputs.labels),
        str(device),
        time.perf_counter() - started,
    )


def loss_text(sasrec: SASRecConfig) -> str:
    """The training loss as a table says it."""
    if sasrec.loss == "sampled_ce":
        return (
            f"sampled_ce (softmax over the target and {sasrec.num_negatives} uniform items "
            "shared by each batch, not the whole catalogue)"
        )
    if sasrec.loss == "bce":
        return f"bce ({sasrec.num_negatives} uniform negatives per position)"
    return "ce (full softmax over every item)"


def positions_in(row: RowRanks, positions: Tensor) -> tuple[Tensor, Tensor]:
    """(`[seeds, n]` ranks, the slice positions covered) of `row` on a slice."""
    keep = np.isin(row.positions.numpy(), positions.numpy())
    covered = row.positions[torch.from_numpy(keep)]
    return row.matrix[:, torch.from_numpy(keep)], covered
