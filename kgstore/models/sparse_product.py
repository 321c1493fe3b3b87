"""`A @ X` for a constant sparse `A` (a meta-path adjacency) and a dense `X` that needs a
gradient, with both products in CSR.

torch's COO product is the slow path on the CPU: at the Books shape (9,475 users, 326k
nonzeros, 64 columns) 7.1 ms forward against 1.1 ms for the same matrix in CSR (MKL's
kernel), and its backward transposes and sorts `A` in every step (22.8 ms forward and
backward against 2.3 ms with the transpose made once, in CSR). The meta-path products
were half of an HDGI epoch; with both in CSR an epoch's losses and the personas are the
same bit for bit (BENCHMARKS.md, issue 22).
"""

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor


class SparseProduct:
    """A constant sparse matrix in CSR with its transpose, ready for `@` a dense matrix."""

    def __init__(self, matrix: Tensor, transposed: Tensor) -> None:
        self.matrix = matrix
        self.transposed = transposed

    @classmethod
    def of(cls, matrix: sp.spmatrix) -> "SparseProduct":
        """From a SciPy matrix, its values made float32 before duplicates are summed, as a
        coalesced COO tensor would hold them."""
        coo = sp.coo_matrix(matrix)
        canonical = sp.csr_matrix(
            (coo.data.astype(np.float32), (coo.row, coo.col)), shape=coo.shape
        )
        canonical.sum_duplicates()
        return cls(csr_tensor(canonical), csr_tensor(canonical.T.tocsr()))

    @property
    def shape(self) -> torch.Size:
        return self.matrix.shape

    def to(self, device: torch.device | str) -> "SparseProduct":
        return SparseProduct(self.matrix.to(device), self.transposed.to(device))

    def __matmul__(self, dense: Tensor) -> Tensor:
        return _Product.apply(self.matrix, self.transposed, dense)


def csr_tensor(matrix: sp.csr_matrix) -> Tensor:
    """A SciPy CSR matrix as a torch CSR tensor of float32 values, columns sorted per row."""
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    matrix.sort_indices()
    with warnings.catch_warnings():
        # "Sparse CSR tensor support is in beta state": the products used are MKL's.
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            torch.from_numpy(matrix.indptr.astype(np.int64)),
            torch.from_numpy(matrix.indices.astype(np.int64)),
            torch.from_numpy(matrix.data),
            size=matrix.shape,
        )


class _Product(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, matrix: Tensor, transposed: Tensor, dense: Tensor) -> Tensor:
        ctx.transposed = transposed
        return torch.sparse.mm(matrix, dense)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, None, Tensor]:
        return None, None, torch.sparse.mm(ctx.transposed, grad)
