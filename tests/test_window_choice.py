"""`kgctl evaluate --windows`: the window is chosen on validation NDCG@10 of the trained
models, never on the test ranks (no services)."""

import pytest

from kgstore.errors import ConfigError
from kgstore.recsys.window import WindowChoice, parse_windows, validation_score
from tests.grid_results import made_up_result


def with_validation(best: list[float], test_rank: float):
    """A made-up grid whose models' best validation scores are `best` (one model per row
    with curves) and whose every test rank is `test_rank`."""
    result = made_up_result(users=30, seeds=1)
    names = list(result.config.rows)
    for name, score in zip(names, best, strict=False):
        result.rows[name].curves = [{"validation": [score / 2, score, score / 3]}]
    for row in result.rows.values():
        row.ranks = [row.ranks[0].fill_(test_rank)]
    return result


def test_the_window_follows_validation_not_test() -> None:
    # Window 5: better test ranks (1 everywhere), worse validation; window 50 the reverse.
    short = with_validation([0.10, 0.12], test_rank=1.0)
    long = with_validation([0.11, 0.13], test_rank=400.0)
    assert validation_score(short) == pytest.approx(0.11)
    assert validation_score(long) == pytest.approx(0.12)
    choice = WindowChoice(
        {5: validation_score(short), 50: validation_score(long)}, {5: "run5", 50: "run50"}
    )
    assert choice.chosen == 50
    assert choice.lines()[1].endswith("(run run50)  <- chosen")
    assert WindowChoice({5: 0.1, 50: 0.1}, {5: "a", 50: "b"}).chosen == 5  # tie: shorter


def test_a_grid_without_trained_models_cannot_choose() -> None:
    with pytest.raises(ValueError, match="trained no model"):
        validation_score(made_up_result(users=30, seeds=1))


@pytest.mark.parametrize("text", ["", "5,x", "0,5", "5,5"])
def test_bad_windows_are_refused_naming_the_value(text: str) -> None:
    with pytest.raises(ConfigError, match="--windows"):
        parse_windows(text)
    assert parse_windows("50,5,10") == [5, 10, 50]
