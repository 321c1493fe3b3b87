"""`kgctl evaluate`: the paper's Table 3 grid on one domain (`--grid table3`), in the `gpu`
worker (default) or in this process (`--local`), or a finished evaluation run's table."""

import json
import sys
import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from tqdm import tqdm

from cli.console import console, database, err_console, settings
from cli.interrupt import STARTS_OVER, interruptible
from cli.progress import lines_off_terminal, terminal
from cli.worker_task import follow_run_in_worker
from kgstore.errors import KgstoreError
from kgstore.graph.mapping import Domain
from kgstore.recsys.names import GRID
from workers.task_names import EVALUATE_GRID_TASK

if TYPE_CHECKING:
    from kgstore.recsys.grid import GridConfig


class GridBar:
    """The preparation's steps as lines (on a terminal or not: they are few and say what
    minutes went on), then a bar over the grid's (row, seed) trainings, with the current
    row, seed and epoch; off a terminal, progress lines with the same and the time left."""

    def __init__(self) -> None:
        self.bar = tqdm(desc=GRID, unit=" model", leave=False, disable=not terminal())
        self.lines = lines_off_terminal(GRID, "models")
        self.said = 0

    def __call__(self, update: dict[str, Any]) -> None:
        lines = update.get("lines", [])
        for line in lines[self.said :]:
            tqdm.write(f"{GRID}: {line}", file=sys.stderr)
        self.said = max(self.said, len(lines))
        if "total" not in update:
            self.bar.set_description(f"{GRID}: {update.get('stage', '')}")
            self.lines.update(stage=update.get("stage"), step=update.get("step"))
            return
        self.bar.total = update["total"]
        self.bar.update(update["done"] - self.bar.n)
        self.lines.update(
            update["done"],
            update["total"],
            row=update.get("row"),
            seed=update.get("seed"),
            epoch=update.get("epoch"),
            loss=update.get("loss"),
        )
        if "row" in update:
            epoch = (
                f" epoch {update['epoch']} loss {update['loss']:.3f}" if "epoch" in update else ""
            )
            self.bar.set_description(f"{update['row']} seed {update['seed']}{epoch}")


def grid_config(path: Path | None, seeds: int | None, max_epochs: int | None) -> "GridConfig":
    from kgstore.recsys.grid import GridConfig

    config = GridConfig.from_file(path) if path else GridConfig()
    if seeds is not None:
        config = replace(config, seeds=seeds)
    if max_epochs is not None:
        config = replace(config, sasrec=replace(config.sasrec, max_epochs=max_epochs))
    return config


def show_run(run_id: str) -> None:
    """An evaluation run's table, or a trained retriever's or reranker's metrics."""
    with database() as db:
        rows = db.query(
            "MATCH (r:Run {id: $id}) RETURN r.kind AS kind, r.model AS model, "
            "r.status AS status, r.metrics AS metrics",
            id=run_id,
        )
    if not rows or not (rows[0]["kind"] == "evaluate" or "sasrec" in (rows[0]["model"] or "")):
        raise KgstoreError(f"no evaluation or SASRec run {run_id}: see `kgctl runs`")
    metrics = json.loads(rows[0]["metrics"] or "{}")
    if rows[0]["status"] != "finished":
        raise KgstoreError(f"run {run_id} is {rows[0]['status']}: {metrics.get('error', '')}")
    if rows[0]["kind"] != "evaluate":
        for split in ("validation", "test"):
            values = ", ".join(f"{k} {v:.4f}" for k, v in metrics[split].items())
            console.print(f"{metrics['model']} {metrics['row']} {split}: {values}")
        return
    table = Path(metrics["artifacts"]) / "table3.md"
    text = table.read_text() if table.exists() else json.dumps(metrics["rows"], indent=1)
    console.print(text, markup=False)  # Markdown, not rich markup: `[...]` stays
    console.print(f"files: {metrics['artifacts']}")


def compare(
    run_id: str, rows: tuple[str, str], slice_name: str | None, metrics: list[str] | None
) -> None:
    """The paired test of two rows of a finished grid run, from its saved ranks."""
    from kgstore.recsys.compare import compare_rows, run_ranks
    from kgstore.recsys.grid import ALL

    slice_name = slice_name or ALL
    with database() as db:
        saved = run_ranks(db, run_id)
    users, results = compare_rows(saved, *rows, slice_name, metrics)
    a, b = rows
    console.print(
        f"run {run_id}, {slice_name}: {a} (a) against {b} (b), {users:,} users, "
        f"{len(saved.seeds)} seed(s) {saved.seeds}; two-sided paired t-tests over users "
        "(seeds averaged), over seeds, and users x seeds (the table's mark); uncorrected"
    )
    table = Table("metric", "a", "b", "a - b", "p users", "p seeds", "p users x seeds")
    for row in results:
        test = row.test
        table.add_row(
            row.metric,
            f"{row.mean_a:.4f}",
            f"{row.mean_b:.4f}",
            f"{test.difference:+.4f}",
            *(
                "n = 1" if one is None else f"{one.p_value:.6g}"
                for one in (test.users, test.seeds, test.mixed)
            ),
        )
    console.print(table)


def evaluate(
    run: Annotated[
        str | None,
        typer.Argument(help="A finished evaluation run: print its table (or --compare rows)."),
    ] = None,
    pair: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--compare",
            help="With RUN: the paired test of row A against row B (names as in the table, "
            "quoted when they hold spaces), from the run's saved per-user ranks.",
        ),
    ] = None,
    slice_name: Annotated[
        str | None,
        typer.Option("--slice", help="With --compare: the users compared (default: all users)."),
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option(help="With --compare: only this metric (repeatable), e.g. NDCG@10."),
    ] = None,
    grid: Annotated[
        str | None, typer.Option(help=f"Run a grid: `{GRID}` (the paper's Table 3 rows).")
    ] = None,
    domain: Annotated[Domain, typer.Option(help="Whose sequences.")] = Domain.MOVIES,
    config: Annotated[
        Path | None,
        typer.Option(
            help="Grid config, TOML or JSON: rows, seeds, candidates, rerank, anonymous, "
            "cold_start, min_users and a [sasrec] table (max_epochs, patience, max_len, …)."
        ),
    ] = None,
    seeds: Annotated[int | None, typer.Option(help="Seeds per row (overrides the config).")] = None,
    max_epochs: Annotated[
        int | None, typer.Option(help="Epoch cap of every model (overrides the config).")
    ] = None,
    local: Annotated[bool, typer.Option("--local", help="Train here, not in a worker.")] = False,
    allow_stale: Annotated[
        bool,
        typer.Option(
            help="Run on personas or keywords made before the latest interactions were "
            "ingested (refused otherwise); the table says they are stale."
        ),
    ] = False,
    windows: Annotated[
        str | None,
        typer.Option(
            help="Candidate windows (max_len), e.g. 5,10,20,50: one grid each, and the "
            "table of the window whose models score best on validation NDCG@10."
        ),
    ] = None,
    reuse: Annotated[
        bool,
        typer.Option(
            help="Reuse a finished grid's table when its fingerprint (every input read from "
            "the graph, config, code, device and threads) is this grid's: nothing trains."
        ),
    ] = True,
) -> None:
    """Train every Table 3 row (user / item representation) over several seeds, the
    reranking row, the anonymous-session row and the cold-start slice; write the table as
    Markdown, CSV, JSON and PNG, and every row's per-user ranks, into the run's directory
    and record the run (created at the start, so `kgctl runs` shows it while the inputs are
    read). A grid whose fingerprint matches a finished run's is recorded as a reuse of it
    (`--no-reuse` trains again). `kgctl evaluate RUN --compare A B` tests two rows of a
    finished run."""
    if pair is not None:
        if run is None:
            raise KgstoreError("--compare A B compares two rows of a run: give its id")
        compare(run, pair, slice_name, metric)
        return
    if run is not None:
        show_run(run)
        return
    if grid != GRID:
        raise KgstoreError(f"give a run id, or --grid {GRID}")
    # Before the seconds of importing torch: the user sees at once that the grid started.
    err_console.print(f"{GRID}: loading the config and the training code")
    grid_settings = grid_config(config, seeds, max_epochs)
    if allow_stale:
        grid_settings = replace(grid_settings, allow_stale=True)
    if windows is None:
        report = run_one_grid(domain, grid_settings, local, reuse)
    else:
        report = choose_window(domain, grid_settings, local, windows, reuse)
    console.print(report["markdown"], markup=False)
    if report["reused_from"]:
        console.print(
            f"run {report['run']}: reused the table of run {report['reused_from']} (same "
            "fingerprint: inputs, config, code, device, threads; nothing trained, "
            f"--no-reuse to train again); files in {report['directory']}"
        )
    else:
        console.print(
            f"run {report['run']}: {report['seconds']:.0f} s; files in {report['directory']}"
        )


def run_one_grid(
    domain: Domain, config: "GridConfig", local: bool, reuse: bool = True
) -> dict[str, Any]:
    """One recorded grid, in this process or followed in the gpu worker: its report."""
    run_id = uuid.uuid4().hex
    err_console.print(
        f"{GRID}: run {run_id}: reading the inputs (`kgctl runs` lists the run from then on)"
    )
    bar = GridBar()
    try:
        with interruptible(STARTS_OVER), bar.lines:
            if local:
                from kgstore.recsys.evaluation import evaluate_grid_from_settings

                report = evaluate_grid_from_settings(settings(), domain, config, bar, run_id, reuse)
                return report.as_dict()
            task_args = (domain.value, config.to_dict(), run_id, reuse)
            return follow_run_in_worker(EVALUATE_GRID_TASK, task_args, bar, run_id)
    finally:
        bar.bar.close()


def choose_window(
    domain: Domain, config: "GridConfig", local: bool, windows: str, reuse: bool = True
) -> dict[str, Any]:
    """One grid per window of `windows`; the report of the window chosen on validation."""
    from kgstore.recsys.window import WindowChoice, parse_windows

    reports = {}
    for window in parse_windows(windows):
        err_console.print(f"{GRID}: window (max_len) {window}")
        sasrec = replace(config.sasrec, max_len=window)
        reports[window] = run_one_grid(domain, replace(config, sasrec=sasrec), local, reuse)
    choice = WindowChoice(
        {window: report["validation"] for window, report in reports.items()},
        {window: report["run"] for window, report in reports.items()},
    )
    for line in choice.lines():
        console.print(line)
    console.print(f"the table of window {choice.chosen}, chosen on validation:")
    return reports[choice.chosen]


def register(parent: typer.Typer) -> None:
    parent.command("evaluate")(evaluate)
