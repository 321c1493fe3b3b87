"""`GraphSnapshot`: one domain's persona graph as arrays, the unit the export writes to the
artifact store and HDGI training reads.

It holds what persona learning may see and nothing else: users (minus the held-out ones),
their *training* interactions only, the domain's items with their text embeddings, the
entities those items link to with theirs, and the item→entity / item→item relationships
of the mapping table. Rows are in dense `idx` order per node kind; `users`, `items` and
`entities` give each row's key so vectors can be written back by key.

Serialised with `torch.save` of plain tensors, lists and strings (loadable with
`weights_only=True`), so the artifact key — the sha256 of those bytes — names exactly
this content.
"""

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

FORMAT_VERSION = 1


@dataclass
class GraphSnapshot:
    domain: str
    users: list[str]
    items: list[str]
    entities: list[str]
    entity_types: list[str]
    """Each entity's type label (`Person`, `Genre`, …): the first in sorted order when a
    node carries several."""
    x_item: np.ndarray
    x_entity: np.ndarray
    rated: np.ndarray
    """int64 [2, E]: (user row, item row) of each distinct training interaction."""
    relations: dict[str, np.ndarray]
    """Relationship type → int64 [2, E] (item row, entity row) or (item row, item row)."""
    relation_targets: dict[str, str]
    """Relationship type → `Entity` or `Item`: which rows the second line indexes."""
    held_out_users: list[str] = field(default_factory=list)
    order_assumed: bool = False
    item_embedding_model: str = ""
    entity_embedding_model: str = ""
    vector_sources: dict[str, dict[str, int]] = field(default_factory=dict)
    """Where the export took the text vectors from (`kgstore.export.vectors`); not part of
    the stored bytes, so the snapshot's key names the graph, not how it was read."""

    @property
    def edge_count(self) -> int:
        return int(self.rated.shape[1] + sum(edges.shape[1] for edges in self.relations.values()))

    def summary(self) -> dict[str, Any]:
        """Counts for reports and `Run` records."""
        return {
            "domain": self.domain,
            "users": len(self.users),
            "items": len(self.items),
            "entities": len(self.entities),
            "trainingInteractions": int(self.rated.shape[1]),
            "relationships": {name: int(e.shape[1]) for name, e in sorted(self.relations.items())},
            "heldOutUsers": len(self.held_out_users),
            "orderAssumed": self.order_assumed,
            "itemEmbeddingModel": self.item_embedding_model,
            "entityEmbeddingModel": self.entity_embedding_model,
            **({"vectorSources": self.vector_sources} if self.vector_sources else {}),
        }

    def to_bytes(self) -> bytes:
        payload = {
            "format": FORMAT_VERSION,
            "domain": self.domain,
            "users": self.users,
            "items": self.items,
            "entities": self.entities,
            "entity_types": self.entity_types,
            "x_item": torch.from_numpy(np.ascontiguousarray(self.x_item)),
            "x_entity": torch.from_numpy(np.ascontiguousarray(self.x_entity)),
            "rated": torch.from_numpy(np.ascontiguousarray(self.rated)),
            "relations": {
                k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in self.relations.items()
            },
            "relation_targets": self.relation_targets,
            "held_out_users": self.held_out_users,
            "order_assumed": self.order_assumed,
            "item_embedding_model": self.item_embedding_model,
            "entity_embedding_model": self.entity_embedding_model,
        }
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "GraphSnapshot":
        payload = torch.load(io.BytesIO(data), weights_only=True)
        if payload.get("format") != FORMAT_VERSION:
            raise ValueError(f"snapshot format {payload.get('format')} is not {FORMAT_VERSION}")
        return cls(
            domain=payload["domain"],
            users=payload["users"],
            items=payload["items"],
            entities=payload["entities"],
            entity_types=payload["entity_types"],
            x_item=payload["x_item"].numpy(),
            x_entity=payload["x_entity"].numpy(),
            rated=payload["rated"].numpy(),
            relations={k: v.numpy() for k, v in payload["relations"].items()},
            relation_targets=payload["relation_targets"],
            held_out_users=payload["held_out_users"],
            order_assumed=payload["order_assumed"],
            item_embedding_model=payload["item_embedding_model"],
            entity_embedding_model=payload["entity_embedding_model"],
        )
