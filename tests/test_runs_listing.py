"""`kgctl runs`: a one-line result for every kind of run, read from the metrics each kind's
own report stores (built here from the real report classes, so a renamed field shows);
the domain of every run kept on its `Run` node and shown; the seconds each run's command
printed. The ingest side (the same seconds and rate as the ingest's own summary, the
demo's row labels) is checked on the demo in tests/test_ingest_demo.py."""

from pathlib import Path

from kgstore.db import Database
from kgstore.embeddings.pipeline import EmbedReport
from kgstore.generation.pipeline import GenerationReport
from kgstore.graph.run_results import result_line
from kgstore.graph.runs import RunKind, list_runs, record_run_end, record_run_start
from kgstore.ingest.session import IngestReport
from kgstore.personas.runner import PersonaReport
from kgstore.recsys.single import ModelReport
from kgstore.recsys.table import as_json, table_rows
from kgstore.settings import Settings
from tests.grid_results import made_up_result
from tests.ingest_checks import run_kgctl


def ingest_metrics() -> dict:
    report = IngestReport(
        run="i1",
        records=1_200,
        rejected=3,
        quarantine="q.jsonl",
        unmapped={},
        skipped={},
        notes=[],
        nodes={"User": 40, "Item:Movie": 300},
        relationships={"RATED": 1_000, "DIRECTED_BY": 250},
        dangling={},
        first_rejects=[],
        seconds=2.5,
    )
    return report.as_dict()


def persona_metrics(users: int) -> dict:
    report = PersonaReport(
        run="p1",
        domain="movies",
        users=users,
        held_out_users=10,
        training_interactions=5_000,
        metapaths=["UIU"],
        semantic_weights={"UIU": 1.0},
        epochs=40,
        best_epoch=31,
        stopped="patience",
        first_loss=1.3862,
        best_loss=0.2514,
        seconds=12.3,
        train_seconds=11.0,
        device="cpu",
        snapshot="s",
        checkpoint="c",
        order_assumed=False,
        migrated={},
        probe=None,
    )
    return report.as_dict()


def model_metrics() -> dict:
    report = ModelReport(
        run="m1",
        model="sasrec-retriever",
        domain="books",
        row="kg/description",
        best_epoch=7,
        epochs=10,
        validation={"HR@10": 0.2, "NDCG@10": 0.11},
        test={"HR@10": 0.19, "NDCG@10": 0.1034},
        protocol="full ranking",
        checkpoint="c",
        notes=[],
    )
    return report.as_dict()


def grid_metrics() -> dict:
    result = made_up_result(users=60)
    table = as_json(result, table_rows(result), "g1")
    return {**table, "artifacts": "/runs/g1"}


def test_every_kind_of_run_has_a_one_line_result() -> None:
    grid = grid_metrics()
    first_slice = [row for row in grid["rows"] if row["slice"] == "all users"]
    best = max(first_slice, key=lambda row: row["metrics"]["NDCG@10"]["mean"])
    embed = EmbedReport("e1", "items", "MiniLM", 384, 3_084, 3_000, 84, 20.0).as_dict()
    generate = GenerationReport(
        "t1", "keywords", "movies", "m", "v1", False, 2_000, 1_990, 10, 0, 4.0
    ).as_dict()
    export = {"users": 40, "items": 300, "trainingInteractions": 900, "domain": "movies"}

    assert result_line("ingest", ingest_metrics()) == (
        "1,200 records, 340 nodes, 1,250 relationships (500 rel/s), 3 rejected"
    )
    assert result_line("embed", embed) == (
        "3,000 vectors of items encoded (150.0 texts/s), 84 unchanged"
    )
    assert result_line("generate", generate) == "1,990 keywords written, 10 unchanged, 0 skipped"
    assert result_line("export", export) == "40 users, 300 items, 900 interactions"
    assert result_line("train", persona_metrics(500)) == (
        "personas of 500 users, best epoch 31 of 40, loss 1.386 → 0.251"
    )
    assert result_line("train", model_metrics()) == (
        "kg/description: test NDCG@10 0.1034, best epoch 7 of 10"
    )
    assert result_line("evaluate", grid) == (
        f"best NDCG@10 (all users): {best['config']} {best['metrics']['NDCG@10']['mean']:.4f}; "
        "table in /runs/g1"
    )
    assert result_line("evaluate", {"error": "ValueError: no personas"}) == (
        "error: ValueError: no personas"
    )
    assert result_line("evaluate", {}) == "-"  # still running: nothing recorded yet


def test_kgctl_runs_shows_each_runs_domain_seconds_and_result(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    """Two HDGI runs told apart by their domain; an embedding (every domain) shown as
    `all`; each run's seconds the ones its report gave, not the few milliseconds between
    the test's two writes of its node."""
    runs = [
        ("hdgi-movies", RunKind.TRAIN, {"model": "hdgi", "domain": "movies"}, persona_metrics(500)),
        ("hdgi-books", RunKind.TRAIN, {"model": "hdgi", "domain": "books"}, persona_metrics(70)),
        ("embed-all", RunKind.EMBED, {"target": "items"}, {"encoded": 5, "seconds": 2.0}),
    ]
    for run_id, kind, config, metrics in runs:
        record_run_start(empty_graph, run_id, kind, config)
        record_run_end(empty_graph, run_id, "finished", metrics)

    stored = empty_graph.query("MATCH (r:Run) RETURN r.id AS id, r.domain AS domain")
    assert {row["id"]: row["domain"] for row in stored} == {
        "hdgi-movies": "movies",
        "hdgi-books": "books",
        "embed-all": None,
    }
    assert {run.id: run.seconds for run in list_runs(empty_graph)} == {
        "hdgi-movies": 12.3,
        "hdgi-books": 12.3,
        "embed-all": 2.0,
    }
    log = tmp_path / "runs.log"
    assert run_kgctl(settings, "runs", output=log) == 0, log.read_text()
    lines = {line.split("│")[1].strip(): line for line in log.read_text().splitlines()[3:-1]}
    cells = {run: [cell.strip() for cell in line.split("│")[1:-1]] for run, line in lines.items()}
    assert cells["hdgi-movies"][2] == "movies" and cells["hdgi-books"][2] == "books"
    assert cells["embed-all"][2] == "all"
    assert [cells[run][6] for run in ("hdgi-movies", "embed-all")] == ["12.3", "2.0"]
    assert cells["hdgi-books"][7].startswith("personas of 70 users, best epoch 31 of 40")
