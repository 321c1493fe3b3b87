"""What a user running the grid on real data meets around it: the `Run` exists (running)
while the inputs are read, each preparation step is said with its counts, a refusal closes
the run as failed; every row's per-user ranks are saved, so `kgctl evaluate RUN --compare A
B` prints the paired test without training; table3.png keeps every title inside.

The first tests use a made-up result (no services); the others a small planted graph and
a tiny grid (two rows, one seed, one epoch) against the real Neo4j.
"""

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import matplotlib.image
import numpy as np
import pytest
from typer.testing import CliRunner

from cli.app import app
from cli.evaluate import GridBar
from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.errors import KgstoreError, RecsysInputError
from kgstore.graph.clear import clear_graph
from kgstore.graph.mapping import Domain
from kgstore.ranking.metrics import metric_at
from kgstore.ranking.stats import paired_comparison
from kgstore.recsys.compare import compare_rows
from kgstore.recsys.evaluation import evaluate_grid
from kgstore.recsys.grid import (
    ALL,
    ANONYMOUS,
    BASELINE,
    GridConfig,
    GridResult,
    anonymous_name,
    prepare_grid,
    run_grid,
)
from kgstore.recsys.saved_ranks import RANKS_FILE, SavedRanks, load_ranks, save_ranks
from kgstore.recsys.table import write_table
from kgstore.report.figures import SliceBars, slice_bars_figure
from kgstore.schema import apply_schema
from kgstore.train.sasrec import SASRecConfig
from tests.grid_results import made_up_result
from tests.recsys_planted import write_planted

USERS = 60
TINY = GridConfig(
    rows=("none/random", "none/description"),
    seeds=1,
    rerank="",
    anonymous=False,
    sasrec=SASRecConfig(hidden_channels=16, max_len=5, max_epochs=1, eval_every=1),
)


def saved_made_up(directory: Path) -> tuple[GridResult, SavedRanks]:
    """A made-up result and its ranks saved (run "r") and loaded back."""
    result = made_up_result()
    save_ranks(result, [str(n) for n in range(len(result.slices[ALL]))], directory, "r")
    return result, load_ranks(directory / RANKS_FILE)


def test_saved_ranks_round_trip(tmp_path: Path) -> None:
    result = made_up_result()
    users = [f"user-{position}" for position in range(len(result.slices[ALL]))]
    save_ranks(result, users, tmp_path, "run-1")
    saved = load_ranks(tmp_path / RANKS_FILE)
    assert (saved.run, saved.domain, saved.users) == ("run-1", "movies", users)
    assert (saved.seeds, saved.ks) == (result.config.seed_values, result.config.sasrec.ks)
    assert list(saved.rows) == list(result.rows)
    for name, row in result.rows.items():
        assert saved.rows[name].positions.equal(row.positions), name
        assert saved.rows[name].matrix.equal(row.matrix), name  # +inf misses included
    assert any(row.matrix.isinf().any() for row in saved.rows.values())
    assert {name: p.tolist() for name, p in saved.slices.items()} == {
        name: p.tolist() for name, p in result.slices.items()
    }
    assert not list(tmp_path.glob(".*partial"))


def test_compare_gives_the_p_of_the_grid_result(tmp_path: Path) -> None:
    result, saved = saved_made_up(tmp_path)
    kg = result.config.rerank
    users, [ndcg] = compare_rows(saved, "none/description", BASELINE, metrics=["NDCG@10"])
    direct = paired_comparison(
        metric_at("NDCG", result.rows["none/description"].matrix, 10),
        metric_at("NDCG", result.rows[BASELINE].matrix, 10),
    )
    assert users == len(result.slices[ALL]) and ndcg.test == direct and ndcg.metric == "NDCG@10"
    # Rows over different users: compared on the users both cover.
    held = result.slices[ANONYMOUS]
    users, comparisons = compare_rows(saved, anonymous_name(kg), kg, ANONYMOUS)
    assert users == len(held) and len(comparisons) == 3 * len(result.config.sasrec.ks)
    hr = next(c for c in comparisons if c.metric == "HR@100")
    direct = paired_comparison(
        metric_at("HR", result.rows[anonymous_name(kg)].matrix, 100),
        metric_at("HR", result.rows[kg].matrix[:, held], 100),
    )
    assert hr.test == direct
    assert math.isclose(
        hr.mean_a, float(metric_at("HR", saved.rows[anonymous_name(kg)].matrix, 100).mean())
    )


def test_compare_names_what_it_does_not_know(tmp_path: Path) -> None:
    _, saved = saved_made_up(tmp_path)
    with pytest.raises(
        KgstoreError, match=r"no row 'kg/descripton' in run r; its rows: none/random, "
    ):
        compare_rows(saved, "kg/descripton", BASELINE)
    with pytest.raises(KgstoreError, match=r"no slice 'cold' .* cold-start"):
        compare_rows(saved, "kg/description", BASELINE, "cold")
    with pytest.raises(KgstoreError, match=r"no metric 'NDCG@20' .* NDCG@10"):
        compare_rows(saved, "kg/description", BASELINE, metrics=["NDCG@20"])
    (tmp_path / RANKS_FILE).write_bytes(b"not an archive")
    with pytest.raises(KgstoreError, match="not a readable ranks file"):
        load_ranks(tmp_path / RANKS_FILE)


def test_table3_png_keeps_every_title_inside(tmp_path: Path) -> None:
    """The slice titles are long (`cold-start: users with ≤ 5 training interactions`);
    nothing drawn may reach the image's edge, where it would be cut."""
    write_table(made_up_result(), tmp_path, "r")
    image = matplotlib.image.imread(tmp_path / "table3.png")[..., :3]
    edge = np.ones(image.shape[:2], dtype=bool)
    edge[2:-2, 2:-2] = False
    assert (image[edge] > 0.95).all(), "something is drawn at the edge of table3.png"


def test_slice_bars_text_lies_inside_the_figure() -> None:
    long = "anonymous sessions: users held out of persona learning, " * 2
    slices = [
        SliceBars(
            long,
            ["rerank kg/description by none/random", "none/random"],
            {"HR@10": [0.2, 0.1], "NDCG@10": [0.1, 0.05]},
            {"HR@10": [0.01, 0.0], "NDCG@10": [0.02, 0.0]},
        )
    ]
    fig = slice_bars_figure(slices, ["HR@10", "NDCG@10"], "Table 3")
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    frame = fig.bbox
    titles = [fig._suptitle, *(sub._suptitle for sub in fig.subfigs)]
    titles += [axis.title for axis in fig.axes]
    assert long in [title.get_text() for title in titles]
    for title in titles:
        extent = title.get_window_extent(renderer)
        assert frame.x0 <= extent.x0 and extent.x1 <= frame.x1, title.get_text()
        assert frame.y0 <= extent.y0 and extent.y1 <= frame.y1, title.get_text()
    # Everything drawn (tick labels too), in inches.
    drawn = fig.get_tightbbox(renderer)
    width, height = fig.get_size_inches()
    assert drawn.x0 >= 0 and drawn.x1 <= width and drawn.y0 >= 0 and drawn.y1 <= height


@pytest.fixture(scope="module")
def small(db: Database) -> Database:
    clear_graph(db)
    apply_schema(db)
    write_planted(db, planted=True, users=USERS)
    return db


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ArtifactStore:
    return ArtifactStore(str(tmp_path_factory.mktemp("artifacts")))


def run_node(db: Database, run_id: str) -> dict[str, Any]:
    [row] = db.query(
        "MATCH (r:Run {id: $id}) RETURN r.status AS status, r.kind AS kind, r.metrics AS m",
        id=run_id,
    )
    return row


@pytest.mark.slow
def test_the_run_is_running_while_the_inputs_are_read(
    small: Database, store: ArtifactStore, tmp_path: Path
) -> None:
    updates: list[dict[str, Any]] = []
    seen: list[dict[str, Any]] = []

    def progress(update: dict[str, Any]) -> None:
        if not updates:
            seen.append(run_node(small, "watched"))
        updates.append(update)

    evaluate_grid(small, store, tmp_path, Domain.MOVIES, TINY, progress=progress, run_id="watched")
    assert [(row["kind"], row["status"]) for row in seen] == [("evaluate", "running")]
    assert updates[0]["stage"] == "prepare" and updates[0]["step"] == "sequences"
    steps = [(u["step"], u["status"]) for u in updates if u.get("stage") == "prepare"]
    assert steps == [
        ("sequences", "started"),
        ("sequences", "finished"),
        ("item texts", "started"),
        ("item texts", "finished"),
    ]
    read = {u["step"]: u["counts"] for u in updates if u.get("status") == "finished"}
    assert read["sequences"]["users"] == USERS and read["item texts"]["items"] > 0
    assert len(updates[3]["lines"]) == 4 and "sequences: 60 users" in updates[3]["lines"][1]
    # The trainings' updates carry the lines too: a poller that came late still has them.
    assert (
        updates[-1]["done"] == updates[-1]["total"] and updates[-1]["lines"] == updates[3]["lines"]
    )
    assert run_node(small, "watched")["status"] == "finished"
    assert (tmp_path / "watched" / RANKS_FILE).exists()


@pytest.mark.slow
def test_a_refusal_while_reading_fails_the_run_with_its_message(
    small: Database, store: ArtifactStore, tmp_path: Path
) -> None:
    steps: list[tuple[str, str]] = []
    with pytest.raises(RecsysInputError, match="fewer than the 1000") as refused:
        evaluate_grid(
            small,
            store,
            tmp_path,
            Domain.MOVIES,
            replace(TINY, min_users=1000),
            progress=lambda u: steps.append((u["step"], u["status"])),
            run_id="refused",
        )
    assert steps == [("sequences", "started")]
    run = run_node(small, "refused")
    assert run["status"] == "failed"
    assert json.loads(run["m"])["error"] == f"RecsysInputError: {refused.value}"
    assert not (tmp_path / "refused").exists()


@pytest.mark.slow
def test_compare_prints_the_paired_test_of_the_grid_result(
    small: Database, store: ArtifactStore, tmp_path: Path
) -> None:
    report = evaluate_grid(small, store, tmp_path, Domain.MOVIES, TINY)
    # The same grid again (same seed: the same models, see test_recsys_grid) for the
    # reference p computed from the result itself.
    result = run_grid(prepare_grid(small, store, Domain.MOVIES, TINY, lambda: None), TINY)
    direct = paired_comparison(
        metric_at("NDCG", result.rows["none/description"].matrix, 10),
        metric_at("NDCG", result.rows[BASELINE].matrix, 10),
    )
    runner = CliRunner()
    args = ["evaluate", report.run, "--compare", "none/description", BASELINE]
    shown = runner.invoke(app, [*args, "--metric", "NDCG@10"])
    assert shown.exit_code == 0, shown.output
    [line] = [line for line in shown.output.splitlines() if "NDCG@10" in line]
    cells = line.replace("│", " ").split()
    assert f"{direct.users.p_value:.6g}" in cells and f"{direct.mixed.p_value:.6g}" in cells
    assert f"{USERS:,} users" in shown.output

    unknown_row = runner.invoke(app, ["evaluate", report.run, "--compare", "kg/random", BASELINE])
    assert "its rows: none/random, none/description" in str(unknown_row.exception)
    unknown_run = runner.invoke(app, ["evaluate", "no-such-run", "--compare", "a", "b"])
    assert "no evaluation run no-such-run" in str(unknown_run.exception)
    (Path(report.directory) / RANKS_FILE).unlink()
    old = runner.invoke(app, args)
    assert isinstance(old.exception, KgstoreError)
    assert "ran before the grid saved them" in str(old.exception)


def test_the_cli_prints_each_preparation_line_once(capsys: pytest.CaptureFixture[str]) -> None:
    """A follower of a Celery task sees some states twice and misses others."""
    bar = GridBar()
    lines = ["sequences: reading", "sequences: 60 users (0.1 s)", "item texts: reading"]
    bar({"stage": "prepare", "lines": lines[:1]})
    bar({"stage": "prepare", "lines": lines[:1]})
    bar({"done": 0, "total": 2, "row": "none/random", "seed": 0, "lines": lines})
    bar.bar.close()
    printed = [line for line in capsys.readouterr().err.splitlines() if line]
    assert printed == [f"table3: {line}" for line in lines]


@pytest.mark.slow
def test_the_cli_reuses_an_unchanged_grid_in_the_worker_unless_told_not_to(
    small: Database, tmp_path: Path
) -> None:
    """Through the gpu worker, as `make demo` runs it: the second grid is recorded as a
    reuse of the first; `--no-reuse` trains again (and gets the same table)."""
    config = tmp_path / "tiny.toml"
    config.write_text(
        'rows = ["none/random", "none/description"]\nseeds = 1\nrerank = ""\n'
        "anonymous = false\n[sasrec]\nhidden_channels = 16\nmax_len = 5\nmax_epochs = 1\n"
        # another seed than the tests before: this test's first grid is not a reuse
        "seed = 7\n"
    )
    args = ["evaluate", "--grid", "table3", "--domain", "movies", "--config", str(config)]
    runner = CliRunner()
    first, second, forced = (
        runner.invoke(app, extra) for extra in (args, args, [*args, "--no-reuse"])
    )
    for result in (first, second, forced):
        assert result.exit_code == 0, result.output
    assert "reused the table of run" not in first.output
    first_run = first.output.split("run ")[-1].split(":")[0]
    assert f"reused the table of run {first_run}" in second.output
    assert "reused" not in forced.output
    table = [line for line in first.output.splitlines() if line.startswith("| none/")]
    assert table and table == [
        line for line in forced.output.splitlines() if line.startswith("| none/")
    ]
