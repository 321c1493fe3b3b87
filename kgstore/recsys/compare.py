"""`kgctl evaluate RUN --compare A B`: the paired test of any two rows of a finished grid
run, from its saved per-user ranks (kgstore.recsys.saved_ranks), without training.

The numbers are computed as the table computes its comparisons (the same slice positions,
per-user metrics from the ranks, the same three tests: users, seeds, users x seeds), so
comparing two rows the table compares prints the table's raw p. They are uncorrected:
this comparison is outside the table's Holm family. Two rows that cover different users
(the anonymous-session row covers only the held-out users) are compared on the users
both cover within the slice.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from kgstore.db import Database
from kgstore.errors import KgstoreError
from kgstore.ranking.metrics import metric_at
from kgstore.ranking.stats import PairedComparison, mean_std, paired_comparison
from kgstore.recsys.grid import ALL, positions_in
from kgstore.recsys.saved_ranks import RANKS_FILE, SavedRanks, load_ranks
from kgstore.recsys.table import metric_names


@dataclass(frozen=True)
class Comparison:
    """One metric of row `a` against row `b`: each row's mean over seeds, and the tests."""

    metric: str
    mean_a: float
    mean_b: float
    test: PairedComparison


def run_ranks(db: Database, run_id: str) -> SavedRanks:
    """The saved ranks of the finished evaluation run `run_id`, found through its `Run`
    node; an unknown, unfinished or old run (from before ranks were saved) is refused."""
    rows = db.query(
        "MATCH (r:Run {id: $id, kind: 'evaluate'}) RETURN r.status AS status, r.metrics AS metrics",
        id=run_id,
    )
    if not rows:
        raise KgstoreError(f"no evaluation run {run_id}: see `kgctl runs --kind evaluate`")
    metrics = json.loads(rows[0]["metrics"] or "{}")
    if rows[0]["status"] != "finished":
        raise KgstoreError(f"run {run_id} is {rows[0]['status']}: {metrics.get('error', '')}")
    path = Path(metrics["artifacts"]) / RANKS_FILE
    if not path.exists():
        raise KgstoreError(
            f"run {run_id} has no saved per-user ranks ({path} is missing): it ran before "
            "the grid saved them, or its directory was moved; run the grid again to compare rows"
        )
    return load_ranks(path)


def _choice(kind: str, name: str, known: list[str], run: str) -> None:
    if name not in known:
        raise KgstoreError(f"no {kind} {name!r} in run {run}; its {kind}s: {', '.join(known)}")


def compare_rows(
    saved: SavedRanks,
    a: str,
    b: str,
    slice_name: str = ALL,
    metrics: list[str] | None = None,
) -> tuple[int, list[Comparison]]:
    """(users compared, one `Comparison` per metric — every metric of the run when
    `metrics` is None) of row `a` against row `b` on the users of `slice_name` both cover."""
    for name in (a, b):
        _choice("row", name, list(saved.rows), saved.run)
    _choice("slice", slice_name, list(saved.slices), saved.run)
    names = {label: (metric, k) for label, metric, k in metric_names(saved.ks)}
    for label in metrics or []:
        _choice("metric", label, list(names), saved.run)
    shared = np.intersect1d(
        saved.slices[slice_name].numpy(),
        np.intersect1d(saved.rows[a].positions.numpy(), saved.rows[b].positions.numpy()),
    )
    if not len(shared):
        raise KgstoreError(f"rows {a!r} and {b!r} share no user in the slice {slice_name!r}")
    ranks_a, covered = positions_in(saved.rows[a], torch.from_numpy(shared))
    ranks_b, covered_b = positions_in(saved.rows[b], torch.from_numpy(shared))
    assert covered.equal(covered_b), "rows keep their test positions in ascending order"
    out = []
    for label in metrics or list(names):
        metric, k = names[label]
        values_a, values_b = metric_at(metric, ranks_a, k), metric_at(metric, ranks_b, k)
        out.append(
            Comparison(
                label,
                mean_std(values_a.mean(dim=1).numpy()).mean,
                mean_std(values_b.mean(dim=1).numpy()).mean,
                paired_comparison(values_a.numpy(), values_b.numpy()),
            )
        )
    return len(shared), out
