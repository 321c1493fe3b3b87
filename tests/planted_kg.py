"""A graph whose user groups show only through the KG: for the persona tests.

Every item is rated by one user only, so no two users share an item and U-I-U joins no
one; item texts are random. Each group has its own directors, and every item a user rates
(its validation item too) was directed by one of the user's group's directors: users of a
group meet only through U-I-E-I-U over people.

The control (`control=True`) turns it round: users rate items of their group's own pool
(so same-group users share items and U-I-U carries the group) and every item's director is
drawn from all of them, so the KG says nothing about the group.
"""

import numpy as np

from kgstore.export.snapshot import GraphSnapshot

GROUPS = 4
USERS_PER_GROUP = 60
DIRECTORS_PER_GROUP = 6
ITEMS_PER_USER = 8
DIMENSION = 32
POOL_PER_GROUP = 120
"""Items of one group's pool in the control."""


def planted_kg_graph(
    control: bool = False, seed: int = 0
) -> tuple[GraphSnapshot, np.ndarray, dict[str, str]]:
    """(snapshot, each user's group, each user's validation item key)."""
    rng = np.random.default_rng(seed)
    users = GROUPS * USERS_PER_GROUP
    groups = np.repeat(np.arange(GROUPS), USERS_PER_GROUP)
    directors = GROUPS * DIRECTORS_PER_GROUP
    per_user = ITEMS_PER_USER + 1  # the last one is the validation item
    if control:
        items = GROUPS * POOL_PER_GROUP
        picks = [
            groups[u] * POOL_PER_GROUP + rng.choice(POOL_PER_GROUP, per_user, replace=False)
            for u in range(users)
        ]
        director = rng.integers(0, directors, size=items)
    else:
        items = users * per_user
        picks = [np.arange(u * per_user, (u + 1) * per_user) for u in range(users)]
        owner = np.repeat(np.arange(users), per_user)
        director = groups[owner] * DIRECTORS_PER_GROUP + rng.integers(
            0, DIRECTORS_PER_GROUP, size=items
        )
    rated = np.array([(u, item) for u in range(users) for item in picks[u][:-1]]).T
    snapshot = GraphSnapshot(
        domain="movies",
        users=[f"u{u}" for u in range(users)],
        items=[f"i{i}" for i in range(items)],
        entities=[f"director{d}" for d in range(directors)],
        entity_types=["Person"] * directors,
        x_item=rng.normal(size=(items, DIMENSION)).astype(np.float32),
        x_entity=rng.normal(size=(directors, DIMENSION)).astype(np.float32),
        rated=rated,
        relations={"DIRECTED_BY": np.stack([np.arange(items), director])},
        relation_targets={"DIRECTED_BY": "Entity"},
    )
    validation = {f"u{u}": f"i{picks[u][-1]}" for u in range(users)}
    return snapshot, groups, validation
