"""Seeds and significance: mean ± std of a metric over seeds, and a paired test of two
configurations on the same users' per-user metrics (DESIGN.md §5)."""

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats


@dataclass(frozen=True)
class MeanStd:
    """A metric over seeds: mean, sample standard deviation (ddof = 1; 0 for one seed)."""

    mean: float
    std: float
    seeds: int

    def __str__(self) -> str:
        return f"{self.mean:.4f} ± {self.std:.4f} ({self.seeds} seeds)"


def mean_std(values: ArrayLike) -> MeanStd:
    values = np.asarray(values, dtype=np.float64)
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return MeanStd(float(values.mean()), std, len(values))


@dataclass(frozen=True)
class PairedTest:
    """A two-sided paired test of per-user metrics, `a` against `b` (`difference` is the mean
    of a - b over users)."""

    test: str
    statistic: float
    p_value: float
    difference: float
    users: int


def paired_test(a: ArrayLike, b: ArrayLike, test: Literal["t", "wilcoxon"] = "t") -> PairedTest:
    """Paired test of two configurations on the same users, in the same user order.

    Each of `a` and `b` is `[users]` or `[seeds, users]`; with seeds, each user's metric is
    first averaged over the seeds, so the pairs are users (the unit the protocol samples),
    not (user, seed) pairs. `t` is the paired t-test (large user counts make the mean difference
    near normal even for a 0/1 hit); `wilcoxon` the signed-rank test. Identical inputs give
    p = 1."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim == 2:
        a = a.mean(axis=0)
    if b.ndim == 2:
        b = b.mean(axis=0)
    if a.shape != b.shape:
        raise ValueError(f"per-user metrics of different shapes {a.shape} and {b.shape}")
    difference = a - b
    if not np.any(difference):
        return PairedTest(test, 0.0, 1.0, 0.0, len(a))
    result = stats.ttest_rel(a, b) if test == "t" else stats.wilcoxon(a, b)
    return PairedTest(
        test, float(result.statistic), float(result.pvalue), float(difference.mean()), len(a)
    )
