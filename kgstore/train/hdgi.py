"""Training HDGI on a `GraphSnapshot`: the personas of its users.

Full-batch by default (every user's embedding in each step, as DGI is usually trained).
With `batch_size` > 0 each step takes that many target users, the sources their capped
meta-path rows reach and the items/entities those reach (`personas.batches`), so the
step's memory depends on the batch and the caps, not on the graph; the feature matrices
themselves stay in host memory.

Early stopping on the training loss (the DGI objective has no validation signal; the
persona probes, `personas.probe`, judge the result), an epoch counting as better only by
a minimum improvement, with the state of the best epoch kept and why training stopped.
Then the semantic-attention weights are fitted once over all users and kept with the
model (`fit_semantic_weights`, see `HDGI`): the personas returned and every later
inference use them. Same seed and config → the same personas.
"""

import copy
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
from torch import Tensor

from kgstore.errors import ConfigError
from kgstore.export.pyg import user_features
from kgstore.export.snapshot import GraphSnapshot
from kgstore.models.hdgi import HDGI, MetaPathInput
from kgstore.train.metapaths import (
    MetaPathGraph,
    available_metapaths,
    build_metapath,
    parse_metapath,
)
from kgstore.train.persona_batches import batch_inputs, full_inputs

Progress = Callable[[int, int, float], None]
"""Called with (epoch, epochs at most, loss) after every epoch."""


@dataclass(frozen=True)
class HDGIConfig:
    """Hyper-parameters of a persona run (`kgctl train hdgi --config FILE`, TOML/JSON)."""

    hidden: int = 64
    metapaths: tuple[str, ...] = ()
    """Empty: `UIU` plus one path per relation family the graph has."""
    neighbours: int = 20
    """Meta-path partners kept per user (the strongest, hubs down-weighted)."""
    hub_cap: int = 128
    """Pairs through a mid node reached by more users than this are formed within groups
    of at most this many (`metapaths.split_hubs`): the build grows linearly, not with
    the square of the users; 0: every pair, exact (all runs before 2026-12-04)."""
    epochs: int = 300
    patience: int = 20
    min_improvement: float = 0.001
    """An epoch counts as better only when its loss is below the best by this share of
    the first epoch's loss (0: any decrease, the default before 2026-12-04). DGI's loss
    can creep towards 0 for hundreds of epochs by ever smaller steps; with any decrease
    counting, patience rarely ended a run (real Books: 300 of 300 epochs, best 298). 0.001
    stops it (films demo, own attention: 86 instead of 223 epochs, the same probe
    figures; with `shared_beta` the loss levels off and both rules stop together)."""
    lr: float = 0.005
    weight_decay: float = 0.0
    dropout: float = 0.0
    attention: int = 128
    shared_beta: bool = True
    """Fuse the corrupted pass with the real pass's attention weights: removes the
    shortcut described in `HDGI` (False: each pass its own, as personas were made before
    2026-12-04; the grid rows it moved are in BENCHMARKS.md, issue 21)."""
    path_norm: bool = False
    """Layer-normalise each meta-path's embeddings before attention and fusion (tried
    against the collapse; spreads the attention, worse probes on both demos)."""
    path_loss: float = 0.0
    """Weight of per-path DGI terms beside the fused one (tried likewise)."""
    user_sigma: float = 0.1
    """Spread of the random user features, against item/entity features standardised to
    variance 1 per dimension (larger drowns what users reach; measured on the demo)."""
    user_dimension: int = 0
    """0: the item features' size."""
    seed: int = 0
    batch_size: int = 0
    """0: full batch; otherwise users per step (mini-batch mode)."""
    holdout_fraction: float = 0.1
    """Users left out of persona learning, for the anonymous-session evaluation."""
    holdout_seed: int = 0

    def __post_init__(self) -> None:
        for name in self.metapaths:
            parse_metapath(name)
        for name in ("hidden", "neighbours", "epochs", "patience", "attention"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("batch_size", "user_dimension", "hub_cap"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more, not {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must be in [0, 1)")
        if self.lr <= 0 or self.user_sigma <= 0:
            raise ValueError("lr and user_sigma must be positive")
        if not 0.0 <= self.min_improvement < 1.0:
            raise ValueError("min_improvement must be in [0, 1)")

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "metapaths": list(self.metapaths)}


def with_metapaths(config: HDGIConfig, names: str) -> HDGIConfig:
    """`config` learning from the comma-separated meta-paths `names` only; a ConfigError
    names an unknown one and the known forms."""
    paths = tuple(name.strip() for name in names.split(",") if name.strip())
    if not paths:
        raise ConfigError("--metapaths: give at least one meta-path, e.g. UIU")
    try:
        return replace(config, metapaths=paths)
    except ValueError as exc:
        raise ConfigError(f"--metapaths: {exc}") from None


@dataclass
class PersonaGraph:
    """What HDGI trains on: user features, item/entity features, the meta-path graphs."""

    x_user: Tensor
    features: dict[str, np.ndarray]
    paths: list[MetaPathGraph]

    @property
    def users(self) -> int:
        return self.x_user.shape[0]

    @property
    def in_channels(self) -> dict[str, int]:
        sizes = {"User": self.x_user.shape[1]}
        sizes.update({p.mid_type: self.features[p.mid_type].shape[1] for p in self.paths})
        return sizes


@dataclass
class HDGIResult:
    personas: np.ndarray
    """[users, hidden], rows in the snapshot's user order."""
    losses: list[float]
    best_epoch: int
    stopped: str
    """Why training ended: `patience` (no better epoch for `patience` epochs) or
    `epochs` (the cap)."""
    semantic_weights: dict[str, float]
    metapaths: list[str]
    state: dict[str, Tensor]
    in_channels: dict[str, int]
    seconds: float
    device: str


def persona_graph(snapshot: GraphSnapshot, config: HDGIConfig) -> PersonaGraph:
    """Features and capped meta-path graphs; ValueError for a path the graph lacks."""
    present = available_metapaths(snapshot)
    names = list(config.metapaths) or present
    missing = [name for name in names if name not in present]
    if missing:
        raise ValueError(
            f"the {snapshot.domain} graph has no edges for meta-path {missing[0]!r} "
            f"(it has: {', '.join(sorted(present))})"
        )
    dimension = config.user_dimension or snapshot.x_item.shape[1]
    x_user = user_features(len(snapshot.users), dimension, config.user_sigma, config.seed)
    features = {"Item": standardise(snapshot.x_item), "Entity": standardise(snapshot.x_entity)}
    paths = [
        build_metapath(snapshot, name, config.neighbours, config.hub_cap, config.seed)
        for name in names
    ]
    return PersonaGraph(x_user, features, paths)


def standardise(features: np.ndarray) -> np.ndarray:
    """Each dimension to mean 0, variance 1 over the nodes of one type. Text embeddings
    share a large common component and differ in small deviations; standardised, those
    deviations are what the model sees, at the scale of the N(0, sigma^2 I) user features."""
    if features.size == 0:
        return features
    std = features.std(axis=0)
    return ((features - features.mean(axis=0)) / np.where(std > 0, std, 1.0)).astype(np.float32)


def build_model(in_channels: dict[str, int], metapaths: list[str], config: HDGIConfig) -> HDGI:
    return HDGI(
        in_channels,
        config.hidden,
        metapaths,
        config.attention,
        config.dropout,
        config.path_norm,
        config.path_loss,
        config.shared_beta,
    )


def train_hdgi(
    graph: PersonaGraph,
    config: HDGIConfig,
    device: str = "cpu",
    progress: Progress | None = None,
) -> HDGIResult:
    """Train on `graph` (from `persona_graph`) and return the best epoch's personas."""
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    in_channels = graph.in_channels
    model = build_model(in_channels, [p.name for p in graph.paths], config).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(config.seed)
    full = (
        None
        if config.batch_size
        else full_inputs(graph.x_user, graph.paths, graph.features, device)
    )
    losses: list[float] = []
    best, best_epoch, best_state = float("inf"), 0, copy.deepcopy(model.state_dict())
    stopped = "epochs"
    for epoch in range(1, config.epochs + 1):
        model.train()
        if full is not None:
            loss = _step(model, optimiser, *full, generator)
        else:
            loss = _minibatch_epoch(model, optimiser, graph, config.batch_size, generator, device)
        losses.append(loss)
        if progress:
            progress(epoch, config.epochs, loss)
        if loss < best - config.min_improvement * losses[0]:
            best, best_epoch, best_state = loss, epoch, copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= config.patience:
            stopped = "patience"
            break
    model.load_state_dict(best_state)
    fit_semantic_weights(model, graph, config.batch_size, device)
    personas = encode_users(model, graph, config.batch_size, device)
    return HDGIResult(
        personas=personas,
        losses=losses,
        best_epoch=best_epoch,
        stopped=stopped,
        semantic_weights=model.semantic_weights(),
        metapaths=model.metapaths,
        state={k: v.detach().cpu() for k, v in model.state_dict().items()},
        in_channels=in_channels,
        seconds=time.perf_counter() - started,
        device=device,
    )


def user_batches(
    graph: PersonaGraph, batch_size: int, device: str
) -> Iterator[tuple[Tensor, list[MetaPathInput]]]:
    """Every user as a target once, in user order: the whole graph (`batch_size` 0) or
    batches of that many users. A user's row is the same either way (its meta-path rows
    and sources do not depend on the batch)."""
    if not batch_size:
        yield full_inputs(graph.x_user, graph.paths, graph.features, device)
        return
    for start in range(0, graph.users, batch_size):
        targets = np.arange(start, min(start + batch_size, graph.users))
        yield batch_inputs(graph.x_user, graph.paths, graph.features, targets, device)


def fit_semantic_weights(model: HDGI, graph: PersonaGraph, batch_size: int, device: str) -> None:
    """Fix the model's beta from the mean attention score of every training user, so the
    personas written back, those inferred later and any batching agree (`HDGI` doc)."""
    model.eval()
    with torch.no_grad():
        total = sum(
            model.attention_scores(model.path_outputs(x_user, paths)).sum(dim=1)
            for x_user, paths in user_batches(graph, batch_size, device)
        )
        model.fit_semantic_weights(total / graph.users)


def encode_users(model: HDGI, graph: PersonaGraph, batch_size: int, device: str) -> np.ndarray:
    """Every user's persona (eval mode, no corruption, the fixed beta), in batches when
    configured: the same rows whatever the batch size."""
    model.eval()
    with torch.no_grad():
        return np.concatenate(
            [
                model.encode(x_user, paths).cpu().numpy()
                for x_user, paths in user_batches(graph, batch_size, device)
            ]
        )


def _step(
    model: HDGI,
    optimiser: torch.optim.Optimizer,
    x_user: Tensor,
    paths: list[MetaPathInput],
    generator: torch.Generator,
) -> float:
    """One gradient step; the corruption shuffles the source users."""
    permutation = torch.randperm(x_user.shape[0], generator=generator).to(x_user.device)
    optimiser.zero_grad()
    loss = model(x_user, paths, permutation)
    loss.backward()
    optimiser.step()
    return float(loss.detach())


def _minibatch_epoch(
    model: HDGI,
    optimiser: torch.optim.Optimizer,
    graph: PersonaGraph,
    batch_size: int,
    generator: torch.Generator,
    device: str,
) -> float:
    order = torch.randperm(graph.users, generator=generator).numpy()
    total = 0.0
    for start in range(0, graph.users, batch_size):
        targets = np.sort(order[start : start + batch_size])
        x_user, paths = batch_inputs(graph.x_user, graph.paths, graph.features, targets, device)
        total += _step(model, optimiser, x_user, paths, generator) * len(targets)
    return total / graph.users
