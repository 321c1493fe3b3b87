"""`GraphSnapshot` → `torch_geometric.data.HeteroData`.

Node types are the schema's base labels (`User`, `Item`, `Entity`; an entity's own type
label is `data['Entity'].type`, an index into `data.entity_type_names`), edge types the
mapping table's relationship types: `('User', 'RATED', 'Item')` (training interactions
only) and `('Item', 'DIRECTED_BY', 'Entity')`, `('Item', 'ALSO_BUY', 'Item')`, ….
Item and entity features are their stored text embeddings; user features are drawn from
N(0, sigma^2 I) as in the paper (seeded), since users have no text.
"""

import numpy as np
import torch
from torch_geometric.data import HeteroData

from kgstore.export.snapshot import GraphSnapshot


def user_features(users: int, dimension: int, sigma: float, seed: int) -> torch.Tensor:
    """x_u ~ N(0, sigma^2 I), the same for the same (users, dimension, sigma, seed)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(users, dimension, generator=generator) * sigma


def to_hetero_data(
    snapshot: GraphSnapshot, user_dimension: int | None = None, sigma: float = 1.0, seed: int = 0
) -> HeteroData:
    """The snapshot as a `HeteroData`; `user_dimension` defaults to the item features'."""
    data = HeteroData()
    dimension = user_dimension or snapshot.x_item.shape[1]
    data["User"].x = user_features(len(snapshot.users), dimension, sigma, seed)
    data["User"].key = list(snapshot.users)
    data["Item"].x = torch.from_numpy(snapshot.x_item)
    data["Item"].key = list(snapshot.items)
    data["Entity"].x = torch.from_numpy(snapshot.x_entity)
    data["Entity"].key = list(snapshot.entities)
    type_names = sorted(set(snapshot.entity_types))
    data["Entity"].type = torch.tensor(
        [type_names.index(name) for name in snapshot.entity_types], dtype=torch.long
    )
    data.entity_type_names = type_names
    data["User", "RATED", "Item"].edge_index = torch.from_numpy(snapshot.rated)
    for rel, edges in sorted(snapshot.relations.items()):
        target = snapshot.relation_targets[rel]
        data["Item", rel, target].edge_index = torch.from_numpy(np.ascontiguousarray(edges))
    data.domain = snapshot.domain
    data.held_out_users = list(snapshot.held_out_users)
    return data
