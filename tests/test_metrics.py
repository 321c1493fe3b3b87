"""Ranking metrics against rankings worked out by hand (no services)."""

import math

import pytest
import torch

from kgstore.errors import ModelDiverged
from kgstore.ranking.metrics import RankingMetrics, metric_at, ranks, sampled_ranks
from kgstore.ranking.stats import mean_std, paired_test


def test_rank_counts_ties_before_the_positive() -> None:
    # Column 2 is the positive (0.5); columns 1 and 3 tie with it, column 4 beats it.
    scores = torch.tensor([[0.1, 0.5, 0.5, 0.5, 0.9]])
    assert ranks(scores, torch.tensor([2])).tolist() == [4.0]


def test_everything_equal_is_the_worst_rank() -> None:
    scores = torch.zeros(1, 6)
    assert ranks(scores, torch.tensor([0])).tolist() == [6.0]


def test_positive_first_and_last() -> None:
    scores = torch.tensor([[3.0, 2.0, 1.0, 0.0], [3.0, 2.0, 1.0, 0.0]])
    assert ranks(scores, torch.tensor([0, 3])).tolist() == [1.0, 4.0]


def test_minus_infinity_columns_never_count() -> None:
    scores = torch.tensor([[float("-inf"), 0.2, 0.1]])
    assert ranks(scores, torch.tensor([2])).tolist() == [2.0]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ([0.5, float("nan"), 0.1], "its positive scored nan"),
        ([0.5, float("inf"), 0.1], "its positive scored inf"),
        ([0.5, float("-inf"), 0.1], "its positive scored -inf"),
        ([float("nan"), 0.2, 0.1], "a candidate scored nan or \\+inf"),
        ([float("inf"), 0.2, 0.1], "a candidate scored nan or \\+inf"),
    ],
)
def test_non_finite_scores_are_an_error_not_a_rank(row: list[float], message: str) -> None:
    """A NaN positive compared false with everything and ranked 1 (HR 1, NDCG and MRR inf
    at rank 0); a NaN competitor never counted before the positive."""
    scores = torch.tensor([[0.3, 0.2, 0.1], row])
    with pytest.raises(ModelDiverged, match=f"1 of 2 rows; {message}") as excinfo:
        ranks(scores, torch.tensor([1, 1]))
    assert excinfo.value.row == 1


def test_metrics_by_hand() -> None:
    rank = torch.tensor([1.0, 3.0, 10.0, 11.0, math.inf], dtype=torch.float64)
    assert metric_at("HR", rank, 10).tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]
    assert metric_at("MRR", rank, 10).tolist() == pytest.approx([1.0, 1 / 3, 0.1, 0.0, 0.0])
    assert metric_at("NDCG", rank, 10).tolist() == pytest.approx(
        [1.0, 0.5, 1 / math.log2(11), 0.0, 0.0]
    )


def test_k_larger_than_the_catalogue_counts_every_ranked_positive() -> None:
    scores = torch.tensor([[0.3, 0.2, 0.1]])  # 3 items, positive last
    metrics = RankingMetrics(ranks(scores, torch.tensor([2])), ks=(10, 100))
    means = metrics.means()
    assert means["HR@10"] == means["HR@100"] == 1.0
    assert means["NDCG@100"] == pytest.approx(1 / math.log2(4))
    assert means["MRR@10"] == pytest.approx(1 / 3)


def test_exclusion_removes_listed_items_but_never_the_positive() -> None:
    scores = torch.tensor([[9.0, 8.0, 7.0, 6.0, 5.0]])
    positive = torch.tensor([3])
    assert ranks(scores, positive).tolist() == [4.0]
    # Items 0 and 1 excluded; the positive listed too (a repeat) stays; -1 is padding.
    exclude = torch.tensor([[0, 3, 1, -1]])
    assert ranks(scores, positive, exclude).tolist() == [2.0]
    assert scores.tolist() == [[9.0, 8.0, 7.0, 6.0, 5.0]]  # the caller's scores untouched


def test_sampled_ranks_draw_no_padding_and_no_positive() -> None:
    # Column 0 is padding; every real item but the positive (4) beats the positive.
    scores = torch.tensor([[100.0, 5.0, 5.0, 5.0, 1.0]])
    generator = torch.Generator().manual_seed(0)
    rank = sampled_ranks(scores, torch.tensor([4]), 100, generator)
    assert rank.tolist() == [101.0]  # all 100 negatives are real items above it


def test_labels_name_the_protocol() -> None:
    rank = torch.tensor([1.0], dtype=torch.float64)
    assert "HR@10 (sampled 100)" in RankingMetrics(rank, (10,), "sampled 100").means()
    assert list(RankingMetrics(rank, (10,)).means()) == ["HR@10", "NDCG@10", "MRR@10"]
    assert "history excluded" in RankingMetrics(rank, (10,), excluded=True).label


def test_mean_std_and_paired_test() -> None:
    summary = mean_std([0.1, 0.2, 0.3])
    assert summary.mean == pytest.approx(0.2) and summary.std == pytest.approx(0.1)
    better = torch.ones(200).numpy()
    worse = (torch.arange(200) % 2).double().numpy()
    result = paired_test(better, worse)
    assert result.difference == pytest.approx(0.5) and result.p_value < 1e-10
    assert paired_test(worse, worse).p_value == 1.0
    # With seeds, users are averaged over seeds first: [2 seeds, 200 users].
    assert paired_test([better, better], [worse, worse]).users == 200
