"""The meta-path product in CSR (`SparseProduct`) gives what torch's COO product gave,
forward and gradient, on rectangular matrices (mini-batch rows), empty rows and columns,
and entries given twice: bit for bit at HDGI's width (64 columns, the default `hidden`,
so personas trained before are reproduced exactly), to rounding at a narrow one (MKL
accumulates 8 columns in another order)."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from kgstore.models.sparse_product import SparseProduct


def coo_tensor(matrix: sp.coo_matrix) -> torch.Tensor:
    indices = torch.from_numpy(np.vstack([matrix.row, matrix.col]).astype(np.int64))
    values = torch.from_numpy(matrix.data.astype(np.float32))
    return torch.sparse_coo_tensor(indices, values, size=matrix.shape).coalesce()


@pytest.mark.parametrize(
    ("rows", "columns", "width", "seed"),
    [(50, 50, 64, 0), (17, 60, 64, 1), (60, 9, 64, 2), (17, 60, 8, 3)],
)
def test_csr_product_and_gradient_equal_the_coo_product(
    rows: int, columns: int, width: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    # Distinct positions, none in the last two rows, then the first one given again.
    cells = rng.choice((rows - 2) * columns, size=rows * 2, replace=False)
    row, col = (
        np.append(cells // columns, cells[0] // columns),
        np.append(cells % columns, cells[0] % columns),
    )
    matrix = sp.coo_matrix((rng.random(len(row)), (row, col)), shape=(rows, columns))
    dense = torch.from_numpy(rng.standard_normal((columns, width)).astype(np.float32))
    upstream = torch.from_numpy(rng.standard_normal((rows, width)).astype(np.float32))

    expected_in = dense.clone().requires_grad_()
    expected = torch.sparse.mm(coo_tensor(matrix), expected_in)
    expected.backward(upstream)
    got_in = dense.clone().requires_grad_()
    got = SparseProduct.of(matrix) @ got_in
    got.backward(upstream)

    assert got.shape == (rows, width)
    same = torch.equal if width == 64 else lambda a, b: torch.allclose(a, b, rtol=0, atol=1e-5)
    assert same(got, expected)
    assert same(got_in.grad, expected_in.grad)
    assert not torch.equal(got_in.grad, torch.zeros_like(dense))
