"""Training SASRec — the base model, the persona retriever and the reranker are all this
loop with a different `SASRecConfig` — on the leave-one-out split (kgstore.ranking.data).

One epoch visits every training sequence once, in length-bucketed batches; the loss is
taken at every position of a sequence (full-softmax cross-entropy by default, the paper's
BCE with sampled negatives as an option). After every `eval_every` epochs the model is
evaluated on the validation items and the state with the best validation NDCG@10 is kept;
from epoch `min_epochs` on, training stops after `patience` evaluations without
improvement. The kept state is then
evaluated on the test items. Everything random (initialisation, dropout, batch order,
negatives) follows `seed`, so the same seed and device give the same numbers.
"""

import copy
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor

from kgstore.errors import ModelDiverged
from kgstore.models.sasrec import SASRec
from kgstore.ranking.data import SequenceData, length_batches
from kgstore.ranking.evaluate import evaluate, user_input
from kgstore.ranking.metrics import RankingMetrics
from kgstore.train.config import config_from_dict, config_from_file
from kgstore.train.determinism import deterministic_kernels

SELECT = ("NDCG", 10)


@dataclass(frozen=True)
class SASRecConfig:
    """Model and training hyper-parameters (stored as `Run.config`).

    The defaults are those the paper reports (d = 64, 2 blocks, dropout 0.1, Adam at lr
    1e-3) and Kang & McAuley's (maximum length 50, one head, batch 128, Adam β2 = 0.98).

    `user`: none | random (a learned per-user embedding) | llm | kg (given user vectors:
    embedded LLM keywords or HDGI personas, through a learned projection). `item`: random
    (a free embedding table) | description (the item's text embedding), used as
    `item_text` says: `init` (default) starts the free table from the text embeddings'
    top `hidden_channels` principal components and trains it like `random`; `projection`
    keeps the text embeddings frozen behind a learned linear map. The paper contrasts
    "randomly initialised item embeddings" with LLM ones, hence `init`; and a frozen
    projection cannot tell apart items whose texts are alike, so it underfits (movies demo,
    validation NDCG@10 after 30 epochs: projection 0.052, random 0.116, init 0.121).
    `loss`: ce (full softmax) | bce (`num_negatives` uniform negatives per
    position) | sampled_ce (softmax over the target and `num_negatives` uniform items
    shared by the batch: full-softmax cost no longer grows with the catalogue; books demo,
    none/random: 2.7x faster a model, test NDCG@10 within a few thousandths of ce).
    `min_epochs`: early stopping is not considered before this epoch. A table
    started from the texts scores well at once and then marks time for a few epochs while
    the loss keeps falling; with patience alone one books-demo seed of none/description
    stopped at epoch 4 with its epoch-1 state (validation NDCG@10 0.065, its other seeds
    ~0.10 at epochs 21-22). Evaluation: full ranking with `ks`; `exclude_history` leaves
    each user's own earlier items out of the ranking; `sampled_negatives` > 0 switches to
    the sampled protocol (labelled in every metric name).
    """

    hidden_channels: int = 64
    num_blocks: int = 2
    num_heads: int = 1
    dropout: float = 0.1
    max_len: int = 50
    user: Literal["none", "random", "llm", "kg"] = "none"
    item: Literal["random", "description"] = "random"
    item_text: Literal["init", "projection"] = "init"
    loss: Literal["ce", "bce", "sampled_ce"] = "ce"
    num_negatives: int = 1
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 128
    max_epochs: int = 200
    min_epochs: int = 10
    eval_every: int = 1
    patience: int = 5
    ks: tuple[int, ...] = (10, 100)
    exclude_history: bool = False
    sampled_negatives: int = 0
    eval_batch_size: int = 1024
    seed: int = 0

    def __post_init__(self) -> None:
        positive = (
            "hidden_channels",
            "num_blocks",
            "num_heads",
            "max_len",
            "num_negatives",
            "batch_size",
            "max_epochs",
            "eval_every",
            "patience",
            "eval_batch_size",
        )
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.min_epochs < 0:
            raise ValueError(f"min_epochs must be 0 or more, not {self.min_epochs}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), not {self.dropout}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, not {self.lr}")
        if SELECT[1] not in self.ks:
            raise ValueError(f"ks must include {SELECT[1]} (model selection uses NDCG@10)")
        if self.exclude_history and self.sampled_negatives:
            raise ValueError("exclude_history applies to full ranking, not sampled_negatives")

    @classmethod
    def from_file(cls, path: Path | str) -> "SASRecConfig":
        """From a `.toml` or `.json` file; an unknown key or a bad value is a ConfigError
        naming the key and the file."""
        return config_from_file(cls, path)

    @classmethod
    def from_dict(cls, data: dict[str, object], source: str = "config") -> "SASRecConfig":
        return config_from_dict(cls, data, source)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    loss: float
    seconds: float
    validation: dict[str, float] | None


@dataclass
class TrainResult:
    """The model with its best state loaded, that state, the curves and the metrics of that
    state (per user, for paired tests)."""

    config: SASRecConfig
    model: SASRec
    best_state: dict[str, Tensor]
    best_epoch: int
    history: list[EpochRecord]
    validation: RankingMetrics
    test: RankingMetrics
    notes: list[str] = field(default_factory=list)


Progress = Callable[[int, float, dict[str, float] | None], None]


def build_model(
    config: SASRecConfig,
    num_items: int,
    num_users: int,
    user_vectors: Tensor | None = None,
    item_features: Tensor | None = None,
) -> SASRec:
    """The SASRec variant `config` names; the inputs it needs must be given (and only
    those, so that a forgotten switch cannot silently train another variant)."""
    wants_vectors = config.user in ("llm", "kg")
    if wants_vectors != (user_vectors is not None):
        raise ValueError(
            f"user={config.user!r} {'needs' if wants_vectors else 'takes no'} user_vectors"
        )
    wants_features = config.item == "description"
    if wants_features != (item_features is not None):
        raise ValueError(
            f"item={config.item!r} {'needs' if wants_features else 'takes no'} item_features"
        )
    projected = wants_features and config.item_text == "projection"
    model = SASRec(
        num_items,
        hidden_channels=config.hidden_channels,
        num_blocks=config.num_blocks,
        num_heads=config.num_heads,
        dropout=config.dropout,
        max_len=config.max_len,
        num_users=num_users if config.user == "random" else None,
        user_channels=user_vectors.size(1) if user_vectors is not None else None,
        item_features=item_features if projected else None,
    )
    if wants_features and not projected:
        with torch.no_grad():
            model.item_embedding.weight.copy_(text_initialised_items(item_features, model))
    return model


def text_initialised_items(item_features: Tensor, model: SASRec) -> Tensor:
    """The item table's start from text: the features' top principal components (one
    column per hidden channel), scaled to the spread of the random (Xavier) start they
    replace, so the learning rate means the same for both. Row 0 (padding) stays zero."""
    table = model.item_embedding.weight
    x = item_features[1:].float()
    x = x - x.mean(dim=0)
    _, _, components = torch.linalg.svd(x, full_matrices=False)
    start = x @ components[: table.size(1)].T
    if start.size(1) < table.size(1):  # fewer feature dimensions than channels
        start = torch.nn.functional.pad(start, (0, table.size(1) - start.size(1)))
    spread = start.std()
    start = start * (table[1:].std() / spread) if spread > 0 else start
    return torch.cat([torch.zeros(1, table.size(1)), start])


def _negatives(targets: Tensor, count: int, num_items: int, generator: torch.Generator) -> Tensor:
    """`count` uniform items per position, never the position's target."""
    draw = torch.randint(1, num_items, (*targets.shape, count), generator=generator)
    return draw + (draw >= targets.unsqueeze(-1)).long()


def train_epoch(
    model: SASRec,
    optimizer: torch.optim.Optimizer,
    data: SequenceData,
    config: SASRecConfig,
    generator: torch.Generator,
    user_vectors: Tensor | None = None,
) -> float:
    """One pass over the training sequences; the mean loss per batch."""
    model.train()
    device = next(model.parameters()).device
    train = data.train
    total, batches = 0.0, 0
    for rows in length_batches(train.lengths, config.batch_size, generator):
        width = int(train.lengths[rows].max())
        targets = train.targets[rows, :width]
        user = user_input(model, train.users[rows], user_vectors)
        h = model(train.items[rows, :width].to(device), None if user is None else user.to(device))
        if config.loss == "sampled_ce":
            shared = torch.randint(
                1, model.num_items + 1, (config.num_negatives,), generator=generator
            )
            loss = model.sampled_softmax_loss(h, targets.to(device), shared.to(device))
        else:
            negatives = None
            if config.loss == "bce":
                negatives = _negatives(targets, config.num_negatives, model.num_items, generator)
                negatives = negatives.to(device)
            loss = model.loss(h, targets.to(device), negatives)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.item()
        batches += 1
    return total / max(batches, 1)


@contextmanager
def diverged_in(config: SASRecConfig, when: str) -> Iterator[None]:
    """Name the row (user/item), seed and `when` in a `ModelDiverged` raised inside."""
    try:
        yield
    except ModelDiverged as exc:
        raise ModelDiverged(
            f"row {config.user}/{config.item}, seed {config.seed}, {when}: {exc} "
            "(the model diverged: try a lower lr)"
        ) from None


def train_sasrec(
    config: SASRecConfig,
    data: SequenceData,
    user_vectors: Tensor | None = None,
    item_features: Tensor | None = None,
    device: str | torch.device = "cpu",
    progress: Progress | None = None,
) -> TrainResult:
    """Train the variant `config` names on `data`, select on validation NDCG@10, report test.

    Args:
        user_vectors: `[num_users, f]` rows in `data.vocabulary.users` order (user llm/kg).
        item_features: `[num_items + 1, f]` rows in item index order, row 0 padding (item
            description).
        device: where to train; the caller resolves it (`kgstore.device.resolve_device`:
            CUDA when torch sees one, unless settings say otherwise).
        progress: called after every epoch with (epoch, mean loss, validation metrics or
            None when the epoch was not evaluated).
    """
    where = torch.device(device)
    cuda = [where.index or 0] if where.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda, device_type="cuda"), deterministic_kernels():
        torch.manual_seed(config.seed)
        generator = torch.Generator().manual_seed(config.seed)
        model = build_model(
            config,
            data.vocabulary.num_items,
            len(data.vocabulary.users),
            user_vectors,
            item_features,
        ).to(device)
        vectors = None if user_vectors is None else user_vectors.float()
        optimizer = torch.optim.Adam(
            model.parameters(), lr=config.lr, betas=(0.9, 0.98), weight_decay=config.weight_decay
        )

        def validate(epoch: int) -> RankingMetrics:
            with diverged_in(config, f"epoch {epoch}, validation"):
                return evaluate(
                    model,
                    data.validation,
                    config.ks,
                    config.exclude_history,
                    config.sampled_negatives,
                    config.seed,
                    config.eval_batch_size,
                    vectors,
                )

        history: list[EpochRecord] = []
        best_score, best_epoch, waited = float("-inf"), 0, 0
        best_state = copy.deepcopy(model.state_dict())
        best_validation: RankingMetrics | None = None
        for epoch in range(1, config.max_epochs + 1):
            started = time.perf_counter()
            loss = train_epoch(model, optimizer, data, config, generator, vectors)
            seconds = time.perf_counter() - started
            means = None
            if epoch % config.eval_every == 0 or epoch == config.max_epochs:
                metrics = validate(epoch)
                means = metrics.means()
                score = means[metrics.name(*SELECT)]
                if score > best_score:
                    best_score, best_epoch, waited = score, epoch, 0
                    best_validation = metrics
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    waited += 1
            history.append(EpochRecord(epoch, loss, seconds, means))
            if progress is not None:
                progress(epoch, loss, means)
            if waited >= config.patience and epoch >= config.min_epochs:
                break
        model.load_state_dict(best_state)
        with diverged_in(config, f"epoch {best_epoch} (the selected model), test"):
            test = evaluate(
                model,
                data.test,
                config.ks,
                config.exclude_history,
                config.sampled_negatives,
                config.seed + 1,
                config.eval_batch_size,
                vectors,
            )
        return TrainResult(
            config,
            model,
            best_state,
            best_epoch,
            history,
            best_validation or validate(best_epoch),
            test,
            list(data.notes),
        )
