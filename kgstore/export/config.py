"""The export's settings, in a module without torch so the CLI can take its defaults."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ExportConfig:
    """Which users persona learning leaves out (for the anonymous-session evaluation)."""

    holdout_fraction: float = 0.1
    holdout_seed: int = 0
