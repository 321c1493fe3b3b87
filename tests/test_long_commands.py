"""Long commands: progress off a terminal as plain lines at KGSTORE_PROGRESS_INTERVAL
(the formatter with a fake clock, a real `kgctl ingest` whose output goes to a file), and
Ctrl-C: exit 130, what it left said, the run recorded `interrupted`."""

import io
import json
import re
import signal
from pathlib import Path

import pytest

from kgstore.db import Database
from kgstore.graph.runs import RunKind, record_run_error, record_run_start
from kgstore.progress_lines import ProgressLines, duration
from kgstore.settings import Settings
from tests.ingest_checks import kgctl, wait_until_running

SCALE = ["ingest", "demo-scale", "--users", "2000", "--items", "1000", "--interactions"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_line_says_the_state_elapsed_time_and_time_left() -> None:
    clock = FakeClock()
    lines = ProgressLines("grid", 30, unit="models", clock=clock)
    assert lines.line() == "grid: 0 s elapsed"
    lines.update(stage="prepare", step=None)
    clock.now = 100
    assert lines.line() == "grid: 1 min 40 s elapsed; stage prepare"
    lines.update(0, 20, row="none/random", seed=1)
    clock.now = 160
    lines.update(2, 20, row="kg/description", seed=1, epoch=3, loss=0.5)
    # 2 models in the 60 s since the first count: 18 more take 9 minutes
    assert lines.line() == (
        "grid: 2 min 40 s elapsed; 2/20 models, row kg/description, seed 1, epoch 3, "
        "loss 0.5000; about 9 min 00 s left"
    )


def test_start_and_end_lines_and_nothing_when_disabled() -> None:
    out = io.StringIO()
    with ProgressLines("hdgi", 3600, out=out, clock=FakeClock()) as lines:
        lines.update(epoch="3/300", loss=0.25)
    assert out.getvalue().splitlines() == [
        "hdgi: started",
        "hdgi: finished after 0 s; epoch 3/300, loss 0.2500",
    ]
    quiet = io.StringIO()
    with pytest.raises(KeyboardInterrupt), ProgressLines("hdgi", 3600, out=quiet, enabled=False):
        raise KeyboardInterrupt
    assert quiet.getvalue() == ""


def test_interrupted_block_says_so() -> None:
    out = io.StringIO()
    lines = ProgressLines("embed items", 3600, unit="nodes", out=out, clock=FakeClock())
    with pytest.raises(KeyboardInterrupt), lines:
        lines.update(4096, 16000)
        raise KeyboardInterrupt
    assert out.getvalue().splitlines()[-1] == (
        "embed items: interrupted after 0 s; 4,096/16,000 nodes"
    )


def test_duration() -> None:
    assert [duration(s) for s in (9.9, 65, 3 * 3600 + 7 * 60 + 5)] == [
        "9 s",
        "1 min 05 s",
        "3 h 07 min",
    ]


def test_ingest_off_a_terminal_prints_progress_lines(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    output = tmp_path / "kgctl.log"
    process = kgctl(
        settings, *SCALE, "40000", "--triples", "5000", output=output,
        KGSTORE_PROGRESS_INTERVAL="0.05",
    )  # fmt: skip
    assert process.wait(timeout=300) == 0, output.read_text()
    said = output.read_text().splitlines()
    assert "ingest demo-scale: started" in said
    steady = re.compile(
        r"ingest demo-scale: \d+ s elapsed; relationships written [\d,]+, "
        r"records read [\d,]+, rejected 0$"
    )
    assert any(steady.match(line) for line in said), said
    assert any(line.startswith("ingest demo-scale: finished after") for line in said), said


def test_ctrl_c_records_the_ingest_interrupted_and_says_it_resumes(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    output = tmp_path / "kgctl.log"
    process = kgctl(settings, *SCALE, "2000000", "--triples", "5000", output=output)
    try:
        running = wait_until_running(empty_graph, RUNNING_INGEST, process, output)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=120) == 130, output.read_text()
    finally:
        process.kill()
    said = output.read_text()
    assert "interrupted; what was written is kept; run the same command again to resume" in said
    [run] = empty_graph.query(
        "MATCH (r:Run {id: $id}) RETURN r.status AS status, r.metrics AS metrics",
        id=running[0]["id"],
    )
    assert run["status"] == "interrupted"
    assert "KeyboardInterrupt" not in run["metrics"]
    listing = tmp_path / "runs.log"
    assert kgctl(settings, "runs", output=listing).wait(timeout=120) == 0
    [row] = [line for line in listing.read_text().splitlines() if running[0]["id"] in line]
    assert "interrupted" in row


def test_an_error_raised_while_handling_a_ctrl_c_closes_the_run_interrupted(
    empty_graph: Database,
) -> None:
    def broken_cleanup() -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise RuntimeError("the driver's rollback failed") from None

    for run_id, error in (("a", broken_cleanup), ("b", lambda: int("x"))):
        record_run_start(empty_graph, run_id, RunKind.INGEST, {})
        try:
            error()
        except Exception as exc:
            record_run_error(empty_graph, run_id, exc, {"records": 3})
    rows = empty_graph.query(
        "MATCH (r:Run) RETURN r.id AS id, r.status AS status, r.metrics AS metrics ORDER BY id"
    )
    assert [(row["id"], row["status"]) for row in rows] == [("a", "interrupted"), ("b", "failed")]
    assert json.loads(rows[0]["metrics"]) == {"records": 3}
    assert "invalid literal" in json.loads(rows[1]["metrics"])["error"]


RUNNING_INGEST = (
    "MATCH (r:Run {kind: 'ingest', source: 'demo-scale', status: 'running'}) RETURN r.id AS id"
)
