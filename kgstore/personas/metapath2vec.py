"""The structural graph-embedding baseline of the persona rows (`metapath2vec`): PyG's
`MetaPath2Vec` (skip-gram over meta-path random walks; pure torch, no compiled PyG
extension needed) trained on a persona run's training graph, so it sees exactly what HDGI
saw — the users the run trained on, their training interactions, the items' KG links —
but no text and no attention: what graph structure alone gives a persona.

The walks follow User -rated-> Item -links-> Entity -linked-> Item -rated by-> User (the
KG meta-path UIEIU, with every KG relationship family as one `links` edge type), cycled
to the walk length. A walk that reaches an item with no KG link ends there (PyG pads it
with its dummy node), so such users are embedded from their items and co-raters only.
Users the run did not train on (held out of persona learning, or added later) get the
mean of their training items' vectors: users and items share one skip-gram space, in
which a user's vector is trained to score high with the items around it.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from kgstore.export.snapshot import GraphSnapshot

USER, ITEM, ENTITY = "user", "item", "entity"
METAPATH = [
    (USER, "rated", ITEM),
    (ITEM, "links", ENTITY),
    (ENTITY, "linked", ITEM),
    (ITEM, "rated_by", USER),
]


@dataclass(frozen=True)
class MetaPath2VecConfig:
    """Skip-gram settings. Context, walks per node and negatives as in PyG's metapath2vec
    example (walks of 20 steps instead of its 50); the dimension is HDGI's persona width.
    Batch, rate and epochs measured on the planted KG graph (tests/planted_kg.py, 240
    users): batch 128, rate 0.01, 5 epochs (10 steps) left the probe's director hit rate
    at 0.43 (a constant persona 0.35); batch 32, rate 0.03, 10 epochs (80 steps) reach
    0.83, and on the control, where directors are random, stay at 0.44 (constant 0.41).
    Cost grows with users x walks x epochs: 13-15 s for the ~1,800 users of a demo domain
    on this 2-core machine, so about 80 s for 10,000."""

    embedding_dim: int = 64
    walk_length: int = 20
    context_size: int = 7
    walks_per_node: int = 5
    negatives: int = 5
    epochs: int = 10
    batch_size: int = 32
    lr: float = 0.03
    seed: int = 0


@dataclass(frozen=True)
class StructuralVectors:
    """Trained rows of the snapshot's users and items (snapshot order)."""

    users: np.ndarray
    items: np.ndarray


def walk_edges(snapshot: GraphSnapshot) -> dict[tuple[str, str, str], Tensor]:
    """The snapshot's interactions and item→entity relationships as PyG edge types, each
    with its reverse (walks go both ways)."""
    rated = torch.from_numpy(snapshot.rated).long()
    item_entity = [
        snapshot.relations[name]
        for name, target in sorted(snapshot.relation_targets.items())
        if target == "Entity"
    ]
    links = (
        torch.from_numpy(np.concatenate(item_entity, axis=1)).long()
        if item_entity
        else torch.zeros(2, 0, dtype=torch.long)
    )
    return {
        METAPATH[0]: rated,
        METAPATH[1]: links,
        METAPATH[2]: links.flip(0),
        METAPATH[3]: rated.flip(0),
    }


def train_metapath2vec(
    snapshot: GraphSnapshot, config: MetaPath2VecConfig = MetaPath2VecConfig()
) -> StructuralVectors:
    """MetaPath2Vec on the snapshot's graph, seeded (walks and negatives included), on the
    CPU: the model is one lookup table, where a GPU gains little. Dense Adam: with
    PyG's sparse gradients and SparseAdam the same training took 1.4x as long here (both
    measured under load; the table is small)."""
    from torch_geometric.nn import MetaPath2Vec

    torch.manual_seed(config.seed)
    sizes = {USER: len(snapshot.users), ITEM: len(snapshot.items), ENTITY: len(snapshot.entities)}
    model = MetaPath2Vec(
        walk_edges(snapshot),
        embedding_dim=config.embedding_dim,
        metapath=METAPATH,
        walk_length=config.walk_length,
        context_size=config.context_size,
        walks_per_node=config.walks_per_node,
        num_negative_samples=config.negatives,
        num_nodes_dict={kind: max(size, 1) for kind, size in sizes.items()},
        sparse=False,
    )
    loader = model.loader(batch_size=config.batch_size, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    model.train()
    for _ in range(config.epochs):
        for positive, negative in loader:
            optimizer.zero_grad()
            model.loss(positive, negative).backward()
            optimizer.step()
    with torch.no_grad():
        users = model(USER)[: sizes[USER]].numpy().copy()
        items = model(ITEM)[: sizes[ITEM]].numpy().copy()
    return StructuralVectors(users, items)


def structural_personas(
    vectors: StructuralVectors,
    snapshot: GraphSnapshot,
    users: Sequence[str],
    histories: Sequence[Sequence[str]],
) -> tuple[np.ndarray, frozenset[str]]:
    """`[len(users), d]` rows: a trained user's own vector, any other user's mean over the
    vectors of their `histories` items (zeros when none is in the graph); and the users
    whose rows were so inferred."""
    user_row = {user: row for row, user in enumerate(snapshot.users)}
    item_row = {item: row for row, item in enumerate(snapshot.items)}
    zeros = np.zeros(vectors.users.shape[1], dtype=np.float32)
    rows, inferred = [], set()
    for user, history in zip(users, histories, strict=True):
        if user in user_row:
            rows.append(vectors.users[user_row[user]])
            continue
        inferred.add(user)
        known = [item_row[item] for item in history if item in item_row]
        rows.append(vectors.items[known].mean(axis=0) if known else zeros)
    return np.stack(rows).astype(np.float32), frozenset(inferred)
