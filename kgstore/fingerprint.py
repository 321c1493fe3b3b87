"""Fingerprints that tell a rerun it may reuse a finished run instead of computing it again.

A run's numbers are a function of its inputs, its config, the code and the arithmetic
of the machine (device; torch, NumPy and SciPy versions; thread count: reductions split
over another number of threads round differently, so a SASRec trained on one thread stops
at another epoch than on two). A fingerprint hashes all of them; a finished run recorded
with the same fingerprint would give the same numbers, so `make demo` a second time on an
unchanged graph reuses it and says so. Any edit to a `.py` file of the package changes
the code part, so a fingerprint never outlives the code that made it.
"""

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import torch
from torch import Tensor

PACKAGE = Path(__file__).resolve().parent


def code_fingerprint(package: Path = PACKAGE) -> str:
    """sha256 over the path and bytes of every `.py` file of the kgstore package."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


CODE = code_fingerprint()
"""Taken when the package is imported: a worker that keeps running old code after the
files changed still fingerprints the code it runs."""


def machine_arithmetic(device: str) -> dict[str, Any]:
    """What besides the code decides the floating-point results on this machine: the
    device, the numeric libraries' versions and torch's thread count."""
    return {
        "device": str(device),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "threads": torch.get_num_threads(),
    }


def fingerprint(
    device: str, described: dict[str, Any], arrays: Iterable[Tensor | np.ndarray] = ()
) -> str:
    """sha256 of `described` (JSON-able: config, input keys), the code, the machine's
    arithmetic and the bytes (with dtype and shape) of `arrays`, in order."""
    digest = hashlib.sha256()
    head = {**described, "code": CODE, **machine_arithmetic(device)}
    digest.update(json.dumps(head, sort_keys=True, default=str).encode())
    for array in arrays:
        values = array.detach().cpu().numpy() if isinstance(array, Tensor) else array
        values = np.ascontiguousarray(values)
        digest.update(f"\0{values.dtype}{values.shape}\0".encode())
        digest.update(values.tobytes())
    return digest.hexdigest()
