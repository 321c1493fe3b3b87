"""Choosing the model's window (`max_len`) on validation: one grid per candidate window,
the window whose models score the best mean validation NDCG@10 (over every trained row
and seed, at each model's selected epoch) is the table's. Test numbers play no part in
the choice, so a window cannot be picked because the test table looked good.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from kgstore.errors import ConfigError
from kgstore.recsys.grid import GridResult

SELECTED_BY = "NDCG@10"


def parse_windows(text: str) -> list[int]:
    """`"5,10,20,50"` -> [5, 10, 20, 50]; anything else is a ConfigError naming the value."""
    try:
        windows = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--windows {text!r}: expected whole numbers, e.g. 5,10,20,50") from None
    if not windows or min(windows) < 1 or len(set(windows)) != len(windows):
        raise ConfigError(f"--windows {text!r}: expected distinct windows of at least 1")
    return sorted(windows)


def validation_score(result: GridResult) -> float:
    """Mean over the trained (row, seed) models of the validation metric of model
    selection at the epoch each kept: what the window is chosen on."""
    scores = [max(curve["validation"]) for row in result.rows.values() for curve in row.curves]
    if not scores:
        raise ValueError("the grid trained no model: nothing to choose a window on")
    return sum(scores) / len(scores)


@dataclass(frozen=True)
class WindowChoice:
    """Each candidate window's validation score and grid run, and the chosen window."""

    scores: dict[int, float]
    runs: dict[int, str]

    @property
    def chosen(self) -> int:
        """The best validation score; a tie goes to the shorter window (less to compute)."""
        return max(sorted(self.scores), key=lambda window: self.scores[window])

    def lines(self) -> Sequence[str]:
        return [
            f"window {window}: validation {SELECTED_BY} {score:.4f} (run {self.runs[window]})"
            + ("  <- chosen" if window == self.chosen else "")
            for window, score in sorted(self.scores.items())
        ]
