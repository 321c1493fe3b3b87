"""Table 3's statistics on constructed grid results (no service, no training): what each
row is compared with, the tests over users and over seeds, Holm-Bonferroni over the table,
one seed without a made-up spread, and the report rendering the same."""

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from kgstore.graph.mapping import Domain
from kgstore.ranking.stats import holm, paired_comparison
from kgstore.recsys.grid import (
    ALL,
    ANONYMOUS,
    COLD_START,
    GridConfig,
    GridResult,
    anonymous_name,
    rerank_name,
)
from kgstore.recsys.table import as_json, markdown, table_rows, write_table
from kgstore.report.gather import RunNode
from kgstore.report.page import page
from kgstore.report.sections import table3
from tests.grid_results import grid_result

USERS = 600
KG = "kg/description"


def result(ranks: dict[str, list[torch.Tensor]], config: GridConfig, held: int = 200) -> GridResult:
    """A finished grid over USERS users: the first `held` are the anonymous slice, every
    third user is cold-start. `ranks` per row, one tensor per seed; a row missing here
    reuses none/random's ranks."""
    everyone = torch.arange(USERS)
    slices = {ALL: everyone, COLD_START: everyone[::3], ANONYMOUS: everyone[:held]}

    def given(name: str, positions: torch.Tensor) -> list[torch.Tensor]:
        return [r[positions] for r in ranks.get(name, ranks["none/random"])]

    return grid_result(config, slices, given, Domain.BOOKS, ("a note",))


def random_ranks(seeds: int, seed: int = 0) -> list[torch.Tensor]:
    """A row's ranks per seed: each user's own rank (an easy test item stays easy), moved
    by up to 2 places from seed to seed."""
    generator = torch.Generator().manual_seed(seed)
    own = torch.randint(1, 300, (USERS,), generator=generator)
    return [
        (own + torch.randint(0, 3, (USERS,), generator=generator)).double() for _ in range(seeds)
    ]


def by_pair(rows, slice_name=ALL):
    return {
        (row.config, test.against): test for row in rows if row.slice == slice_name
        for test in row.tests
    }  # fmt: skip


def test_each_row_is_compared_with_the_rows_one_component_away() -> None:
    grid = result({"none/random": random_ranks(2)}, GridConfig(seeds=2))
    rows = table_rows(grid)
    pairs = {pair: test.differs for pair, test in by_pair(rows).items()}
    rerank = rerank_name(KG)
    assert pairs == {
        ("none/description", "none/random"): "baseline",
        ("random/description", "none/random"): "baseline",
        ("random/description", "none/description"): "user",
        ("llm/description", "none/random"): "baseline",
        ("llm/description", "none/description"): "user",
        ("llm/description", "random/description"): "user",
        (KG, "none/random"): "baseline",
        (KG, "none/description"): "user",
        (KG, "random/description"): "user",
        (KG, "llm/description"): "user",
        (rerank, "none/random"): "baseline",
        (rerank, KG): "retriever",
    }
    assert by_pair(rows, COLD_START).keys() == by_pair(rows).keys()
    anonymous = {pair: test.differs for pair, test in by_pair(rows, ANONYMOUS).items()}
    assert anonymous == {
        (KG, "none/random"): "baseline",
        (anonymous_name(KG), "none/random"): "baseline",
        (anonymous_name(KG), KG): "persona source",
    }
    # Generic in the row names: an item-only neighbour, and a user-only one listed later.
    config = GridConfig(
        rows=("none/random", "kg/random", KG, "none/description"), seeds=2, rerank=KG
    )
    rows = table_rows(result({"none/random": random_ranks(2)}, config))
    pairs = {pair: test.differs for pair, test in by_pair(rows).items()}
    assert pairs[KG, "kg/random"] == "item"
    assert pairs["none/description", KG] == "user"
    assert (KG, "none/description") not in pairs and ("kg/random", KG) not in pairs


def test_a_row_level_with_the_baseline_but_below_its_neighbour_is_marked() -> None:
    # The real-Books case: kg/description is none/random again (p 1 against it), while
    # none/description ranks every positive 3 places higher on every seed.
    base = random_ranks(3)
    better = [torch.clamp(r - 3, min=1) for r in base]
    grid = result({"none/random": base, KG: base, "none/description": better}, GridConfig(seeds=3))
    rows = table_rows(grid)
    tests = by_pair(rows)
    assert tests[KG, "none/random"].metrics["NDCG@10"].mixed.p_value == 1.0
    below = tests[KG, "none/description"].metrics["NDCG@10"]
    assert below.difference < 0
    assert below.users.p_holm < 0.05 and below.mixed.p_holm < 0.05
    text = markdown(grid, rows, "r1")
    line = next(x for x in text.splitlines() if x.startswith(f"| {KG} | none/description |"))
    # The direction beside the marked p, in words: a terminal shows no bold or colour.
    marked = f"**{below.mixed.p_value:.3g} ({below.mixed.p_holm:.3g}) worse**"
    assert f"| user | {below.difference:+.4f} |" in line and f"| {marked} |" in line


def test_one_lucky_seed_is_not_marked_though_the_users_test_says_so() -> None:
    # Better than the baseline in seed 0 only: averaged over seeds, every user is at least
    # as good, so the per-user test is sure; over seeds it is one seed of three.
    base = random_ranks(3)
    lucky = [torch.ones(USERS, dtype=torch.float64), base[1], base[2]]
    rows = table_rows(result({"none/random": base, KG: lucky}, GridConfig(seeds=3)))
    test = by_pair(rows)[KG, "none/random"].metrics["NDCG@10"]
    assert test.difference > 0 and test.users.p_holm < 1e-6
    assert test.seeds.p_value > 0.3 and test.mixed.p_value > 0.3
    rendered = as_json(result({"none/random": base, KG: lucky}, GridConfig(seeds=3)), rows, "r")
    stored = next(r for r in rendered["rows"] if r["config"] == KG and r["slice"] == ALL)
    assert stored["tests"][0]["metrics"]["NDCG@10"]["verdict"] == ""


def test_the_users_by_seeds_test_counts_seed_variation() -> None:
    rng = np.random.default_rng(7)
    rejected = {"users": 0, "mixed": 0}
    for _ in range(200):
        # No true difference: user effects, seed effects (training luck) and noise.
        noise = rng.normal(0, 0.3, (3, 400)) + rng.normal(0, 0.2, (1, 400))
        difference = noise + rng.normal(0, 0.03, (3, 1))
        comparison = paired_comparison(difference, np.zeros_like(difference))
        rejected["users"] += comparison.users.p_value < 0.05
        rejected["mixed"] += comparison.mixed.p_value < 0.05
    assert rejected["users"] > 40  # about 1 in 4 "significant" by seed luck alone
    assert rejected["mixed"] < 20  # near the nominal 1 in 20
    # Seeds that agree exactly add nothing: the test is then the per-user one.
    same = np.tile(rng.normal(0.01, 0.1, (1, 300)), (3, 1))
    comparison = paired_comparison(same, np.zeros_like(same))
    assert comparison.mixed.p_value == pytest.approx(comparison.users.p_value)
    assert comparison.mixed.df == pytest.approx(299)


def test_holm_over_every_comparison_of_the_table(tmp_path: Path) -> None:
    assert holm([0.01, 0.04, 0.03, math.nan, 0.005]) == pytest.approx(
        [0.03, 0.06, 0.06, math.nan, 0.02], nan_ok=True
    )
    base = random_ranks(3)
    ranks = {"none/random": base, KG: [torch.clamp(r - 2, min=1) for r in base]}
    ranks["llm/description"] = random_ranks(3, seed=1)
    grid = result(ranks, GridConfig(seeds=3))
    table = as_json(grid, table_rows(grid), "r")
    family = [
        test["metrics"][m]["mixed"]
        for row in table["rows"]
        for test in row["tests"]
        for m in ("NDCG@10", "HR@100")
    ]
    assert len(family) == 2 * (12 + 12 + 3)  # all users, cold-start, anonymous session
    adjusted = holm([test["p_value"] for test in family])
    assert [test["p_holm"] for test in family] == pytest.approx(adjusted)
    assert any(a > test["p_value"] for a, test in zip(adjusted, family, strict=True))
    outside = table["rows"][1]["tests"][0]["metrics"]["MRR@10"]["mixed"]
    assert outside["p_holm"] is None and outside["p_value"] is not None
    assert f"family of {len(family)} tests" in " ".join(table["statistics"]["notes"])
    # The CSV carries every test of every metric, the adjusted p where corrected.
    with write_table(grid, tmp_path, "r")["csv"].open() as handle:
        tests = [line for line in csv.DictReader(handle) if line["against"]]
    assert len(tests) == 6 * len(family) // 2
    headline = [line for line in tests if line["metric"] in ("NDCG@10", "HR@100")]
    assert [float(line["mixed_p_holm"]) for line in headline] == pytest.approx(adjusted, rel=1e-5)
    assert all(line["mixed_p_holm"] == "" for line in tests if line["metric"] == "MRR@10")


def test_the_csv_holds_every_digit_and_ends_lines_with_newline(tmp_path: Path) -> None:
    grid = result({"none/random": random_ranks(3), KG: random_ranks(3, seed=3)}, GridConfig())
    rows = table_rows(grid)
    path = write_table(grid, tmp_path, "r")["csv"]
    assert b"\r" not in path.read_bytes()
    with path.open(newline="") as handle:
        lines = list(csv.DictReader(handle))
    kg = next(row for row in rows if row.config == KG and row.slice == ALL)
    means = [line for line in lines if line["config"] == KG and line["slice"] == ALL]
    assert {line["metric"]: float(line["mean"]) for line in means if not line["against"]} == {
        name: float(value.mean) for name, value in kg.means.items()
    }
    [baseline] = [
        line for line in means if line["against"] == "none/random" and line["metric"] == "NDCG@10"
    ]
    assert float(baseline["difference"]) == kg.tests[0].metrics["NDCG@10"].difference


def test_one_seed_shows_no_spread_and_no_seed_test() -> None:
    grid = result(
        {"none/random": random_ranks(1), KG: random_ranks(1, seed=2)}, GridConfig(seeds=1)
    )
    rows = table_rows(grid)
    text = markdown(grid, rows, "r1")
    assert "±" not in text and "n = 1" in text
    table = json.loads(json.dumps(as_json(grid, rows, "r1")))
    kg = next(r for r in table["rows"] if r["config"] == KG and r["slice"] == ALL)
    assert kg["metrics"]["NDCG@10"]["std"] is None
    tested = kg["tests"][0]["metrics"]["NDCG@10"]
    assert tested["seeds"] is None and tested["mixed"] == tested["users"]


def test_the_report_shows_every_comparison_with_adjusted_p() -> None:
    base = random_ranks(3)
    better = [torch.clamp(r - 3, min=1) for r in base]
    grid = result({"none/random": base, KG: base, "none/description": better}, GridConfig(seeds=3))
    rows = table_rows(grid)
    metrics = json.loads(json.dumps(as_json(grid, rows, "r1")))
    run = RunNode("r1", "evaluate", "sasrec", "books", "finished", None, None, {}, metrics)
    html = page("t", "s", [("table3", "Table 3", table3(run))], "f")
    below = by_pair(rows)[KG, "none/description"].metrics["NDCG@10"].mixed
    line = html.split(f'data-config="{KG}" data-against="none/description"')[1]
    cells = line.split("</tr>")[0]
    shown = f'{below.p_value:.3g}<span class="std">Holm {below.p_holm:.3g}</span>'
    assert f'<td class="num worse">{shown}</td>' in cells
    assert "p users x seeds (HR@100)" in html and "Holm-Bonferroni" in html
