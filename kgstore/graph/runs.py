"""`Run` nodes: one per ingest, export, embedding, training or evaluation run, with its
configuration, status, times and metrics, so every vector and every relationship in the
graph can be traced to the run that wrote it."""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from kgstore.db import Database


class RunKind(StrEnum):
    INGEST = "ingest"
    EXPORT = "export"
    EMBED = "embed"
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
) -> None:
    """Create the run's node with status `running`; `props` are extra properties (an
    ingest's `source` and `sourceFile`)."""
    db.query(
        "MERGE (r:Run {id: $id}) SET r += $props, r.kind = $kind, r.config = $config, "
        "r.status = 'running', r.startedAt = datetime($now)",
        id=run_id,
        kind=kind.value,
        props=dict(props or {}),
        config=_json(config),
        now=_now(),
    )


def record_run_end(db: Database, run_id: str, status: str, metrics: Mapping[str, Any]) -> None:
    """Close the run with its status (`finished`, `failed`) and metrics."""
    db.query(
        "MATCH (r:Run {id: $id}) SET r.status = $status, r.metrics = $metrics, "
        "r.finishedAt = datetime($now)",
        id=run_id,
        status=status,
        metrics=_json(metrics),
        now=_now(),
    )
