"""`Run` nodes: one per ingest, export, embedding, training or evaluation run, with its
configuration, status, times and metrics, so every vector and every relationship in the
graph can be traced to the run that wrote it."""

import json
import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from kgstore.db import Database
from kgstore.errors import stopped_by_user
from kgstore.graph.mapping import cypher_label, cypher_rel_type
from kgstore.services.process import pid_alive


class RunKind(StrEnum):
    INGEST = "ingest"
    EXPORT = "export"
    EMBED = "embed"
    GENERATE = "generate"
    TRAIN = "train"
    EVALUATE = "evaluate"


def _json(values: Mapping[str, Any]) -> str:
    return json.dumps(dict(values), sort_keys=True, default=str)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def record_run_start(
    db: Database,
    run_id: str,
    kind: RunKind,
    config: Mapping[str, Any],
    props: Mapping[str, Any] | None = None,
    started: datetime | None = None,
) -> None:
    """Create the run's node with status `running`; `props` are extra properties (an
    ingest's `source` and `sourceFile`). The config's `domain`, where the command has one,
    is also kept as the property `domain`, so runs of one domain can be told apart and
    matched. The host and process are kept, so a later run can tell that this one was
    killed (`mark_interrupted_runs`). `started` defaults to now (the bulk path records its
    runs after the import, with their real start)."""
    domain = config.get("domain")
    db.query(
        "MERGE (r:Run {id: $id}) SET r += $props, r.kind = $kind, r.config = $config, "
        "r.domain = $domain, r.status = 'running', r.startedAt = datetime($now), "
        "r.host = $host, r.pid = $pid",
        id=run_id,
        kind=kind.value,
        props=dict(props or {}),
        config=_json(config),
        domain=str(domain) if domain is not None else None,
        now=(started or datetime.now(UTC)).isoformat(),
        host=socket.gethostname(),
        pid=os.getpid(),
    )


def record_run_end(db: Database, run_id: str, status: str, metrics: Mapping[str, Any]) -> None:
    """Close the run with its status (`finished`, `failed`, `interrupted`) and metrics."""
    db.query(
        "MATCH (r:Run {id: $id}) SET r.status = $status, r.metrics = $metrics, "
        "r.finishedAt = datetime($now)",
        id=run_id,
        status=status,
        metrics=_json(metrics),
        now=_now(),
    )


def record_run_undone(db: Database, run_id: str, undo: Mapping[str, Any]) -> None:
    """Mark an ingest run `undone`, keeping its metrics and adding what the undo did."""
    db.query(
        "MATCH (r:Run {id: $id}) SET r.status = 'undone', r.undo = $undo, "
        "r.undoneAt = datetime($now)",
        id=run_id,
        undo=_json(undo),
        now=_now(),
    )


INTERRUPTED = "interrupted"


def record_run_error(
    db: Database,
    run_id: str,
    exc: BaseException,
    metrics: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> None:
    """Close the run that `exc` ended: `interrupted` when the user stopped it (Ctrl-C,
    here or in the command following it in a worker), else `failed` with `error`
    (default: `repr(exc)`) added to `metrics`."""
    if stopped_by_user(exc):
        record_run_end(db, run_id, INTERRUPTED, metrics or {})
    else:
        record_run_end(db, run_id, "failed", {**(metrics or {}), "error": error or repr(exc)})


def _process_gone(host: str | None, pid: int | None) -> bool:
    """The run's process is known to be dead: it ran on this host and its pid is gone
    (runs of other hosts cannot be checked from here)."""
    return host == socket.gethostname() and pid is not None and not pid_alive(pid)


def mark_interrupted_runs(db: Database) -> list[str]:
    """Mark `interrupted` (with when it was noticed) every `running` run of this host
    whose process is gone; returns their ids. Runs of other hosts cannot be checked
    from here and are left as they are."""
    rows = db.query(
        "MATCH (r:Run {status: 'running', host: $host}) "
        "RETURN r.id AS id, r.host AS host, r.pid AS pid",
        host=socket.gethostname(),
    )
    gone = [row["id"] for row in rows if _process_gone(row["host"], row["pid"])]
    if gone:
        db.query(
            "MATCH (r:Run) WHERE r.id IN $ids AND r.status = 'running' "
            "SET r.status = 'interrupted', r.interruptedNoticedAt = datetime($now)",
            ids=gone,
            now=_now(),
        )
    return gone


def run_seconds(
    started: datetime | None, finished: datetime | None, metrics: Mapping[str, Any]
) -> float | None:
    """A run's duration: the `seconds` its own report gave (what the command printed, and
    what its rates are computed from), else from its recorded start to its end; None
    while it runs. Every display of a run's seconds takes them from here."""
    seconds = metrics.get("seconds")
    if isinstance(seconds, int | float):
        return float(seconds)
    if started is None or finished is None:
        return None
    return (finished - started).total_seconds()


@dataclass(frozen=True)
class RunRecord:
    """One `Run` node as `kgctl runs` shows it; `domain` None: the run covers every
    domain (an embedding, facts for any item). An ingest has a source and its file, a
    training or evaluation run a model."""

    id: str
    kind: str
    domain: str | None
    source: str | None
    source_file: str | None
    model: str | None
    status: str
    started: datetime | None
    finished: datetime | None
    metrics: dict[str, Any]

    @property
    def seconds(self) -> float | None:
        return run_seconds(self.started, self.finished, self.metrics)


def native_time(value: Any) -> datetime | None:
    """A driver DateTime as Python's (None stays None)."""
    return value.to_native() if value is not None else None


def list_runs(db: Database, kind: RunKind | None = None, limit: int = 20) -> list[RunRecord]:
    """The latest runs (of one kind, or all), newest first. A run recorded before the
    `domain` property was kept takes it from its config."""
    rows = db.query(
        "MATCH (r:Run) WHERE $kind IS NULL OR r.kind = $kind "
        "RETURN r.id AS id, r.kind AS kind, r.domain AS domain, r.config AS config, "
        "r.source AS source, r.sourceFile AS file, r.model AS model, r.status AS status, "
        "r.startedAt AS started, r.finishedAt AS finished, r.metrics AS metrics "
        "ORDER BY r.startedAt DESC LIMIT $limit",
        kind=kind.value if kind is not None else None,
        limit=limit,
    )
    return [
        RunRecord(
            row["id"],
            row["kind"],
            row["domain"] or json.loads(row["config"] or "{}").get("domain"),
            row["source"],
            row["file"],
            row["model"],
            row["status"],
            native_time(row["started"]),
            native_time(row["finished"]),
            json.loads(row["metrics"]) if row["metrics"] else {},
        )
        for row in rows
    ]


@dataclass(frozen=True)
class TrainRun:
    """A training run's status (None: no such run), config and metrics, as stored."""

    status: str | None
    config: dict[str, Any]
    metrics: dict[str, Any]


def train_run(db: Database, run_id: str, model_prefix: str) -> TrainRun:
    """The `Run {kind: 'train'}` of that id whose model starts with `model_prefix`
    (`hdgi`, `sasrec`), for the stages that load what it trained."""
    rows = db.query(
        "MATCH (r:Run {id: $id, kind: 'train'}) WHERE r.model STARTS WITH $model "
        "RETURN r.status AS status, r.config AS config, r.metrics AS metrics",
        id=run_id,
        model=model_prefix,
    )
    if not rows:
        return TrainRun(None, {}, {})
    row = rows[0]
    return TrainRun(
        row["status"], json.loads(row["config"] or "{}"), json.loads(row["metrics"] or "{}")
    )


def node_key(labels: list[str]) -> str:
    """`Item:Movie`, `Entity:Person`, `User`: the base label, then the others sorted."""
    base = next((label for label in ("User", "Item", "Entity") if label in labels), labels[0])
    return ":".join([base, *sorted(label for label in labels if label != base)])


def held_by_run(
    db: Database, run_id: str, labels: Iterable[str], rel_types: Iterable[str]
) -> tuple[dict[str, int], dict[str, int]]:
    """(nodes by labels, relationships by type) that the graph holds from the run `run_id`,
    among the base `labels` and `rel_types` it wrote: what its report counts, each node and
    relationship once however often the input repeated it. Costs one scan of those labels
    and types (there is no index on run ids)."""
    by_labels: dict[str, int] = {}
    for label in sorted(set(labels)):
        rows = db.query(
            f"MATCH (n:{cypher_label(label)}) WHERE $run IN n.ingestRuns "
            "RETURN labels(n) AS labels, count(*) AS c",
            run=run_id,
        )
        for row in rows:
            key = node_key(row["labels"])
            by_labels[key] = by_labels.get(key, 0) + row["c"]
    relationships = {}
    for rel_type in sorted(set(rel_types)):
        [row] = db.query(
            f"MATCH ()-[r:{cypher_rel_type(rel_type)}]->() WHERE r.ingestRun = $run "
            "RETURN count(r) AS c",
            run=run_id,
        )
        if row["c"]:
            relationships[rel_type] = row["c"]
    return by_labels, relationships


def run_status(db: Database, run_id: str) -> str | None:
    """The run's status, or None while it has no node yet. A `running` run of this host
    whose process is gone is closed as `failed` first (its worker was killed): nothing
    else would ever end it."""
    rows = db.query(
        "MATCH (r:Run {id: $id}) RETURN r.status AS status, r.host AS host, r.pid AS pid",
        id=run_id,
    )
    if not rows:
        return None
    [row] = rows
    if row["status"] == "running" and _process_gone(row["host"], row["pid"]):
        record_run_end(db, run_id, "failed", {"error": f"process {row['pid']} is gone"})
        return "failed"
    return row["status"]
