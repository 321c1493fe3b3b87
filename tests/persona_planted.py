"""A persona graph whose planted groups only a trained encoder shows, written into Neo4j.

Every user belongs to one of `GROUPS` groups. A user rates `PER_USER` items of its group's
pool of `POOL` (so the users it shares items with, its `UIU` partners, are of its group)
and `OWN` items nobody else rates. Item vectors: a pool item has random values in the
first `SIGNAL` dimensions and zeros in the rest; a user's own items share one strong
random "taste" in the other dimensions, different for every user. So a user's mean item
vector is mostly its own taste and tells its group badly (neighbour agreement near
chance): the group shows in what a user's partners have in common, not in any one
user's items. An encoder with random weights projects the tastes back into every
dimension of the persona; training (DGI: real against shuffled neighbourhoods) has to
learn the directions that partners share. With few partners kept (`NEIGHBOURS`) the
user's own row weighs a quarter of its mean, so the propagation alone does not average
the tastes away.

`genres=True` also links every item to one of `GENRES` genre entities at random, so the
graph has two meta-paths (`UIU`, `UIEIU:genre`) and semantic attention has paths to weigh.
"""

import numpy as np

from kgstore.db import Database
from kgstore.graph.dense_idx import assign_dense_indices

GROUPS = 4
USERS = 400
POOL = 40
PER_USER = 8
OWN = 16
DIMENSION = 384
SIGNAL = 16
GENRES = 5
NEIGHBOURS = 3


def planted_vectors(rng: np.random.Generator) -> tuple[dict[str, list[str]], dict[str, list]]:
    """(each user's items in order, each item's vector)."""
    vectors: dict[str, list] = {}
    for group in range(GROUPS):
        for j in range(POOL):
            vector = np.zeros(DIMENSION)
            vector[:SIGNAL] = rng.normal(size=SIGNAL)
            vectors[f"g{group}-{j:02d}"] = vector.tolist()
    sequences = {}
    for number in range(USERS):
        taste = rng.normal(size=DIMENSION - SIGNAL)
        own = [f"u{number:04d}-{k:02d}" for k in range(OWN)]
        for item in own:
            vector = np.zeros(DIMENSION)
            vector[SIGNAL:] = taste + 0.3 * rng.normal(size=DIMENSION - SIGNAL)
            vectors[item] = vector.tolist()
        pool = [f"g{number % GROUPS}-{j:02d}" for j in rng.choice(POOL, PER_USER, replace=False)]
        sequences[f"u{number:04d}"] = list(rng.permutation(pool + own))
    return sequences, vectors


def write_structure_planted(db: Database, genres: bool = False, seed: int = 0) -> None:
    """Add the planted users and items (and genres) to an empty graph; `plantedGroup` on
    each user as the demo ingest stores it."""
    rng = np.random.default_rng(seed)
    sequences, vectors = planted_vectors(rng)
    db.query(
        "UNWIND $rows AS row CREATE (:Item:Movie {id: row.id, title: row.id, "
        "textEmbedding: row.x, textEmbeddingModel: 'test-random'})",
        rows=[{"id": item, "x": vector} for item, vector in vectors.items()],
    )
    db.query(
        "UNWIND $rows AS row CREATE (u:User {id: row.user, plantedGroup: row.group}) "
        "WITH u, row UNWIND range(0, size(row.items) - 1) AS pos "
        "MATCH (i:Item {id: row.items[pos]}) "
        "CREATE (u)-[:RATED {pos: pos, ts: pos * 60, rating: 5.0, orderAssumed: false}]->(i)",
        rows=[
            {"user": user, "group": number % GROUPS, "items": items}
            for number, (user, items) in enumerate(sequences.items())
        ],
    )
    if genres:
        db.query(
            "UNWIND range(0, $count - 1) AS k CREATE (:Entity:Genre {uri: 'genre:' + k, "
            "name: 'Genre ' + k, textEmbedding: [j IN range(1, $dimension) | "
            "toFloat((k * 7 + j) % 11) / 11.0], textEmbeddingModel: 'test-random'})",
            count=GENRES,
            dimension=DIMENSION,
        )
        db.query(
            "UNWIND $rows AS row MATCH (i:Item {id: row.item}), (e:Entity {uri: row.genre}) "
            "CREATE (i)-[:HAS_GENRE]->(e)",
            rows=[{"item": item, "genre": f"genre:{rng.integers(GENRES)}"} for item in vectors],
        )
    assign_dense_indices(db)
