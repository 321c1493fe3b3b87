"""Personas that need no training, to judge trained ones against (issue 21's baselines):

- `untrained`: the encoder of a persona run, same shape, config and seed, at its
  initialisation (semantic weights fitted over the training users as after training):
  what the architecture alone gives — random projections of what users reach along the
  meta-paths, averaged over their partners.
- `mean`: each user's mean stored text vector over their training items (no graph, no
  model): what the item texts alone say about a user.
"""

from collections.abc import Sequence

import torch
from torch import Tensor

from kgstore.personas.infer import PersonaEncoder
from kgstore.train.hdgi import build_model, fit_semantic_weights


def untrained_encoder(encoder: PersonaEncoder) -> PersonaEncoder:
    """`encoder`'s run with the model as it was before its first step."""
    config = encoder.config
    torch.manual_seed(config.seed)  # as train_hdgi seeds it before building the model
    model = build_model(encoder.graph.in_channels, encoder.model.metapaths, config)
    fit_semantic_weights(model, encoder.graph, config.batch_size, "cpu")
    return PersonaEncoder(
        f"{encoder.run} (untrained)", encoder.snapshot, encoder.graph, model, config
    )


def mean_item_vectors(item_features: Tensor, histories: Sequence[Sequence[int]]) -> Tensor:
    """`[users, d]`: the mean of `item_features` rows over each user's training items
    (row indices, a repeated item counted each time); a user with none gets zeros."""
    zeros = torch.zeros(item_features.shape[1], dtype=item_features.dtype)
    return torch.stack(
        [item_features[list(history)].mean(dim=0) if history else zeros for history in histories]
    )
