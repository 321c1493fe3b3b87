"""Planted-signal sequences for the recommender tests, written straight into the graph.

Every user belongs to one of `GROUPS` groups. Sequences alternate `shared item, group
item`, so a model that sees only the last item (a session of one item, `max_len = 1`) sees
a shared item before each group item — it cannot tell the group; the user's whole
training history (and so an HDGI persona learned from it) can. The last training item and
the test item are group items (each predicted from a shared one), the validation item a
shared one.

`planted=True`: a user's group items come from their group's pool, so the persona predicts
the test item. `planted=False` (the negative control): group items come from the union of
all pools, whatever the group — the same shapes, no signal for a persona to carry.
Item vectors are random (`textEmbeddingModel` "test-random"); titles name the item.
"""

import numpy as np

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.graph.clear import clear_graph
from kgstore.graph.dense_idx import assign_dense_indices
from kgstore.graph.mapping import Domain
from kgstore.personas.runner import train_personas
from kgstore.recsys.single import train_model
from kgstore.schema import apply_schema
from kgstore.train.hdgi import HDGIConfig
from kgstore.train.sasrec import SASRecConfig

GROUPS = 4
POOL = 12
SHARED = 16
LENGTH = 22
DIMENSION = 32

ONE_ITEM_WINDOW = SASRecConfig(
    user="kg", item="random", hidden_channels=32, max_len=1, max_epochs=60, eval_every=60, lr=5e-3
)
SESSION_GROUP = "g2"
SESSION = ["s-00", "g2-00", "s-01", "g2-01", "s-02", "g2-02", "s-03"]
"""Shared and group-2 items alternating, ending on a shared item: the next item is a
group item, and the window of one item (s-03) cannot say which group."""


def planted_sequences(planted: bool, users: int, seed: int = 0) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    pools = [[f"g{g}-{j:02d}" for j in range(POOL)] for g in range(GROUPS)]
    everything = [item for pool in pools for item in pool]
    shared = [f"s-{j:02d}" for j in range(SHARED)]
    sequences = {}
    for number in range(users):
        pool = pools[number % GROUPS] if planted else everything
        own = list(rng.choice(pool, size=LENGTH // 2, replace=False))
        sequences[f"u{number:04d}"] = [
            own.pop() if position % 2 == 1 else str(rng.choice(shared))
            for position in range(LENGTH)
        ]
    return sequences


def write_planted(db: Database, planted: bool, users: int = 400, seed: int = 0) -> None:
    """Replace the graph's movies with a planted (or control) data set."""
    sequences = planted_sequences(planted, users, seed)
    items = sorted({item for sequence in sequences.values() for item in sequence})
    rng = np.random.default_rng(seed + 1)
    db.query(
        "UNWIND $rows AS row CREATE (:Item:Movie {id: row.id, title: row.title, "
        "textEmbedding: row.x, textEmbeddingModel: 'test-random'})",
        rows=[
            {"id": item, "title": f"Film {item}", "x": rng.normal(size=DIMENSION).tolist()}
            for item in items
        ],
    )
    db.query(
        "UNWIND $rows AS row CREATE (u:User {id: row.user}) WITH u, row "
        "UNWIND range(0, size(row.items) - 1) AS pos MATCH (i:Item {id: row.items[pos]}) "
        "CREATE (u)-[:RATED {pos: pos, ts: pos * 60, rating: 5.0, orderAssumed: false}]->(i)",
        rows=[{"user": user, "items": sequence} for user, sequence in sequences.items()],
    )
    assign_dense_indices(db)


def train_session_retriever(db: Database, store: ArtifactStore) -> str:
    """A fresh planted graph (schema applied), its personas and a one-item-window kg
    retriever (returns its run), then a KG fact: a studio made the first session item and
    the session group's films, so their recommendations have a KG path to explain them."""
    clear_graph(db)
    apply_schema(db)
    write_planted(db, planted=True)
    train_personas(db, store, Domain.MOVIES, HDGIConfig())
    run = train_model(db, store, Domain.MOVIES, ONE_ITEM_WINDOW).run
    db.query(
        "MERGE (e:Entity {uri: 'test:studio'}) SET e.name = 'Studio Two' WITH e "
        "MATCH (i:Item) WHERE i.id = 's-00' OR i.id STARTS WITH $group "
        "CREATE (i)-[:DISTRIBUTED_BY]->(e)",
        group=f"{SESSION_GROUP}-",
    )
    return run
