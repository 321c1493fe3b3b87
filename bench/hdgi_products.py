"""HDGI epochs with the meta-path products in CSR (`SparseProduct`, the code) against
torch's COO product (the code before 2026-12-05), in the same process on the same graph.

The graph is the Amazon-KG Books shape of `bench/hdgi_scale.py` (generated in Python, the
export's split and hold-out rules, random 384-d features; `--factor` for 2x, 4x). Each
product trains a fresh model from the same seed for `--epochs` full-batch epochs (no
early stopping), alternately `--rounds` times; the epoch is the median over every epoch
but each run's first. The losses of every epoch must be equal bit for bit between the two,
and so must the personas, or the bench stops before printing a ratio.

    .venv/bin/python bench/hdgi_products.py --epochs 20
"""

import argparse
import statistics
import time

import numpy as np
import scipy.sparse as sp
import torch
from hdgi_scale import scale_snapshot

from kgstore.demo.scale import BOOKS_SHAPE
from kgstore.models.hdgi import MetaPathInput
from kgstore.train import hdgi as hdgi_training
from kgstore.train.hdgi import HDGIConfig, persona_graph, train_hdgi


class CooProduct:
    """The baseline: a coalesced COO tensor and `torch.sparse.mm`, autograd's backward."""

    def __init__(self, matrix: sp.spmatrix) -> None:
        coo = sp.coo_matrix(matrix)
        indices = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
        values = torch.from_numpy(coo.data.astype(np.float32))
        self.matrix = torch.sparse_coo_tensor(indices, values, size=coo.shape).coalesce()

    def __matmul__(self, dense: torch.Tensor) -> torch.Tensor:
        return torch.sparse.mm(self.matrix, dense)


def with_coo(paths: list[MetaPathInput], graph_paths: list) -> list[MetaPathInput]:
    return [
        MetaPathInput(path.name, path.mid_type, CooProduct(source.adjacency), path.reached)
        for path, source in zip(paths, graph_paths, strict=True)
    ]


def timed_run(graph, config: HDGIConfig, coo: bool) -> tuple[list[float], list[float], np.ndarray]:
    """(epoch seconds, losses, personas) of one training run."""
    original = hdgi_training.full_inputs

    def inputs(x_user, paths, features, device):
        x, made = original(x_user, paths, features, device)
        return x, with_coo(made, paths) if coo else made

    hdgi_training.full_inputs = inputs
    try:
        marks = [time.perf_counter()]
        result = train_hdgi(graph, config, progress=lambda *_: marks.append(time.perf_counter()))
    finally:
        hdgi_training.full_inputs = original
    return np.diff(marks).tolist()[1:], result.losses, result.personas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--factor", type=int, default=1, help="times the Books shape")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    started = time.perf_counter()
    snapshot = scale_snapshot(BOOKS_SHAPE.times(args.factor))
    config = HDGIConfig(epochs=args.epochs, patience=args.epochs + 1)
    graph = persona_graph(snapshot, config)
    nonzeros = sum(path.adjacency.nnz for path in graph.paths)
    print(
        f"{args.factor}x Books shape: {len(snapshot.users):,} users, {len(graph.paths)} "
        f"meta-paths, {nonzeros:,} adjacency nonzeros; built in "
        f"{time.perf_counter() - started:.0f} s; torch threads {torch.get_num_threads()}"
    )
    epochs: dict[str, list[float]] = {"coo": [], "csr": []}
    results: dict[str, tuple[list[float], np.ndarray]] = {}
    for _ in range(args.rounds):
        for name in epochs:
            seconds, losses, personas = timed_run(graph, config, coo=name == "coo")
            epochs[name] += seconds
            results.setdefault(name, (losses, personas))
            assert results[name][0] == losses, f"{name}: another run, other losses"
    (coo_losses, coo_personas), (csr_losses, csr_personas) = results["coo"], results["csr"]
    assert coo_losses == csr_losses, "the two products give different losses"
    assert np.array_equal(coo_personas, csr_personas), "the two products give other personas"
    print(f"losses of all {args.epochs} epochs and the personas: equal bit for bit")
    coo, csr = statistics.median(epochs["coo"]), statistics.median(epochs["csr"])
    print(f"epoch, COO product (baseline): {coo:.3f} s (median of {len(epochs['coo'])})")
    print(f"epoch, CSR products:           {csr:.3f} s (median of {len(epochs['csr'])})")
    print(f"ratio CSR / COO: {csr / coo:.2f} ({coo / csr:.2f}x faster)")


if __name__ == "__main__":
    main()
