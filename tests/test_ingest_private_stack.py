"""Ingests that stop, restart or replace the database, on a private stack (own state
directory and ports) so the services the other tests use are never touched:

- Neo4j dies half-way (SIGKILL of the JVM, then `kgctl services up`): the ingest stops
  with one clear message, everything committed before the crash survives it, and the
  same command run again ends in the graph of an uninterrupted run.
- `--bulk` (neo4j-admin import) gives the graph the online ingest gives, and refuses a
  database that holds data without changing it.
"""

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kgstore.db import Database, open_database
from kgstore.graph.clear import clear_graph
from kgstore.schema import apply_schema
from kgstore.services.isolated import isolated_stack_env
from kgstore.services.process import pidfile_for
from kgstore.settings import Settings
from tests.ingest_checks import count, graph_state
from tests.stacks import PrivateStack

pytestmark = pytest.mark.slow

DEMO = ["ingest", "demo", "--users", "400", "--batch-size", "200"]
RATED = "MATCH ()-[r:RATED]->() RETURN count(r) AS c"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateStack]:
    root = tmp_path_factory.mktemp("stack")
    private = PrivateStack(root, isolated_stack_env(root))
    started = private.kgctl("services", "up")
    assert started.returncode == 0, started.stdout + started.stderr
    yield private
    private.kgctl("services", "down")


def crash_neo4j_during_ingest(
    stack: PrivateStack, settings: Settings, db: Database, output: Path
) -> tuple[int, int]:
    """Start the demo ingest, SIGKILL Neo4j once some RATED batches are committed, wait
    for the ingest to give up (the driver retries for 30 s), then start Neo4j again.
    Returns (RATED relationships committed before the kill, the ingest's exit code)."""
    ingest = stack.start_kgctl(*DEMO, output=output)
    try:
        while (committed := count(db, RATED)) == 0:
            assert ingest.poll() is None, f"ingest ended first:\n{output.read_text()}"
            time.sleep(0.02)
        os.kill(int(pidfile_for(stack.state_dir, "neo4j").read_text()), signal.SIGKILL)
        exit_code = ingest.wait(timeout=300)
    finally:
        ingest.kill()
        ingest.wait()
    restarted = stack.kgctl("services", "up")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    return committed, exit_code


def test_ingest_stopped_by_a_neo4j_crash_resumes_to_the_uninterrupted_graph(
    stack: PrivateStack, tmp_path: Path
) -> None:
    settings = stack.settings()
    output = tmp_path / "ingest.log"
    with open_database(settings) as db:
        clear_graph(db)
        committed, exit_code = crash_neo4j_during_ingest(stack, settings, db, output)
        log = output.read_text()
        assert exit_code == 2, log
        assert "stopped answering during the ingest" in log
        assert "Traceback" not in log
        survived = count(db, RATED)  # acknowledged batches outlive the crash

        assert stack.kgctl(*DEMO).returncode == 0
        resumed = graph_state(db)
        assert committed <= survived < resumed.rel_types["RATED"]
        runs, _, _ = db.driver.execute_query(
            "MATCH (r:Run) RETURN r.status AS status ORDER BY r.startedAt"
        )
        # The crashed run could not be closed when Neo4j died; the resumed ingest noticed
        # its process was gone and marked it; its two sessions (users, then facts) finished.
        assert [run["status"] for run in runs] == ["interrupted", "finished", "finished"]

        clear_graph(db)
        apply_schema(db)
        assert stack.kgctl(*DEMO).returncode == 0
        assert graph_state(db) == resumed


def test_bulk_import_gives_the_online_graph_and_refuses_a_database_with_data(
    stack: PrivateStack,
) -> None:
    settings = stack.settings()
    with open_database(settings) as db:
        clear_graph(db)
    bulk = stack.kgctl(*DEMO, "--bulk")
    assert bulk.returncode == 0, bulk.stdout + bulk.stderr
    assert "bulk import:" in bulk.stdout
    with open_database(settings) as db:  # a new driver: the store was replaced
        imported = graph_state(db)
        runs, _, _ = db.driver.execute_query("MATCH (r:Run) RETURN r.status AS s, r.config AS c")
        assert [(run["s"], '"bulk": true' in run["c"]) for run in runs] == [
            ("finished", True),
            ("finished", True),
        ]

        again = stack.kgctl(*DEMO, "--bulk")
        assert again.returncode == 2
        assert "only loads an empty database" in again.stderr
        assert graph_state(db) == imported

        clear_graph(db)
        apply_schema(db)
        assert stack.kgctl(*DEMO).returncode == 0
        assert graph_state(db) == imported
        assert sum(imported.rel_types.values()) > 10_000
