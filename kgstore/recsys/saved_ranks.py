"""Every grid row's per-user ranks, saved in the run's directory (`ranks.npz`) beside
the table: any two rows can then be tested against each other later (`kgctl evaluate RUN
--compare A B`) without training anything again. Every metric of the table is a function
of these ranks (kgstore.ranking.metrics), so nothing else needs keeping.

The file holds, per row, its test positions and the rank of each position's positive per
seed (`[seeds, positions]`, float64; +inf: not among a reranker's candidates), each
slice's test positions, the user id of every test position, the seeds and the cutoffs.
One NumPy archive, no pickled objects; written to a temporary name and renamed, so a
reader never finds half a file.
"""

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kgstore.errors import KgstoreError
from kgstore.recsys.grid import GridResult, RowRanks

RANKS_FILE = "ranks.npz"
FORMAT = 1


@dataclass
class SavedRanks:
    """A grid run's rows as saved: what the table was computed from."""

    run: str
    domain: str
    users: list[str]
    """The user id of each test position."""
    seeds: list[int]
    ks: tuple[int, ...]
    rows: dict[str, RowRanks]
    slices: dict[str, Tensor]


def save_ranks(result: GridResult, users: list[str], directory: Path, run: str) -> Path:
    """Write `directory / ranks.npz` from the grid's result; `users` are the user ids of the
    test positions (`result.slices` index them)."""
    names = list(result.rows)
    manifest = {
        "format": FORMAT,
        "run": run,
        "domain": result.domain.value,
        "seeds": result.config.seed_values,
        "ks": list(result.config.sasrec.ks),
        "rows": names,
        "slices": list(result.slices),
    }
    arrays: dict[str, np.ndarray] = {
        "manifest": np.array(json.dumps(manifest)),
        "users": np.array(users, dtype=str),
    }
    for number, name in enumerate(names):
        row = result.rows[name]
        arrays[f"row{number}_positions"] = row.positions.numpy()
        arrays[f"row{number}_ranks"] = row.matrix.numpy()
    for number, positions in enumerate(result.slices.values()):
        arrays[f"slice{number}"] = positions.numpy()
    path = directory / RANKS_FILE
    partial = directory / f".{RANKS_FILE}.partial"
    with partial.open("wb") as handle:
        np.savez_compressed(handle, **arrays)
    os.replace(partial, path)
    return path


def _manifest(archive: Any, path: Path) -> dict[str, Any]:
    manifest = json.loads(str(archive["manifest"]))
    if manifest.get("format") != FORMAT:
        raise KgstoreError(f"{path}: ranks format {manifest.get('format')!r}, not {FORMAT}")
    return manifest


def load_ranks(path: Path) -> SavedRanks:
    """The ranks saved at `path`; a missing or unreadable file is a KgstoreError naming it."""
    if not path.exists():
        raise KgstoreError(f"no saved per-user ranks at {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            manifest = _manifest(archive, path)
            rows = {
                name: RowRanks(
                    name,
                    torch.from_numpy(archive[f"row{number}_positions"]),
                    list(torch.from_numpy(archive[f"row{number}_ranks"])),
                )
                for number, name in enumerate(manifest["rows"])
            }
            slices = {
                name: torch.from_numpy(archive[f"slice{number}"])
                for number, name in enumerate(manifest["slices"])
            }
            users = archive["users"].tolist()
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise KgstoreError(f"{path}: not a readable ranks file ({exc})") from exc
    return SavedRanks(
        manifest["run"],
        manifest["domain"],
        users,
        manifest["seeds"],
        tuple(manifest["ks"]),
        rows,
        slices,
    )
