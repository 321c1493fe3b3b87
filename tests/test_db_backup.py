"""`kgctl db dump` / `kgctl db load` on a private stack (own state directory, ports and
artifact store), so the services the other tests use are never stopped:

- a trained store (planted graph, HDGI personas, a kg retriever) dumped, cleared (graph
  and artifact files), and loaded gives the same `kgctl stats`, the same User properties
  (personas) and the same recommendations;
- a load into a database that holds data is refused without --force and changes
  nothing, as is a backup with a missing manifest or dump (named in the message), even
  with --force; a dump onto an existing folder is refused without --force;
- a dump of a Neo4j that is down leaves it down.
The checks of every file of a backup, without Neo4j: test_backup_files.py.
"""

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kgstore.artifacts import ArtifactStore
from kgstore.backup.contents import graph_counts
from kgstore.backup.load import check_backup
from kgstore.db import open_database
from kgstore.graph.clear import clear_graph
from kgstore.graph.mapping import Domain
from kgstore.graph.user_properties import persona_keys
from kgstore.personas.runner import train_personas
from kgstore.recsys.recommend import recommend_session
from kgstore.recsys.single import train_model
from kgstore.schema import apply_schema
from kgstore.services.isolated import isolated_stack_env
from kgstore.services.neo4j_server import Neo4jServer
from kgstore.stats import GraphStats, graph_stats
from kgstore.train.hdgi import HDGIConfig
from kgstore.train.sasrec import SASRecConfig
from tests.recsys_planted import write_planted
from tests.stacks import PrivateStack

pytestmark = pytest.mark.slow

RETRIEVER = SASRecConfig(
    user="kg", item="random", hidden_channels=32, max_len=1, max_epochs=10, eval_every=10, lr=5e-3
)
SESSION = ["s-00", "g2-00", "s-01", "g2-01", "s-02"]


@dataclass(frozen=True)
class Trained:
    stack: PrivateStack
    store: ArtifactStore
    run: str
    backup: Path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    """A private stack holding a trained kg retriever, and its backup."""
    root = tmp_path_factory.mktemp("stack")
    env = isolated_stack_env(root)
    env["KGSTORE_ARTIFACTS"] = str(root / "artifacts")  # the same store in kgctl and here
    stack = PrivateStack(root, env)
    started = stack.kgctl("services", "up", "--no-workers")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        store = ArtifactStore(env["KGSTORE_ARTIFACTS"])
        with open_database(stack.settings()) as db:
            apply_schema(db)
            write_planted(db, planted=True)
            train_personas(db, store, Domain.MOVIES, HDGIConfig(epochs=30))
            run = train_model(db, store, Domain.MOVIES, RETRIEVER).run
        # a run's output folder (an evaluation's tables, a report) goes into the backup too
        (stack.state_dir / "runs" / run).mkdir(parents=True)
        (stack.state_dir / "runs" / run / "report.html").write_text("<p>the run's report</p>")
        backup = root / "backups" / "trained"
        dumped = stack.kgctl("db", "dump", str(backup))
        assert dumped.returncode == 0, dumped.stdout + dumped.stderr
        assert f"to {backup}" in dumped.stdout and "Neo4j is running again" in dumped.stdout
        yield Trained(stack, store, run, backup)
    finally:
        stack.kgctl("services", "down")


def observed(trained: Trained) -> tuple[GraphStats, list[dict[str, Any]], list[tuple[Any, ...]]]:
    """The graph's statistics (what `kgctl stats` prints), every User's properties, and
    the retriever's recommendations."""
    with open_database(trained.stack.settings()) as db:  # a new driver: the store changes
        stats = graph_stats(db)
        users = db.query("MATCH (u:User) RETURN u.id AS id, properties(u) AS p ORDER BY u.id")
        result = recommend_session(db, trained.store, SESSION, trained.run, k=8)
    recommendations = [(rec.item, rec.score, tuple(rec.paths)) for rec in result.items]
    return stats, users, recommendations


def kgctl_stats(trained: Trained) -> str:
    stats = trained.stack.kgctl("stats")
    assert stats.returncode == 0, stats.stderr
    return stats.stdout


def neo4j_pid(trained: Trained) -> int | None:
    """The private Neo4j's pid (read from its pid file, so no setting of the shared
    stack is involved)."""
    return Neo4jServer(trained.stack.settings()).pid()


@pytest.fixture
def running(trained: Trained) -> Trained:
    """The trained stack with Neo4j running (a test may leave it down)."""
    if neo4j_pid(trained) is None:
        started = trained.stack.kgctl("services", "up", "--no-workers")
        assert started.returncode == 0, started.stdout + started.stderr
    return trained


def test_a_backup_restores_stats_personas_and_recommendations(running: Trained) -> None:
    trained = running
    backup = trained.backup
    manifest = json.loads((backup / "manifest.json").read_text())
    assert (backup / "neo4j.dump").stat().st_size == manifest["dump"]["bytes"]
    assert manifest["artifacts"]["copied"] and manifest["artifacts"]["missing"] == []
    assert manifest["artifacts"]["keys"] == trained.store.keys() != []
    assert list(manifest["runs"]) == [trained.run]
    assert not list(backup.parent.glob("*.partial-*"))
    before, printed = observed(trained), kgctl_stats(trained)
    stats, users, recommendations = before
    assert stats.users == 400 and stats.interactions and len(recommendations) == 8
    personas = [user for user in users if persona_keys(Domain.MOVIES).vector in user["p"]]
    assert personas and len(users) == 400

    again = trained.stack.kgctl("db", "dump", str(backup))
    assert again.returncode == 2 and "exists; add --force" in again.stderr

    pid = neo4j_pid(trained)
    refused = trained.stack.kgctl("db", "load", str(backup))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "holds" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert neo4j_pid(trained) == pid  # never stopped
    assert observed(trained) == before

    with open_database(trained.stack.settings()) as db:  # what `kgctl db clear --yes` does
        clear_graph(db)
    shutil.rmtree(trained.store.url)
    assert trained.store.keys() == []
    shutil.rmtree(trained.stack.state_dir / "runs")

    loaded = trained.stack.kgctl("db", "load", str(backup))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert "as the backup records" in loaded.stdout
    assert "run files: 1 restored" in loaded.stdout
    report = trained.stack.state_dir / "runs" / trained.run / "report.html"
    assert report.read_text() == "<p>the run's report</p>"
    assert trained.store.keys() == manifest["artifacts"]["keys"]
    assert observed(trained) == before
    assert kgctl_stats(trained) == printed


def test_a_broken_backup_is_refused_naming_the_file_even_with_force(
    running: Trained, tmp_path: Path
) -> None:
    trained = running
    before = observed(trained)
    pid = neo4j_pid(trained)
    for name in ("manifest.json", "neo4j.dump"):
        broken = tmp_path / f"without-{name}"
        shutil.copytree(trained.backup, broken)
        (broken / name).unlink()
        refused = trained.stack.kgctl("db", "load", str(broken), "--force")
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert f"{broken / name} is missing" in refused.stderr
        assert "Nothing was changed" in refused.stderr and "Traceback" not in refused.stderr
    assert neo4j_pid(trained) == pid
    assert observed(trained) == before


def test_a_dump_of_a_stopped_neo4j_leaves_it_stopped(running: Trained, tmp_path: Path) -> None:
    """Last, as it leaves Neo4j down (`running` starts it again for any test after it)."""
    with open_database(running.stack.settings()) as db:
        counts = graph_counts(db)
    Neo4jServer(running.stack.settings()).stop()  # by its pid file: the private one
    dumped = running.stack.kgctl("db", "dump", str(tmp_path / "cold"))
    assert dumped.returncode == 0, dumped.stdout + dumped.stderr
    assert "Neo4j was down before the dump and is down again" in dumped.stdout
    assert neo4j_pid(running) is None
    assert check_backup(tmp_path / "cold").counts == counts
