"""Fingerprints (kgstore.fingerprint): every part of a run's inputs moves the digest, and
nothing else does."""

from pathlib import Path

import numpy as np
import torch

from kgstore.fingerprint import code_fingerprint, fingerprint

CONFIG = {"config": {"seed": 0, "rows": ["none/random"]}}


def test_same_inputs_same_digest_and_each_part_moves_it() -> None:
    vectors = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    base = fingerprint("cpu", CONFIG, [vectors])
    assert fingerprint("cpu", {"config": {"rows": ["none/random"], "seed": 0}}, [vectors]) == base
    assert fingerprint("cpu", CONFIG, [vectors.clone()]) == base
    changed = vectors.clone()
    changed[2, 3] += 1e-6
    others = [
        fingerprint("cpu", {"config": {"seed": 1, "rows": ["none/random"]}}, [vectors]),
        fingerprint("cpu", CONFIG, [changed]),
        fingerprint("cpu", CONFIG, [vectors.double()]),  # same values, another dtype
        fingerprint("cpu", CONFIG, [vectors.reshape(4, 3)]),  # same bytes, another shape
        fingerprint("cpu", CONFIG, [vectors[:1], vectors[1:]]),  # split differently
        fingerprint("cuda", CONFIG, [vectors]),
        fingerprint("cpu", CONFIG, [vectors.numpy()[::-1].copy()]),
    ]
    assert len({base, *others}) == len(others) + 1


def test_thread_count_is_part_of_the_digest() -> None:
    """SASRec stops at other epochs on one thread than on two: not the same numbers."""
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = fingerprint("cpu", CONFIG)
        torch.set_num_threads(2)
        two = fingerprint("cpu", CONFIG)
    finally:
        torch.set_num_threads(before)
    assert one != two


def test_numpy_and_torch_arrays_of_the_same_values_agree() -> None:
    values = np.linspace(0, 1, 10, dtype=np.float32)
    assert fingerprint("cpu", CONFIG, [values]) == fingerprint(
        "cpu", CONFIG, [torch.from_numpy(values)]
    )


def test_code_fingerprint_moves_with_any_python_source_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    source = tmp_path / "train" / "sasrec.py"
    source.write_text("LR = 1e-3\n")
    first = code_fingerprint(tmp_path)
    (tmp_path / "notes.txt").write_text("not code")
    (tmp_path / "__pycache__").mkdir()
    assert code_fingerprint(tmp_path) == first
    source.write_text("LR = 2e-3\n")
    edited = code_fingerprint(tmp_path)
    (tmp_path / "train" / "new.py").write_text("")
    added = code_fingerprint(tmp_path)
    source.rename(tmp_path / "sasrec.py")
    moved = code_fingerprint(tmp_path)
    assert len({first, edited, added, moved}) == 4
