"""The runs a report is about, read from their `Run` nodes: the run asked for and, for an
evaluation run, the persona run whose personas fed its `kg` rows; and what the stored
text embeddings those runs read were made from."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kgstore.db import Database
from kgstore.embeddings.texts import UNRECORDED_SOURCE
from kgstore.errors import KgstoreError
from kgstore.graph.mapping import Domain, cypher_label
from kgstore.graph.runs import native_time, run_seconds

LATEST = "latest"
"""`kgctl report latest`: the newest finished evaluation or persona run."""

REPORTABLE = (
    "`kgctl report` takes an evaluation run (`kgctl evaluate --grid table3`) or an HDGI "
    "persona run (`kgctl train hdgi`)"
)


class ReportError(KgstoreError):
    """The run asked for cannot be reported: unknown, of another kind, or not finished."""


@dataclass(frozen=True)
class RunNode:
    """One `Run` node with its JSON config and metrics decoded."""

    id: str
    kind: str
    model: str | None
    domain: str | None
    status: str
    started: datetime | None
    finished: datetime | None
    config: dict[str, Any]
    metrics: dict[str, Any]

    @property
    def is_evaluation(self) -> bool:
        return self.kind == "evaluate"

    @property
    def is_persona(self) -> bool:
        return self.kind == "train" and self.model == "hdgi"

    @property
    def seconds(self) -> float | None:
        return run_seconds(self.started, self.finished, self.metrics)


def read_run(db: Database, run_id: str) -> RunNode | None:
    rows = db.query(
        "MATCH (r:Run {id: $id}) RETURN r.kind AS kind, r.model AS model, r.domain AS domain, "
        "r.status AS status, r.startedAt AS started, r.finishedAt AS finished, "
        "r.config AS config, r.metrics AS metrics",
        id=run_id,
    )
    if not rows:
        return None
    [row] = rows
    return RunNode(
        run_id,
        row["kind"],
        row["model"],
        row["domain"],
        row["status"],
        native_time(row["started"]),
        native_time(row["finished"]),
        json.loads(row["config"] or "{}"),
        json.loads(row["metrics"] or "{}"),
    )


def latest_reportable(db: Database) -> str:
    rows = db.query(
        "MATCH (r:Run {status: 'finished'}) "
        "WHERE r.kind = 'evaluate' OR (r.kind = 'train' AND r.model = 'hdgi') "
        "RETURN r.id AS id ORDER BY r.finishedAt DESC LIMIT 1"
    )
    if not rows:
        raise ReportError(f"no finished run to report: {REPORTABLE}")
    return rows[0]["id"]


def report_run(db: Database, run_id: str) -> RunNode:
    """The finished evaluation or persona run `run_id` (or `latest`); anything else is a
    ReportError naming the run and where to find run ids."""
    if run_id == LATEST:
        run_id = latest_reportable(db)
    run = read_run(db, run_id)
    if run is None:
        raise ReportError(f"no run {run_id!r} in the graph: `kgctl runs` lists the run ids")
    if not (run.is_evaluation or run.is_persona):
        model = f" (model {run.model})" if run.model else ""
        raise ReportError(f"run {run_id} has kind {run.kind!r}{model}; {REPORTABLE}")
    if run.status != "finished":
        error = run.metrics.get("error")
        raise ReportError(
            f"run {run_id} is {run.status}, not finished" + (f": {error}" if error else "")
        )
    return run


def persona_run_of(db: Database, run: RunNode) -> RunNode | None:
    """The persona run behind `run`: itself for a persona run; for an evaluation run the one
    it recorded as `persona_run` (None when its rows had no `kg` user or the run predates
    that record, or when that run is gone)."""
    if run.is_persona:
        return run
    persona = run.metrics.get("persona_run")
    return read_run(db, persona) if persona else None


@dataclass(frozen=True)
class TextSources:
    """Embedded items (of the report's domain) and the entities they link to, counted per
    recorded `textSource`."""

    items: dict[str, int]
    entities: dict[str, int]


def text_sources(db: Database, domain: str | None) -> TextSources:
    """What the item and entity vectors were embedded from, as the graph holds them now
    (the vectors a run read are those still stored unless `kgctl embed` ran since)."""
    items = f"Item:{cypher_label(Domain(domain).label)}" if domain else "Item"
    counted = (
        "WHERE n.textEmbedding IS NOT NULL "
        "RETURN coalesce(n[$key], $unrecorded) AS source, count(n) AS n"
    )
    kwargs = {"key": "textSource", "unrecorded": UNRECORDED_SOURCE}
    item_rows = db.query(f"MATCH (n:{items}) {counted}", **kwargs)
    entity_rows = db.query(
        f"MATCH (:{items})-->(e:Entity) WITH DISTINCT e AS n {counted}", **kwargs
    )
    return TextSources(
        {row["source"]: row["n"] for row in item_rows},
        {row["source"]: row["n"] for row in entity_rows},
    )
