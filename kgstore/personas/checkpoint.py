"""A trained HDGI encoder in the artifact store: its weights (with the semantic-attention
weights fixed after training, `HDGI.semantic_beta`), the shape to rebuild it and the
snapshot it was trained on, so personas can be inferred later for sessions of users the
run never saw (`personas.infer`)."""

import io
from dataclasses import dataclass

import torch

from kgstore.artifacts import ArtifactStore
from kgstore.errors import ConfigError
from kgstore.models.hdgi import HDGI
from kgstore.train.config import config_from_dict
from kgstore.train.hdgi import HDGIConfig, HDGIResult, build_model

SUFFIX = ".hdgi.pt"
LEGACY = {"hub_cap": 0}
"""Settings that shape the rebuilt training graph, as runs were trained before the
config had them: a run without `hub_cap` paired every two users exactly."""


@dataclass
class Checkpoint:
    config: HDGIConfig
    snapshot_key: str
    in_channels: dict[str, int]
    metapaths: list[str]
    state: dict[str, torch.Tensor]

    def model(self) -> HDGI:
        """The encoder in eval mode. A checkpoint written before beta was stored with the
        weights (no `semantic_beta`) gives a model whose beta is not fitted yet
        (`HDGI.fitted` false): `personas.infer.fitted_model` derives it from the run's
        training graph."""
        model = build_model(self.in_channels, self.metapaths, self.config)
        model.load_state_dict({"semantic_beta": model.semantic_beta, **self.state})
        return model.eval()


def put_checkpoint(
    store: ArtifactStore, config: HDGIConfig, snapshot_key: str, result: HDGIResult
) -> str:
    buffer = io.BytesIO()
    torch.save(
        {
            "config": config.as_dict(),
            "snapshot": snapshot_key,
            "in_channels": result.in_channels,
            "metapaths": result.metapaths,
            "state": result.state,
        },
        buffer,
    )
    return store.put(buffer.getvalue(), SUFFIX)


def get_checkpoint(store: ArtifactStore, key: str) -> Checkpoint:
    payload = torch.load(io.BytesIO(store.get(key)), weights_only=True)
    try:
        config = config_from_dict(HDGIConfig, {**LEGACY, **payload["config"]}, f"checkpoint {key}")
    except ConfigError as exc:
        raise ConfigError(f"{exc} (written by another version of kgstore)") from None
    return Checkpoint(
        config, payload["snapshot"], payload["in_channels"], payload["metapaths"], payload["state"]
    )
