"""Persona probes: what a persona alone says about a user's next item, without SASRec.

A recommender trained on top of personas mixes what the persona knows with what the
sequence model learns; a probe asks the persona directly. For every user with a validation
item (held out of persona learning, docs/evaluation.md §1):

- **next item**: a linear map from persona to the item text space, fitted by ridge
  regression on (user, training item) pairs only — of the users of the other half
  (cross-fitted, so a persona cannot act as a mere key to its own user's items) — ranks
  every item the user has not trained on by cosine to the mapped persona; a hit is the
  validation item in the top 10.
- **entities of the next item**, per relation family (people, genre, subject, …): the same
  kind of map, fitted on (user, entity of a training item) pairs, ranks the family's
  entities; a hit is any entity of the validation item in the top 10.

Beside each hit rate: **chance** (a random top 10 of the same candidates) and **no
persona** (the same map fitted with every persona replaced by one constant vector: it can
only learn the mean item, i.e. popularity in text space). A persona that carries taste
beats both. **Anisotropy** (mean cosine between two users' personas: near 1 when they
collapse onto one direction) and **effective rank** (exp of the entropy of the normalised
singular values; Roy & Vetterli 2007) say how much room the personas use.
"""

from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp

from kgstore.export.snapshot import GraphSnapshot
from kgstore.train.metapaths import ITEM_TO_ITEM_FAMILY, RELATION_FAMILIES, item_links, rated_matrix

TOP_K = 10
CHUNK_USERS = 2048
FOLDS = 2
RIDGE = 1e-2
"""L2 penalty of the persona → text maps, relative to the mean diagonal of their normal
equations (the maps have ~65 weights per output and tens of thousands of pairs)."""


@dataclass(frozen=True)
class HitRate:
    """One probe target: users probed, hit rate of the personas, of a constant persona,
    and of a random top 10."""

    users: int
    persona: float
    no_persona: float
    chance: float


@dataclass(frozen=True)
class ProbeResult:
    next_item: HitRate
    entities: dict[str, HitRate]
    """Per relation family with entities on the validation items."""
    anisotropy: float
    effective_rank: float
    dimension: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def anisotropy(vectors: np.ndarray) -> float:
    """Mean cosine over pairs of distinct rows (1: every row points the same way)."""
    count = len(vectors)
    if count < 2:
        raise ValueError("anisotropy needs at least two vectors")
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    total = unit.sum(axis=0, dtype=np.float64)
    return float((total @ total - count) / (count * (count - 1)))


def effective_rank(vectors: np.ndarray) -> float:
    """exp(entropy of the singular values normalised to sum 1): 1 for vectors on one
    line, the dimension for a spread as wide in every direction."""
    singular = np.linalg.svd(vectors.astype(np.float64), compute_uv=False)
    weights = singular / max(singular.sum(), 1e-300)
    weights = weights[weights > 0]
    return float(np.exp(-(weights * np.log(weights)).sum()))


def probe_personas(
    snapshot: GraphSnapshot, personas: np.ndarray, validation: dict[str, str]
) -> ProbeResult:
    """Probe `personas` (rows in `snapshot.users` order) against each user's validation
    item (`validation`: user key → item key); users without one, or whose validation item
    is not among the snapshot's items, are left out of the hit rates."""
    if personas.shape[0] != len(snapshot.users):
        raise ValueError(
            f"{personas.shape[0]} personas for the snapshot's {len(snapshot.users)} users"
        )
    item_row = {key: row for row, key in enumerate(snapshot.items)}
    users, targets = [], []
    for row, user in enumerate(snapshot.users):
        item = validation.get(user)
        if item in item_row:
            users.append(row)
            targets.append(item_row[item])
    if not users:
        raise ValueError("no user of the snapshot has a validation item among its items")
    probed = np.asarray(users)
    wanted = np.asarray(targets)
    rated = rated_matrix(snapshot)
    rated.data[:] = 1.0
    items = _unit(snapshot.x_item)
    next_item = _next_item(personas, rated, items, probed, wanted)
    entity_vectors = _unit(snapshot.x_entity)
    entities = {}
    for family in RELATION_FAMILIES:
        if family == ITEM_TO_ITEM_FAMILY:
            continue
        links, _ = item_links(snapshot, family)
        if links.nnz:
            rate = _entities(personas, rated, links, entity_vectors, probed, wanted)
            if rate is not None:
                entities[family] = rate
    return ProbeResult(
        next_item=next_item,
        entities=entities,
        anisotropy=anisotropy(personas),
        effective_rank=effective_rank(personas),
        dimension=int(personas.shape[1]),
    )


def _next_item(
    personas: np.ndarray,
    rated: sp.csr_matrix,
    items: np.ndarray,
    probed: np.ndarray,
    wanted: np.ndarray,
) -> HitRate:
    truth = [[target] for target in wanted]
    candidates = rated.shape[1] - np.asarray(rated[probed].sum(axis=1)).ravel()
    candidates += np.asarray(rated[probed, wanted]).ravel()
    return HitRate(
        users=len(probed),
        persona=_hit_rate(personas, rated, items, probed, truth, seen=rated),
        no_persona=_hit_rate(_constant(personas), rated, items, probed, truth, seen=rated),
        chance=float(np.mean(np.minimum(TOP_K / np.maximum(candidates, 1), 1.0))),
    )


def _entities(
    personas: np.ndarray,
    rated: sp.csr_matrix,
    links: sp.csr_matrix,
    entities: np.ndarray,
    probed: np.ndarray,
    wanted: np.ndarray,
) -> HitRate | None:
    """Hit rate on the entities of one family; None when no validation item has one."""
    family = np.flatnonzero(np.asarray(links.sum(axis=0)).ravel())
    links = links[:, family].tocsr()
    vectors = entities[family]
    reached = (rated @ links).tocsr()
    keep = np.diff(links[wanted].indptr) > 0
    if not keep.any():
        return None
    probed, wanted = probed[keep], wanted[keep]
    truth = [links[target].indices.tolist() for target in wanted]
    chance = [_chance_any(len(family), len(found)) for found in truth]
    return HitRate(
        users=len(probed),
        persona=_hit_rate(personas, reached, vectors, probed, truth),
        no_persona=_hit_rate(_constant(personas), reached, vectors, probed, truth),
        chance=float(np.mean(chance)),
    )


def _hit_rate(
    features: np.ndarray,
    pairs: sp.csr_matrix,
    targets: np.ndarray,
    probed: np.ndarray,
    truth: list[list[int]],
    seen: sp.csr_matrix | None = None,
) -> float:
    """Share of `probed` users with one of their `truth` columns in the top 10 of the
    targets ranked by their mapped persona; `seen` columns (the user's training items) are
    not candidates unless true. Cross-fitted: a user's map is fitted on the pairs of the
    users of the other fold, so a persona that is only a distinct random key cannot
    memorise its own user's training items."""
    fold = np.arange(len(features)) % FOLDS
    hits = np.zeros(len(probed), dtype=bool)
    for current in range(FOLDS):
        others = fold != current
        weights = _fit_map(features[others], pairs[others], targets)
        chosen = np.flatnonzero(fold[probed] == current)
        for chunk in _chunks(len(chosen)):
            rows = chosen[chunk]
            users = probed[rows]
            scores = _mapped(features[users], weights) @ targets.T
            wanted = [truth[row] for row in rows]
            if seen is not None:
                kept = [scores[at, columns].copy() for at, columns in enumerate(wanted)]
                scores[seen[users].nonzero()] = -np.inf
                for at, columns in enumerate(wanted):
                    scores[at, columns] = kept[at]
            hits[rows] = _in_top_k(scores, wanted)
    return float(hits.mean())


def _fit_map(features: np.ndarray, pairs: sp.csr_matrix, targets: np.ndarray) -> np.ndarray:
    """W [features + 1, target dims] minimising Σ_(u,m) w_um ||[x_u, 1] W - t_m||² +
    λ||W||² over the weighted pairs `pairs` [users, targets]; rows of `features` are x_u."""
    design = _with_bias(features)
    counts = np.asarray(pairs.sum(axis=1)).ravel()
    gram = design.T @ (design * counts[:, None])
    penalty = RIDGE * np.trace(gram) / gram.shape[0]
    right = design.T @ np.asarray(pairs @ targets)
    return np.linalg.solve(gram + penalty * np.eye(gram.shape[0]), right)


def _mapped(features: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Unit vectors of the rows of `features` mapped by `_fit_map`'s weights."""
    return _unit(_with_bias(features) @ weights)


def _with_bias(features: np.ndarray) -> np.ndarray:
    return np.hstack([features.astype(np.float64), np.ones((len(features), 1))])


def _chunks(count: int) -> list[slice]:
    """Row ranges that keep a [rows, candidates] score matrix to a few hundred MB."""
    return [slice(start, start + CHUNK_USERS) for start in range(0, count, CHUNK_USERS)]


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _constant(personas: np.ndarray) -> np.ndarray:
    """No persona: zero columns, so the map is its bias alone (the mean target)."""
    return np.zeros((len(personas), 0))


def _in_top_k(scores: np.ndarray, truth: list[list[int]]) -> np.ndarray:
    """Whether any of each row's true columns is among its TOP_K highest scores (ties
    counted against the truth: a constant score finds nothing)."""
    hits = np.zeros(len(truth), dtype=bool)
    for row, columns in enumerate(truth):
        best = scores[row, columns].max()
        hits[row] = int((scores[row] >= best).sum()) <= TOP_K
    return hits


def _chance_any(size: int, found: int) -> float:
    """P(a uniformly random TOP_K of `size` candidates holds at least one of `found`)."""
    if size <= TOP_K:
        return 1.0
    miss = 1.0
    for step in range(TOP_K):
        miss *= max(size - found - step, 0) / (size - step)
    return 1.0 - miss
