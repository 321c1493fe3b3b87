"""The interface every text-embedding backend implements."""

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np


class Embedder(ABC):
    """Texts in, one float32 row per text out, of `dimension` columns."""

    model_name: str
    """Recorded with every vector it makes, so a change of model re-encodes everything."""

    @property
    @abstractmethod
    def dimension(self) -> int: ...

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """A (len(texts), dimension) float32 matrix, rows in the order of `texts`."""
