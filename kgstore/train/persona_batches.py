"""Tensors for HDGI steps: the whole graph's meta-path inputs, or those of a batch of
target users for mini-batch mode.

A batch holds its targets, the source users their meta-path rows reach (every path's
sources in one set, so one user feature matrix serves all paths) and, per path, the mean
features of what those sources reach. Its size is bounded by batch x (neighbours +
in-links) whatever the number of users in the graph.
"""

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from kgstore.models.hdgi import MetaPathInput
from kgstore.models.sparse_product import SparseProduct
from kgstore.train.metapaths import MetaPathGraph


def remap_columns(matrix: sp.csr_matrix, kept: np.ndarray) -> sp.csr_matrix:
    """`matrix` restricted to the (sorted) columns `kept`, renumbered from 0; every
    nonzero column of `matrix` must be in `kept`."""
    return sp.csr_matrix(
        (matrix.data, np.searchsorted(kept, matrix.indices), matrix.indptr),
        shape=(matrix.shape[0], len(kept)),
    )


def reached_features(
    path: MetaPathGraph, users: np.ndarray | slice, features: dict[str, np.ndarray]
) -> Tensor:
    """[users, mid features]: the mean features of what each user reaches on `path`."""
    return torch.from_numpy(np.asarray(path.user_to_mid[users] @ features[path.mid_type]))


def full_inputs(
    x_user: Tensor, paths: list[MetaPathGraph], features: dict[str, np.ndarray], device: str
) -> tuple[Tensor, list[MetaPathInput]]:
    inputs = [
        MetaPathInput(
            path.name,
            path.mid_type,
            SparseProduct.of(path.adjacency),
            reached_features(path, slice(None), features),
        ).to(device)
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
    inputs = [
        MetaPathInput(
            path.name,
            path.mid_type,
            SparseProduct.of(remap_columns(row, sources)),
            reached_features(path, sources, features),
        ).to(device)
        for path, row in zip(paths, rows, strict=True)
    ]
    return x_user[torch.from_numpy(sources)].to(device), inputs
