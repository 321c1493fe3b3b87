"""A Table 3 `GridResult` made up without training (random ranks of the real row names and
slices), for the code that only reads a result: the table's files and the saved ranks."""

from collections.abc import Callable

import torch
from torch import Tensor

from kgstore.graph.mapping import Domain
from kgstore.recsys.grid import (
    ALL,
    ANONYMOUS,
    COLD_START,
    GridConfig,
    GridResult,
    RowRanks,
    anonymous_name,
    rerank_name,
)
from kgstore.train.sasrec import SASRecConfig

ITEMS = 500


def grid_result(
    config: GridConfig,
    slices: dict[str, Tensor],
    ranks_of: Callable[[str, Tensor], list[Tensor]],
    domain: Domain = Domain.MOVIES,
    notes: tuple[str, ...] = ("made up",),
    labels: dict[str, str] | None = None,
) -> GridResult:
    """A finished grid of `config`'s rows and its rerank row over every user of
    `slices[ALL]`, and the anonymous row of its kg row over `slices[ANONYMOUS]`, in that
    order; `ranks_of(row name, its positions)` gives a row's ranks, one tensor per seed."""
    anonymous = anonymous_name(config.kg_row)
    rows = {}
    for name in [*config.rows, rerank_name(config.rerank), anonymous]:
        positions = slices[ANONYMOUS] if name == anonymous else slices[ALL]
        rows[name] = RowRanks(name, positions, ranks_of(name, positions))
    return GridResult(domain, config, rows, slices, list(notes), labels or {}, "cpu", 1.0)


def made_up_result(users: int = 300, seeds: int = 2, seed: int = 0) -> GridResult:
    """Every Table 3 row over `users` test positions (the anonymous row over every third),
    ranks drawn uniformly from 1..ITEMS, the reranking row's misses +inf."""
    generator = torch.Generator().manual_seed(seed)
    config = GridConfig(seeds=seeds, sasrec=SASRecConfig(max_epochs=1))
    everyone = torch.arange(users)
    slices = {ALL: everyone, COLD_START: everyone[users // 2 :], ANONYMOUS: everyone[::3]}

    def drawn(_name: str, positions: Tensor) -> list[Tensor]:
        return [
            torch.randint(1, ITEMS, (len(positions),), generator=generator).double()
            for _ in range(seeds)
        ]

    result = grid_result(config, slices, drawn, labels={"item random": "a table"})
    result.rows[rerank_name(config.rerank)].ranks[0][::7] = float("inf")
    return result
