"""Table 3 from a grid's per-user ranks: the mean (± std) over seeds of every metric, and
paired comparisons of rows on the same users and seeds, per slice; written as Markdown,
CSV, JSON and a PNG chart.

Slices: all evaluated users (every retriever row and the reranking row); the cold-start
users (the same rows on users with few training interactions); and the anonymous-session
users (held out of persona learning): the baseline, the `kg` row with their persona inferred
from their training history, and the same model given only the session.

What is compared with what (`comparisons`), in every slice among the rows it shows: each
row with the baseline `none/random`; each `user/item` row with every earlier row that
differs from it in one component only (`kg/description` with `none/description`,
`random/description` and `llm/description`), so a row is never judged only against the
weakest one; the rerank row with the retriever whose candidates it reorders; the
anonymous-session row with the same `kg` model given the persona inferred from the user's
training history. Each comparison is tested three ways (kgstore.ranking.stats), and the
tests of the headline metrics over the whole table are one Holm-Bonferroni family.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats
from torch import Tensor

from kgstore.csv_out import csv_value, csv_writer
from kgstore.ranking.metrics import METRICS, metric_at
from kgstore.ranking.stats import (
    ALPHA,
    MARKED_BY,
    NO_SEED_TEST,
    TEST_TITLES,
    MeanStd,
    PairedComparison,
    TTest,
    holm_comparisons,
    mean_std,
    p_text,
    paired_comparison,
)
from kgstore.recsys.grid import (
    ALL,
    ANONYMOUS,
    BASELINE,
    COLD_START,
    GridResult,
    anonymous_name,
    parse_row,
    positions_in,
    rerank_name,
)

FILES = ("table3.md", "table3.csv", "table3.json", "table3.png")


@dataclass(frozen=True)
class RowTest:
    """A row against another row of its slice, every metric; `differs` says why this pair
    is compared: baseline, user, item (the one component the rows differ in), retriever or
    persona source."""

    against: str
    differs: str
    metrics: dict[str, PairedComparison]


@dataclass(frozen=True)
class TableRow:
    slice: str
    config: str
    users: int
    means: dict[str, MeanStd]
    tests: list[RowTest]
    """This row against others on the same users (`comparisons`); empty for the baseline."""


def metric_names(ks: tuple[int, ...]) -> list[tuple[str, str, int]]:
    return [(f"{metric}@{k}", metric, k) for k in ks for metric in METRICS]


def headline(ks: tuple[int, ...]) -> tuple[str, str]:
    """The paper's headline metrics, NDCG@10 and HR@100 with the default cutoffs: the ones
    the Markdown table tests and Holm-Bonferroni corrects."""
    return f"NDCG@{min(ks)}", f"HR@{max(ks)}"


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


def one_component(row: str, other: str) -> str | None:
    """The one component (`user` or `item`) in which two `user/item` rows differ; None
    when they differ in both."""
    (user, item), (other_user, other_item) = parse_row(row), parse_row(other)
    if user == other_user and item != other_item:
        return "item"
    if item == other_item and user != other_user:
        return "user"
    return None


def comparisons(result: GridResult, shown: list[str]) -> list[tuple[str, str, str]]:
    """(row, against, why) for one slice's rows `shown` (module docstring), in row order,
    each pair once: a row is compared with rows listed before it, so its difference reads
    "this row minus an earlier, simpler one" in the default row order."""
    config = result.config
    natural = {}
    if config.rerank:
        natural[rerank_name(config.rerank)] = (config.rerank, "retriever")
    if config.kg_row is not None:
        natural[anonymous_name(config.kg_row)] = (config.kg_row, "persona source")
    pairs: dict[tuple[str, str], str] = {}
    for position, row in enumerate(shown):
        if row == BASELINE:
            continue
        pairs[row, BASELINE] = "baseline"
        if row in natural and natural[row][0] in shown:
            pairs.setdefault((row, natural[row][0]), natural[row][1])
        if row in config.rows:
            for earlier in shown[:position]:
                differs = one_component(row, earlier) if earlier in config.rows else None
                if differs is not None:
                    pairs.setdefault((row, earlier), differs)
    return [(row, against, why) for (row, against), why in pairs.items()]


def _per_user(
    result: GridResult, name: str, positions: Tensor, ks: tuple[int, ...]
) -> dict[str, np.ndarray]:
    """`[seeds, users]` of every metric of row `name` on a slice's test positions."""
    ranks, covered = positions_in(result.rows[name], positions)
    if not covered.equal(positions):
        raise ValueError(f"row {name!r} does not cover its slice's users in their order")
    return {label: metric_at(metric, ranks, k).numpy() for label, metric, k in metric_names(ks)}


def table_rows(result: GridResult) -> list[TableRow]:
    """Every slice's rows with their means over seeds and their comparisons; the
    headline metrics' tests carry Holm-adjusted p over the whole table."""
    ks = result.config.sasrec.ks
    out = []
    for slice_name, shown in slice_rows(result).items():
        positions = result.slices[slice_name]
        if not len(positions):
            continue
        values = {name: _per_user(result, name, positions, ks) for name in shown}
        tests: dict[str, list[RowTest]] = {name: [] for name in shown}
        for row, against, why in comparisons(result, shown):
            metrics = {
                label: paired_comparison(value, values[against][label])
                for label, value in values[row].items()
            }
            tests[row].append(RowTest(against, why, metrics))
        for name in shown:
            means = {label: mean_std(value.mean(axis=1)) for label, value in values[name].items()}
            out.append(TableRow(slice_name, name, len(positions), means, tests[name]))
    family = [(test.metrics, m) for row in out for test in row.tests for m in headline(ks)]
    adjusted = holm_comparisons([metrics[m] for metrics, m in family])
    for (metrics, m), comparison in zip(family, adjusted, strict=True):
        metrics[m] = comparison
    return out


def verdict(comparison: PairedComparison) -> str:
    """`better` / `worse` where the Holm-adjusted p of the users x seeds test is below
    ALPHA, else ""."""
    marked = comparison.tests()[MARKED_BY]
    if marked is None or marked.p_holm is None or not marked.p_holm < ALPHA:
        return ""
    return "better" if comparison.difference > 0 else "worse"


def statistics_notes(result: GridResult, rows: list[TableRow]) -> list[str]:
    """What the table tests and how: the Markdown's and the report's notes."""
    seeds = result.config.seeds
    first, second = headline(result.config.sasrec.ks)
    pairs = sum(len(row.tests) for row in rows)
    family = sum(
        not math.isnan(test.metrics[m].mixed.p_value)
        for row in rows
        for test in row.tests
        for m in (first, second)
    )
    lines = [
        f"Compared on the same users and seeds: every row with {BASELINE} (baseline); every "
        "user/item row with each row that differs from it in the user or the item "
        "representation only (user / item); the rerank row with its retriever (retriever); "
        "the anonymous-session row with the same kg model given the persona inferred from "
        "the user's training history (persona source). Δ = row - against, the mean over "
        "users and seeds.",
        "p users: paired t-test over the slice's users, each user's metric averaged over "
        "the seeds; it does not see how much a row moves from seed to seed.",
    ]
    if seeds > 1:
        critical = float(stats.t.ppf(1 - ALPHA / 2, seeds - 1))
        lines += [
            f"p seeds: paired t-test over the {seeds} per-seed means (df {seeds - 1}: |t| "
            f"must exceed {critical:.2f} for p < {ALPHA}); the seeds share their users, so "
            "it does not see which users were sampled, and with few seeds it has little "
            "power: a large p is no evidence that two rows are equal.",
            "p users x seeds: the mean difference in a crossed random-effects model (user, "
            "seed, residual); its variance adds the seed-to-seed spread to the per-user "
            "one, with Satterthwaite degrees of freedom (in the JSON): it equals p users "
            "where the seeds agree and nears p seeds where they do not.",
        ]
    else:
        lines.append(
            f"One seed ({NO_SEED_TEST}): no test over seeds, and p users x seeds is p users: "
            "nothing here measures how much training varies from seed to seed."
        )
    lines += [
        f"Holm-Bonferroni over this table's family of {family} tests: the {pairs} "
        f"comparisons of every slice, each on {first} and {second}; each kind of test "
        "corrected separately; each p is shown with its adjusted value (in parentheses in "
        "the Markdown, below it in the report). The tests of the other metrics (JSON, CSV) "
        "are uncorrected.",
        f"Marked (bold and worded better / worse in the Markdown, green / red in the report): "
        f"adjusted p users x seeds < {ALPHA}; Δ gives the direction and size.",
    ]
    return lines


def _slice_title(result: GridResult, slice_name: str) -> str:
    if slice_name == COLD_START:
        return f"cold-start: users with ≤ {result.config.cold_start} training interactions"
    if slice_name == ANONYMOUS:
        return "anonymous sessions: users held out of persona learning"
    return ALL


def _mean_cell(value: MeanStd) -> str:
    return f"{value.mean:.4f}" if value.std is None else f"{value.mean:.4f} ± {value.std:.4f}"


def _p_cell(test: TTest | None) -> str:
    return NO_SEED_TEST if test is None else p_text(test.p_value, test.p_holm)


def _comparison_lines(row: TableRow, metrics: tuple[str, str]) -> list[str]:
    """Each comparison's signed difference and tests; the marked test bold and worded
    (`**0.0012 (0.031) worse**`): the terminal that prints this Markdown shows neither
    bold nor the report's colours, and the direction must not hang on the sign of a cell
    three columns away."""
    lines = []
    for test in row.tests:
        cells = [row.config, test.against, test.differs]
        for m in metrics:
            comparison = test.metrics[m]
            marked = verdict(comparison)
            cells.append(f"{comparison.difference:+.4f}")
            for kind, t in comparison.tests().items():
                shown = _p_cell(t)
                cells.append(f"**{shown} {marked}**" if marked and kind == MARKED_BY else shown)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def markdown(result: GridResult, rows: list[TableRow], run: str) -> str:
    names = [label for label, _, _ in metric_names(result.config.sasrec.ks)]
    tested = headline(result.config.sasrec.ks)
    seeds = result.config.seeds
    spread = (
        f"Mean ± std (sample) over {seeds} seeds"
        if seeds > 1
        else f"Mean over one seed ({NO_SEED_TEST}: no std)"
    )
    lines = [
        f"# Table 3 — {result.domain.value} (run {run})",
        "",
        f"{spread}. {result.seconds:.0f} s on {result.device}.",
        "",
        *[f"- {note}" for note in result.notes],
        *[f"- {what}: {label}" for what, label in result.labels.items()],
        "",
        "Statistics:",
        "",
        *[f"- {line}" for line in statistics_notes(result, rows)],
    ]
    test_headers = [
        title for m in tested for title in (f"Δ {m}", *[f"{t} ({m})" for t in TEST_TITLES.values()])
    ]
    for slice_name in dict.fromkeys(row.slice for row in rows):
        shown = [row for row in rows if row.slice == slice_name]
        lines += [
            "",
            f"## {_slice_title(result, slice_name)}",
            "",
            "| config | users | " + " | ".join(names) + " |",
            "|---|---:|" + "---:|" * len(names),
            *[
                f"| {row.config} | {row.users:,} | "
                + " | ".join(_mean_cell(row.means[n]) for n in names)
                + " |"
                for row in shown
            ],
            "",
            "| row | against | differs | " + " | ".join(test_headers) + " |",
            "|---|---|---|" + "---:|" * len(test_headers),
            *[line for row in shown for line in _comparison_lines(row, tested)],
        ]
    return "\n".join(lines) + "\n"


def _finite(value: float | None) -> float | None:
    """JSON has no NaN or infinity: an untestable or unbounded value is stored as null."""
    return value if value is not None and math.isfinite(value) else None


def _test_json(test: TTest | None) -> dict[str, float | None] | None:
    return None if test is None else {k: _finite(v) for k, v in vars(test).items()}


def _comparison_json(comparison: PairedComparison) -> dict[str, Any]:
    return {
        "difference": comparison.difference,
        "verdict": verdict(comparison),
        **{kind: _test_json(test) for kind, test in comparison.tests().items()},
    }


def as_json(result: GridResult, rows: list[TableRow], run: str) -> dict[str, Any]:
    return {
        "run": run,
        "domain": result.domain.value,
        "config": result.config.to_dict(),
        "device": result.device,
        "seconds": result.seconds,
        "notes": result.notes,
        "labels": result.labels,
        "statistics": {
            "alpha": ALPHA,
            "headline": list(headline(result.config.sasrec.ks)),
            "marked_by": MARKED_BY,
            "notes": statistics_notes(result, rows),
        },
        "slices": {name: len(positions) for name, positions in result.slices.items()},
        "best_epochs": {name: row.best_epochs for name, row in result.rows.items()},
        "rows": [
            {
                "slice": row.slice,
                "config": row.config,
                "users": row.users,
                "metrics": {n: vars(value) for n, value in row.means.items()},
                "tests": [
                    {
                        "against": test.against,
                        "differs": test.differs,
                        "metrics": {n: _comparison_json(c) for n, c in test.metrics.items()},
                    }
                    for test in row.tests
                ],
            }
            for row in rows
        ],
    }


CSV_COLUMNS = (
    ["slice", "config", "against", "differs", "users", "metric", "mean", "std", "seeds"]
    + ["difference", "verdict"]
    + [f"{kind}_{field}" for kind in TEST_TITLES for field in ("p", "p_holm", "df")]
)


def _number(value: float | None) -> str:
    """Every digit (kgstore.csv_out); empty where there is no finite value."""
    return csv_value(_finite(value))


def _test_cells(test: TTest | None) -> list[str]:
    if test is None:
        return ["", "", ""]
    return [_number(test.p_value), _number(test.p_holm), _number(test.df)]


def _write_csv(path: Path, rows: list[TableRow]) -> None:
    """One line per row and metric (its mean, `against` empty), then one per comparison
    and metric (its tests, `mean` empty)."""
    with path.open("w", newline="") as handle:
        out = csv_writer(handle)
        out.writerow(CSV_COLUMNS)
        for row in rows:
            start = [row.slice, row.config]
            for name, value in row.means.items():
                summary = [_number(value.mean), _number(value.std), value.seeds]
                out.writerow([*start, "", "", row.users, name, *summary])
            for test in row.tests:
                for name, comparison in test.metrics.items():
                    cells = [*start, test.against, test.differs, row.users, name, "", "", ""]
                    cells += [_number(comparison.difference), verdict(comparison)]
                    for kind in comparison.tests().values():
                        cells += _test_cells(kind)
                    out.writerow(cells)


def _write_chart(path: Path, result: GridResult, rows: list[TableRow]) -> None:
    """HR@10 and NDCG@10 of every slice's rows, with the std over seeds as error bars."""
    from kgstore.report.figures import SliceBars, write_slice_bars

    metrics = ("HR@10", "NDCG@10")
    slices = [
        SliceBars(
            _slice_title(result, name),
            [row.config for row in shown],
            {metric: [row.means[metric].mean for row in shown] for metric in metrics},
            {metric: [row.means[metric].std or 0.0 for row in shown] for metric in metrics},
        )
        for name in dict.fromkeys(row.slice for row in rows)
        for shown in [[row for row in rows if row.slice == name]]
    ]
    seeds = result.config.seeds
    spread = f"mean ± std over {seeds} seeds" if seeds > 1 else f"one seed ({NO_SEED_TEST})"
    write_slice_bars(path, slices, metrics, f"Table 3, {result.domain.value}: {spread}")


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
