"""Tensors for HDGI steps: the whole graph's meta-path inputs, or those of a batch of
target users for mini-batch mode.

A batch holds its targets, the source users their meta-path rows reach (every path's
sources in one set, so one user feature matrix serves all paths) and, per path, what
those sources reach (a sparse mean over the item/entity features, which every path and
batch shares). Its size is bounded by batch x (neighbours + in-links) whatever the number
of users in the graph, plus the feature matrices themselves.
"""

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from kgstore.models.hdgi import MetaPathInput
from kgstore.train.metapaths import MetaPathGraph


def sparse_tensor(matrix: sp.spmatrix) -> Tensor:
    """A coalesced torch COO tensor (float32): its backward pass is about twice as fast as
    CSR's on the CPU here."""
    coo = matrix.tocoo()
    indices = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
    values = torch.from_numpy(coo.data.astype(np.float32))
    return torch.sparse_coo_tensor(
        indices, values, size=coo.shape, check_invariants=False
    ).coalesce()


def remap_columns(matrix: sp.csr_matrix, kept: np.ndarray) -> sp.csr_matrix:
    """`matrix` restricted to the (sorted) columns `kept`, renumbered from 0; every
    nonzero column of `matrix` must be in `kept`."""
    return sp.csr_matrix(
        (matrix.data, np.searchsorted(kept, matrix.indices), matrix.indptr),
        shape=(matrix.shape[0], len(kept)),
    )


def mid_features(features: dict[str, np.ndarray]) -> dict[str, Tensor]:
    """Each mid type's features as a tensor sharing the array's memory."""
    return {node_type: torch.from_numpy(array) for node_type, array in features.items()}


def full_inputs(
    x_user: Tensor, paths: list[MetaPathGraph], features: dict[str, np.ndarray], device: str
) -> tuple[Tensor, list[MetaPathInput]]:
    shared = {k: v.to(device) for k, v in mid_features(features).items()}
    inputs = [
        MetaPathInput(
            path.name,
            path.mid_type,
            sparse_tensor(path.adjacency).to(device),
            sparse_tensor(path.user_to_mid).to(device),
            shared[path.mid_type],
        )
        for path in paths
    ]
    return x_user.to(device), inputs


def batch_inputs(
    x_user: Tensor,
    paths: list[MetaPathGraph],
    features: dict[str, np.ndarray],
    targets: np.ndarray,
    device: str,
) -> tuple[Tensor, list[MetaPathInput]]:
    """(source user features, meta-path inputs) of the sub-graph that `targets` (sorted
    user rows) need: adjacency rows [targets, sources] and what the sources reach."""
    rows = [path.adjacency[targets] for path in paths]
    sources = np.unique(np.concatenate([targets, *(r.indices for r in rows)]))
    shared = {k: v.to(device) for k, v in mid_features(features).items()}
    inputs = [
        MetaPathInput(
            path.name,
            path.mid_type,
            sparse_tensor(remap_columns(row, sources)).to(device),
            sparse_tensor(path.user_to_mid[sources]).to(device),
            shared[path.mid_type],
        )
        for path, row in zip(paths, rows, strict=True)
    ]
    return x_user[torch.from_numpy(sources)].to(device), inputs
