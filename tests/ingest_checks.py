"""What the ingest tests compare: the graph without provenance, and `kgctl ingest …` run
in a subprocess (to kill it half-way)."""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kgstore.db import Database
from kgstore.graph.clear import clear_graph
from kgstore.graph.mapping import cypher_label
from kgstore.schema import apply_schema
from kgstore.settings import Settings

PROVENANCE = frozenset({"source", "sourceFile", "ingestRun", "ingestRuns"})
"""Properties that name the run that wrote a node; they differ between runs by design."""


def _frozen(props: dict[str, Any]) -> tuple:
    return tuple(
        sorted((key, _hashable(value)) for key, value in props.items() if key not in PROVENANCE)
    )


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def full_snapshot(db: Database) -> tuple[Counter[tuple], Counter[tuple]]:
    """Every node but the `Run` nodes (labels and all properties, provenance, `idx` and
    undo records included) and every relationship between them (endpoints by key, all
    properties): equal only for the very same graph."""
    nodes = db.query("MATCH (n) WHERE NOT n:Run RETURN labels(n) AS labels, properties(n) AS props")
    rels = db.query(
        "MATCH (s)-[r]->(t) WHERE NOT s:Run AND NOT t:Run "
        "RETURN coalesce(s.id, s.uri) AS s, type(r) AS type, coalesce(t.id, t.uri) AS t, "
        "properties(r) AS props"
    )

    def frozen(props: dict[str, Any]) -> tuple:
        return tuple(sorted((key, _hashable(value)) for key, value in props.items()))

    return (
        Counter((tuple(sorted(row["labels"])), frozen(row["props"])) for row in nodes),
        Counter((row["s"], row["type"], row["t"], frozen(row["props"])) for row in rels),
    )


@dataclass(frozen=True)
class GraphState:
    """Everything an ingest wrote (Run nodes and undo records aside), keyed by node keys,
    without provenance.

    Two states are equal when they hold the same nodes with the same labels and
    properties (dense `idx` included) and the same relationships with the same
    properties (`pos`, `ts`, `rating`, …)."""

    labels: Counter[str]
    rel_types: Counter[str]
    nodes: frozenset[tuple]
    relationships: frozenset[tuple]

    @property
    def triples(self) -> frozenset[tuple[str, str, str]]:
        return frozenset(
            (source, rel_type, target) for source, rel_type, target, _ in self.relationships
        )


def graph_state(db: Database) -> GraphState:
    nodes = db.query(
        "MATCH (n) WHERE NOT n:Run AND NOT n:IngestUndo "
        "RETURN labels(n) AS labels, properties(n) AS props",
    )
    rels = db.query(
        "MATCH (s)-[r]->(t) WHERE NOT s:Run AND NOT t:Run "
        "RETURN coalesce(s.id, s.uri) AS s, type(r) AS type, coalesce(t.id, t.uri) AS t, "
        "properties(r) AS props",
    )
    return GraphState(
        labels=Counter(label for row in nodes for label in row["labels"]),
        rel_types=Counter(row["type"] for row in rels),
        nodes=frozenset((tuple(sorted(row["labels"])), _frozen(row["props"])) for row in nodes),
        relationships=frozenset(
            (row["s"], row["type"], row["t"], _frozen(row["props"])) for row in rels
        ),
    )


def rated(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Each user's RATED relationships in `pos` order: item, rating, ts, orderAssumed."""
    rows = db.query(
        "MATCH (u:User)-[r:RATED]->(i:Item) RETURN u.id AS user, i.id AS item, r.pos AS pos, "
        "r.rating AS rating, r.ts AS ts, r.orderAssumed AS assumed ORDER BY user, pos",
    )
    by_user: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_user.setdefault(row.pop("user"), []).append(row)
    return by_user


def count(db: Database, query: str, **params: Any) -> int:
    return db.query(query, **params)[0]["c"]


def kgctl(settings: Settings, *args: str, output: Path, **extra_env: str) -> subprocess.Popen:
    """Start `kgctl` (the console script's entry point) against the tests' Neo4j."""
    env = {
        **os.environ,
        **extra_env,
        "NEO4J_URI": settings.neo4j_uri,
        "NEO4J_USER": settings.neo4j_user,
        "NEO4J_PASSWORD": settings.require_neo4j_password(),
        "NEO4J_DATABASE": settings.neo4j_database,
    }
    with output.open("a") as log:
        return subprocess.Popen(
            [sys.executable, "-c", "from cli.app import main; main()", *args],
            env=env,
            stdin=subprocess.DEVNULL,  # as in CI: no terminal to ask on
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_ctrl_c_as_at_a_terminal,
        )


def _ctrl_c_as_at_a_terminal() -> None:
    """SIGINT back to its default in the child, so Python turns it into Ctrl-C
    (KeyboardInterrupt). A suite started in the background by a shell without job control
    (`nohup make test &`) inherits SIGINT ignored, and every kgctl it starts would ignore
    the tests' Ctrl-C: the ingest ran to its end (exit 0), the hdgi run never stopped."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_kgctl(settings: Settings, *args: str, output: Path, **extra_env: str) -> int:
    return kgctl(settings, *args, output=output, **extra_env).wait()


def wait_until_running(
    db: Database, query: str, process: subprocess.Popen, output: Path, timeout: float = 300
) -> list[dict[str, Any]]:
    """Poll `query` until it returns rows (the command's run is `running`); fail when
    `process` ends first, showing its output."""
    deadline = time.monotonic() + timeout
    while not (rows := db.query(query)):
        assert process.poll() is None and time.monotonic() < deadline, output.read_text()
        time.sleep(0.05)
    return rows


def check_resume_after_kill(
    db: Database, settings: Settings, args: list[str], total_rated: int, tmp_path: Path
) -> None:
    """Kill `kgctl ingest …` once some RATED batches are committed, run it again, and
    compare with an uninterrupted run into a cleared graph."""
    output = tmp_path / "kgctl.log"
    process = kgctl(settings, *args, output=output)
    try:
        while count(db, "MATCH ()-[r:RATED]->() RETURN count(r) AS c") == 0:
            if process.poll() is not None:
                pytest.fail(f"ingest ended before it was killed:\n{output.read_text()}")
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL
    interrupted = count(db, "MATCH ()-[r:RATED]->() RETURN count(r) AS c")
    assert 0 < interrupted < total_rated

    assert run_kgctl(settings, *args, output=output) == 0, output.read_text()
    resumed = graph_state(db)
    assert resumed.rel_types["RATED"] == total_rated
    # The rerun noticed that the killed run's process is gone.
    statuses = db.query(
        "MATCH (r:Run) RETURN r.status AS status, r.interruptedNoticedAt IS NOT NULL AS noticed "
        "ORDER BY r.startedAt"
    )
    assert statuses[0] == {"status": "interrupted", "noticed": True}
    assert {row["status"] for row in statuses[1:]} == {"finished"}
    listing = output.with_suffix(".runs")
    assert run_kgctl(settings, "runs", output=listing) == 0, listing.read_text()
    assert "interrupted" in listing.read_text()

    clear_graph(db)
    apply_schema(db)
    assert run_kgctl(settings, *args, output=output) == 0, output.read_text()
    assert graph_state(db) == resumed


def quarantined(quarantine_dir: Path) -> list[dict[str, Any]]:
    """Every rejected record written under `quarantine_dir`, in file order."""
    return [
        json.loads(line)
        for path in sorted(quarantine_dir.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def keys(db: Database, label: str, key: str = "id") -> dict[str, Any]:
    """`key` -> `idx` of every node with `label` (a label of the mapping table)."""
    rows = db.query(f"MATCH (n:{cypher_label(label)}) RETURN n.{key} AS key, n.idx AS idx")
    return {row["key"]: row["idx"] for row in rows}


def sequences_of(db: Database) -> dict[str, list[str]]:
    """Each user's items in `pos` order."""
    return {user: [row["item"] for row in rows] for user, rows in rated(db).items()}
