"""A trained SASRec variant in the artifact store: its weights with what is needed to use
it later on a graph that may have changed since -- the item ids in index order and the
persona run whose vectors it was trained with."""

import io
import pickle
from dataclasses import dataclass

import torch
from torch import Tensor

from kgstore.artifacts import ArtifactStore
from kgstore.errors import RecsysInputError


@dataclass(frozen=True)
class SavedModel:
    state: dict[str, Tensor]
    items: tuple[str, ...]
    persona_run: str | None


def save_model(
    store: ArtifactStore, state: dict[str, Tensor], items: tuple[str, ...], persona_run: str | None
) -> str:
    buffer = io.BytesIO()
    torch.save(
        {
            "state": {k: v.cpu() for k, v in state.items()},
            "items": list(items),
            "persona_run": persona_run,
        },
        buffer,
    )
    return store.put(buffer.getvalue(), ".pt")


def load_model(store: ArtifactStore, key: str) -> SavedModel:
    try:
        saved = torch.load(io.BytesIO(store.get(key)), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as error:
        raise RecsysInputError(
            f"checkpoint {key} in the artifact store is not a SASRec checkpoint ({error}); "
            "train the model again with `kgctl train retriever`"
        ) from error
    if not isinstance(saved, dict):
        raise RecsysInputError(
            f"checkpoint {key} holds no SASRec state: train the model again with "
            "`kgctl train retriever`"
        )
    if "items" not in saved:
        raise RecsysInputError(
            f"checkpoint {key} holds weights only (trained before item ids were kept): "
            "train the model again with `kgctl train retriever`"
        )
    return SavedModel(saved["state"], tuple(saved["items"]), saved["persona_run"])
