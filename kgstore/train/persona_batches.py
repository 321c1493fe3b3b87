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
    CSR's on the CPU here. Built from scipy's canonical CSR order (rows, then columns, no
    duplicates), which is what coalesced means, so torch has nothing to sort."""
    csr = sp.csr_matrix(matrix, dtype=np.float32)
    csr.sum_duplicates()
    coo = csr.tocoo()
    indices = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
    values = torch.from_numpy(coo.data)
    return torch.sparse_coo_tensor(
        indices, values, size=coo.shape, check_invariants=False, is_coalesced=True
    )


def sparse_pair(matrix: sp.spmatrix) -> tuple[Tensor, Tensor]:
    """(`sparse_tensor` of the matrix, of its transpose): for `models.hdgi.sparse_product`."""
    return sparse_tensor(matrix), sparse_tensor(sp.csr_matrix(matrix).T)


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
    shared = mid_features(features)
    inputs = [
        training_input(path, path.adjacency, path.user_to_mid, shared).to(device) for path in paths
    ]
    return x_user.to(device), inputs


def training_input(
    path: MetaPathGraph,
    adjacency: sp.csr_matrix,
    reach: sp.csr_matrix,
    shared: dict[str, Tensor],
) -> MetaPathInput:
    """`path`'s input with these adjacency and reach rows, transposes included."""
    adjacency_t, reach_t = sparse_pair(adjacency), sparse_pair(reach)
    return MetaPathInput(
        path.name,
        path.mid_type,
        adjacency_t[0],
        reach_t[0],
        shared[path.mid_type],
        adjacency_t[1],
        reach_t[1],
    )


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
    shared = mid_features(features)
    inputs = [
        training_input(path, remap_columns(row, sources), path.user_to_mid[sources], shared).to(
            device
        )
        for path, row in zip(paths, rows, strict=True)
    ]
    return x_user[torch.from_numpy(sources)].to(device), inputs
