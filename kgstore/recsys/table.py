"""Table 3 from a grid's per-user ranks: mean ± std over seeds of every metric, and a
paired test of each row against `none/random` on the same users, per slice; written as
Markdown, CSV, JSON and a PNG chart.

Slices: all evaluated users (every retriever row and the reranking row); the cold-start
users (the same rows on users with few training interactions); and the anonymous-session
users (held out of persona learning): the baseline, the `kg` row with their persona inferred
from their training history, and the same model given only the session.
"""

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgstore.recsys.grid import (
    ALL,
    ANONYMOUS,
    BASELINE,
    COLD_START,
    GridResult,
    anonymous_name,
    positions_in,
)
from kgstore.recsys.metrics import METRICS, metric_at
from kgstore.recsys.stats import MeanStd, PairedTest, mean_std, paired_test

TESTED = "NDCG@10"
"""The metric whose p-value the Markdown table shows (the JSON and CSV hold every one)."""

FILES = ("table3.md", "table3.csv", "table3.json", "table3.png")


@dataclass(frozen=True)
class TableRow:
    slice: str
    config: str
    users: int
    means: dict[str, MeanStd]
    tests: dict[str, PairedTest] | None
    """Against the baseline on the same users; None for the baseline itself."""


def metric_names(ks: tuple[int, ...]) -> list[tuple[str, str, int]]:
    return [(f"{metric}@{k}", metric, k) for k in ks for metric in METRICS]


def slice_rows(result: GridResult) -> dict[str, list[str]]:
    """Which rows each slice shows (see the module docstring)."""
    full = [
        name for name, row in result.rows.items() if len(row.positions) == len(result.slices[ALL])
    ]
    shown = {ALL: full, COLD_START: full}
    kg_row = result.config.kg_row
    if ANONYMOUS in result.slices and kg_row is not None:
        shown[ANONYMOUS] = [BASELINE, kg_row, anonymous_name(kg_row)]
    return shown


def table_rows(result: GridResult) -> list[TableRow]:
    names = metric_names(result.config.sasrec.ks)
    out = []
    for slice_name, rows in slice_rows(result).items():
        positions = result.slices[slice_name]
        if not len(positions):
            continue
        baseline, _ = positions_in(result.rows[BASELINE], positions)
        for name in rows:
            ranks, covered = positions_in(result.rows[name], positions)
            base = baseline if len(covered) == len(positions) else None
            means, tests = {}, {}
            for label, metric, k in names:
                values = metric_at(metric, ranks, k)
                means[label] = mean_std(values.mean(dim=1).numpy())
                if base is not None and name != BASELINE:
                    tests[label] = paired_test(values.numpy(), metric_at(metric, base, k).numpy())
            out.append(
                TableRow(slice_name, name, len(covered), means, None if name == BASELINE else tests)
            )
    return out


def _slice_title(result: GridResult, slice_name: str) -> str:
    if slice_name == COLD_START:
        return f"cold-start: users with ≤ {result.config.cold_start} training interactions"
    if slice_name == ANONYMOUS:
        return "anonymous sessions: users held out of persona learning"
    return ALL


def markdown(result: GridResult, rows: list[TableRow], run: str) -> str:
    names = [label for label, _, _ in metric_names(result.config.sasrec.ks)]
    lines = [
        f"# Table 3 — {result.domain.value} (run {run})",
        "",
        f"Mean ± std over {result.config.seeds} seeds; p: paired t-test of per-user {TESTED} "
        f"against {BASELINE} on the same users. {result.seconds:.0f} s on {result.device}.",
        "",
        *[f"- {note}" for note in result.notes],
        *[f"- {what}: {label}" for what, label in result.labels.items()],
    ]
    for slice_name in dict.fromkeys(row.slice for row in rows):
        lines += [
            "",
            f"## {_slice_title(result, slice_name)}",
            "",
            "| config | users | " + " | ".join(names) + f" | p ({TESTED}) |",
            "|---|---:|" + "---:|" * (len(names) + 1),
        ]
        for row in (r for r in rows if r.slice == slice_name):
            cells = [f"{row.means[n].mean:.4f} ± {row.means[n].std:.4f}" for n in names]
            p = "—" if not row.tests else f"{row.tests[TESTED].p_value:.3g}"
            lines.append(f"| {row.config} | {row.users:,} | " + " | ".join(cells) + f" | {p} |")
    return "\n".join(lines) + "\n"


def as_json(result: GridResult, rows: list[TableRow], run: str) -> dict[str, Any]:
    return {
        "run": run,
        "domain": result.domain.value,
        "config": result.config.to_dict(),
        "device": result.device,
        "seconds": result.seconds,
        "notes": result.notes,
        "labels": result.labels,
        "slices": {name: len(positions) for name, positions in result.slices.items()},
        "best_epochs": {name: row.best_epochs for name, row in result.rows.items()},
        "rows": [
            {
                "slice": row.slice,
                "config": row.config,
                "users": row.users,
                "metrics": {n: vars(value) for n, value in row.means.items()},
                "paired": {n: vars(test) for n, test in (row.tests or {}).items()},
            }
            for row in rows
        ],
    }


def _write_csv(path: Path, rows: list[TableRow]) -> None:
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(
            ["slice", "config", "users", "metric", "mean", "std", "seeds", "p_value", "difference"]
        )
        for row in rows:
            for name, value in row.means.items():
                test = (row.tests or {}).get(name)
                out.writerow(
                    [
                        row.slice,
                        row.config,
                        row.users,
                        name,
                        f"{value.mean:.6f}",
                        f"{value.std:.6f}",
                        value.seeds,
                        "" if test is None else f"{test.p_value:.6g}",
                        "" if test is None else f"{test.difference:.6f}",
                    ]
                )


def _write_chart(path: Path, result: GridResult, rows: list[TableRow]) -> None:
    """HR@10 and NDCG@10 of every slice's rows, with the std over seeds as error bars."""
    from kgstore.report.figures import SliceBars, write_slice_bars

    metrics = ("HR@10", TESTED)
    slices = [
        SliceBars(
            _slice_title(result, name),
            [row.config for row in shown],
            {metric: [row.means[metric].mean for row in shown] for metric in metrics},
            {metric: [row.means[metric].std for row in shown] for metric in metrics},
        )
        for name in dict.fromkeys(row.slice for row in rows)
        for shown in [[row for row in rows if row.slice == name]]
    ]
    title = f"Table 3, {result.domain.value}: mean ± std over {result.config.seeds} seeds"
    write_slice_bars(path, slices, metrics, title)


def write_table(result: GridResult, directory: Path, run: str) -> dict[str, Path]:
    """The four files of the table in `directory` (created); returns them by suffix."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = table_rows(result)
    paths = {name.rsplit(".", 1)[1]: directory / name for name in FILES}
    paths["md"].write_text(markdown(result, rows, run))
    _write_csv(paths["csv"], rows)
    paths["json"].write_text(json.dumps(as_json(result, rows, run), indent=2))
    _write_chart(paths["png"], result, rows)
    return paths
