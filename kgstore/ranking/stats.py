"""Seeds and significance (docs/evaluation.md §5): a metric's mean and spread over seeds,
and the paired comparison of two configurations on the same users and seeds.

A Table 3 cell varies for two reasons: which users were sampled, and how the training run
of each seed went. A paired t-test over users (each user's metric averaged over the seeds)
sees only the first, so one lucky seed can make a row "significant"; a t-test over the
per-seed means sees only the second and, with 3 seeds (2 degrees of freedom), has little
power. `paired_comparison` reports both, and a third test that counts both sources: the
paired difference in a crossed random-effects model (users x seeds). Tables correct their
family of tests with `holm`."""

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

NO_SEED_TEST = "n = 1"
"""Shown where a test over seeds would be: one seed has no seed-to-seed spread."""
ALPHA = 0.05
TEST_TITLES = {"users": "p users", "seeds": "p seeds", "mixed": "p users x seeds"}
"""The tests of a `PairedComparison`, in order, as tables title them."""
MARKED_BY = "mixed"
"""The test whose Holm-adjusted p < ALPHA marks a comparison better / worse in the tables:
users x seeds, the one that counts both sources of variation."""


@dataclass(frozen=True)
class MeanStd:
    """A metric over seeds: mean and sample standard deviation (ddof = 1). With one seed the
    std is None, not 0: one value has no spread, and "± 0.0000" would claim it does."""

    mean: float
    std: float | None
    seeds: int

    def __str__(self) -> str:
        if self.std is None:
            return f"{self.mean:.4f} ({NO_SEED_TEST})"
        return f"{self.mean:.4f} ± {self.std:.4f} (n = {self.seeds})"


def mean_std(values: ArrayLike) -> MeanStd:
    values = np.asarray(values, dtype=np.float64)
    std = float(values.std(ddof=1)) if len(values) > 1 else None
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


@dataclass(frozen=True)
class TTest:
    """A two-sided t-test of a mean difference against 0. `p_holm` is p after Holm-Bonferroni
    over the family of tests it was corrected with (None until then); NaN p: untestable
    (fewer than two units)."""

    statistic: float
    df: float
    p_value: float
    p_holm: float | None = None


def t_test(mean: float, variance: float, df: float) -> TTest:
    """`mean` over its standard error `sqrt(variance)`, t with `df` degrees of freedom.
    Without any spread the units agree exactly: p = 1 for a zero mean, else 0."""
    if not df > 0:
        return TTest(math.nan, df, math.nan)
    if variance <= 0:
        return TTest(0.0, df, 1.0) if mean == 0 else TTest(math.copysign(math.inf, mean), df, 0.0)
    statistic = mean / math.sqrt(variance)
    return TTest(statistic, df, float(2 * stats.t.sf(abs(statistic), df)))


def one_sample(values: np.ndarray) -> TTest:
    """t-test of the mean of `values` (one per unit) against 0, df = units - 1."""
    if len(values) < 2:
        return TTest(math.nan, 0.0, math.nan)
    return t_test(float(values.mean()), float(values.var(ddof=1)) / len(values), len(values) - 1)


def users_by_seeds(difference: np.ndarray) -> TTest:
    """The mean of a `[seeds, users]` paired difference in a crossed random-effects model,
    d[s, u] = delta + user_u + seed_s + residual (two-way ANOVA without replication).

    Var(mean) = var_user / U + var_seed / S + var_residual / (U S) is estimated from the mean
    squares, E[MS_user] = var_res + S var_user, E[MS_seed] = var_res + U var_seed,
    E[MS_res] = var_res, as (MS_res + [MS_user - MS_res]+ + [MS_seed - MS_res]+) / (U S): a
    variance component estimated below zero counts as zero. So the test is the per-user
    paired t-test exactly when the seeds add no spread, and nears the t-test over per-seed
    means when the seeds disagree. Satterthwaite degrees of freedom."""
    seeds, users = difference.shape
    if seeds < 2:
        return one_sample(difference.mean(axis=0))
    if users < 2:
        return one_sample(difference.mean(axis=1))
    mean = float(difference.mean())
    by_user = difference.mean(axis=0, keepdims=True)
    by_seed = difference.mean(axis=1, keepdims=True)
    residual = difference - by_user - by_seed + mean
    df_user, df_seed = users - 1, seeds - 1
    df_residual = df_user * df_seed
    ms_residual = float((residual**2).sum()) / df_residual
    components = [
        (seeds * float(((by_user - mean) ** 2).sum()) / df_user, df_user),
        (users * float(((by_seed - mean) ** 2).sum()) / df_seed, df_seed),
    ]
    above = [(ms, df) for ms, df in components if ms > ms_residual]
    terms = [(ms, df, 1) for ms, df in above] + [(ms_residual, df_residual, 1 - len(above))]
    total = sum(sign * ms for ms, _, sign in terms)
    spread = sum((sign * ms) ** 2 / df for ms, df, sign in terms)
    df = total**2 / spread if spread > 0 else float(df_residual)
    return t_test(mean, total / (users * seeds), df)


@dataclass(frozen=True)
class PairedComparison:
    """Row `a` against row `b` on the same users and seeds: the mean difference a - b over
    users and seeds, and three tests of it (module docstring). `seeds` is None with one
    seed, where `mixed` is the per-user test."""

    difference: float
    users: TTest
    seeds: TTest | None
    mixed: TTest

    def tests(self) -> dict[str, TTest | None]:
        return {"users": self.users, "seeds": self.seeds, "mixed": self.mixed}


def paired_comparison(a: ArrayLike, b: ArrayLike) -> PairedComparison:
    """Compare per-user metrics `a` and `b`, each `[seeds, users]` (or `[users]`: one seed)
    in the same seed and user order."""
    a = np.atleast_2d(np.asarray(a, dtype=np.float64))
    b = np.atleast_2d(np.asarray(b, dtype=np.float64))
    if a.shape != b.shape:
        raise ValueError(f"per-user metrics of different shapes {a.shape} and {b.shape}")
    difference = a - b
    users = one_sample(difference.mean(axis=0))
    seeds = one_sample(difference.mean(axis=1)) if len(difference) > 1 else None
    return PairedComparison(float(difference.mean()), users, seeds, users_by_seeds(difference))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order: the i-th smallest of m
    (i from 0) times m - i, never below the one before it, at most 1. Reject where the
    adjusted p < alpha and the family-wise error rate is at most alpha. NaN (untestable)
    stays NaN and does not count in m."""
    order = sorted((p, i) for i, p in enumerate(p_values) if not math.isnan(p))
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for step, (p, index) in enumerate(order):
        running = max(running, min(1.0, (len(order) - step) * p))
        adjusted[index] = running
    return adjusted


def holm_comparisons(family: Sequence[PairedComparison]) -> list[PairedComparison]:
    """`family` with `p_holm` set on every test, each kind of test (users, seeds, mixed)
    corrected over the whole family separately."""
    out = list(family)
    for kind in ("users", "seeds", "mixed"):
        tests = [comparison.tests()[kind] for comparison in out]
        adjusted = holm([math.nan if test is None else test.p_value for test in tests])
        out = [
            comparison if test is None else replace(comparison, **{kind: replace(test, p_holm=p)})
            for comparison, test, p in zip(out, tests, adjusted, strict=True)
        ]
    return out


def p_text(p: float | None, adjusted: float | None = None) -> str:
    """`0.0123 (0.0456)`: p and, in parentheses, its Holm-adjusted value; "—" untestable."""
    if p is None or math.isnan(p):
        return "—"
    return f"{p:.3g}" if adjusted is None else f"{p:.3g} ({adjusted:.3g})"
