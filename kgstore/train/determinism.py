"""Same seed, same numbers, also on several CPU threads.

With two or more threads torch's CPU kernels for `index_put_(accumulate=True)` — the
backward pass of indexing a tensor with repeated indices, as SASRec's sampled softmax
does with the batch's targets (`weight[targets]`) — add into shared rows in whatever
order the threads arrive, so the same seed gave other losses from the first epoch on
and a Table 3 row moved by a few ten-thousandths from one run to the next (movies demo
quick grid, none/random NDCG@10: 0.1183 then 0.1186). torch's deterministic mode sorts
those additions instead; on the demos it costs no measurable time.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def deterministic_kernels() -> Iterator[None]:
    """torch's deterministic algorithms inside, the caller's setting restored after. Ops
    without a deterministic kernel warn instead of failing (`warn_only`): on CUDA, cuBLAS
    needs CUBLAS_WORKSPACE_CONFIG set before start-up to be deterministic as well."""
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
