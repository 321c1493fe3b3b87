"""A Table 3 `GridResult` made up without training (random ranks of the real row names and
slices), for the code that only reads a result: the table's files and the saved ranks."""

import torch

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


def made_up_result(users: int = 300, seeds: int = 2, seed: int = 0) -> GridResult:
    """Every Table 3 row over `users` test positions (the anonymous row over every third),
    ranks drawn uniformly from 1..ITEMS, the reranking row's misses +inf."""
    generator = torch.Generator().manual_seed(seed)
    config = GridConfig(seeds=seeds, sasrec=SASRecConfig(max_epochs=1))
    everyone = torch.arange(users)
    held = everyone[::3]
    slices = {ALL: everyone, COLD_START: everyone[users // 2 :], ANONYMOUS: held}
    names = [*config.rows, rerank_name(config.rerank)]
    rows = {name: RowRanks(name, everyone) for name in names}
    anonymous = anonymous_name(config.rerank)
    rows[anonymous] = RowRanks(anonymous, held)
    for row in rows.values():
        for _ in range(seeds):
            ranks = torch.randint(1, ITEMS, (len(row.positions),), generator=generator)
            row.ranks.append(ranks.double())
    rows[rerank_name(config.rerank)].ranks[0][::7] = float("inf")
    return GridResult(
        Domain.MOVIES, config, rows, slices, ["made up"], {"item random": "a table"}, "cpu", 1.0
    )
