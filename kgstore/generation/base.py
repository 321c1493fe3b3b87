"""The interface every text-generation backend implements."""

from abc import ABC, abstractmethod
from collections.abc import Sequence


class Generator(ABC):
    """Prompts in, one completion per prompt out."""

    model_name: str
    """Recorded with every text it writes, so a change of model regenerates everything."""

    @abstractmethod
    def generate(self, prompts: Sequence[str]) -> list[str]:
        """The completions, in the order of `prompts`; all of them or an error (never a
        partial list), so a caller never stores half a batch."""
