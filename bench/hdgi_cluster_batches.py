"""A prototype of mini-batch HDGI that pays in time and memory, and what it costs in
structure: at 4x the Books shape, batches of users in a reverse Cuthill-McKee order of
the union of the meta-path graphs (or a random order), each batch a closed sub-graph
(meta-path edges that leave it are dropped), its users' reached features computed per
step by a CSR product (`user_to_mid` rows @ item or entity features) instead of held for
every user. Not in the library: it trains on a different graph than the full batch, and
what that does to the personas (probes, the grid) is not measured yet (BENCHMARKS.md,
issue 22, mini-batch).

Prints the share of adjacency nonzeros the batches keep, the median epoch (of epochs
2-3) and the peak RSS. Compare with `bench/hdgi_scale.py --factors 4` (full batch) on the
same machine.

    .venv/bin/python bench/hdgi_cluster_batches.py --batch 4096 --order rcm
"""

import argparse
import statistics
import time

import numpy as np
import scipy.sparse as sp
import torch
from hdgi_scale import rss_mib, scale_snapshot
from scipy.sparse.csgraph import reverse_cuthill_mckee

from kgstore.demo.scale import BOOKS_SHAPE
from kgstore.models.hdgi import MetaPathInput
from kgstore.models.sparse_product import SparseProduct, csr_tensor
from kgstore.train.hdgi import HDGIConfig, PersonaGraph, build_model, persona_graph


def user_order(graph: PersonaGraph, kind: str) -> np.ndarray:
    if kind == "random":
        return np.random.default_rng(0).permutation(graph.users)
    union = sp.csr_matrix(sum(path.adjacency for path in graph.paths))
    return np.asarray(reverse_cuthill_mckee(union, symmetric_mode=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--factor", type=int, default=4)
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--order", choices=("rcm", "random"), default="rcm")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    snapshot = scale_snapshot(BOOKS_SHAPE.times(args.factor))
    config = HDGIConfig()
    graph = persona_graph(snapshot, config)
    built_mib = rss_mib("VmRSS")
    order = user_order(graph, args.order)
    blocks = [
        np.sort(order[start : start + args.batch]) for start in range(0, graph.users, args.batch)
    ]
    kept = sum(path.adjacency[b][:, b].nnz for b in blocks for path in graph.paths)
    total = sum(path.adjacency.nnz for path in graph.paths)
    features = {
        kind: torch.from_numpy(np.asarray(x, np.float32)) for kind, x in graph.features.items()
    }
    batches = [
        (
            torch.from_numpy(block),
            [
                (
                    path,
                    SparseProduct.of(path.adjacency[block][:, block]),
                    csr_tensor(path.user_to_mid[block]),
                )
                for path in graph.paths
            ],
        )
        for block in blocks
    ]
    torch.manual_seed(config.seed)
    model = build_model(graph.in_channels, [path.name for path in graph.paths], config)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed)
    seconds = []
    for _ in range(args.epochs):
        started = time.perf_counter()
        for k in torch.randperm(len(batches), generator=generator).tolist():
            users, paths = batches[k]
            inputs = [
                MetaPathInput(
                    path.name,
                    path.mid_type,
                    adjacency,
                    torch.sparse.mm(rows, features[path.mid_type]),
                )
                for path, adjacency, rows in paths
            ]
            optimiser.zero_grad()
            loss = model(
                graph.x_user[users], inputs, torch.randperm(len(users), generator=generator)
            )
            loss.backward()
            optimiser.step()
        seconds.append(time.perf_counter() - started)
    print(
        f"{args.factor}x Books shape, {graph.users:,} users, {len(batches)} batches of "
        f"{args.batch} ({args.order} order): adjacency nonzeros kept {kept / total:.3f}; "
        f"epoch {statistics.median(seconds[1:]):.2f} s "
        f"(epochs {', '.join(f'{s:.2f}' for s in seconds)}); "
        f"RSS after the meta-paths {built_mib:,.0f} MiB, peak {rss_mib():,.0f} MiB"
    )


if __name__ == "__main__":
    main()
