"""Undo records: what an online ingest changed on nodes and relationships that existed
before it, kept so that `kgctl runs undo` can put it back (kgstore.ingest.write.undo).

The writer's `MERGE` statements return, for every node or relationship that existed
before the run and that the run writes for the first time, the values it is about to
overwrite (`ingest.write.queries.node_before`). Each batch stores them, in its own
transaction, as one `(:IngestUndo {run, kind, entries, prevRuns})` node: `entries` is a
JSON list (Neo4j properties cannot hold maps), `prevRuns` the runs that had written
those nodes and relationships last, so a later undo of one of those runs can tell that
this run wrote over it. What a run creates needs no record: it is found by its
provenance (`ingestRuns[0]` of a node, `ingestRun` of a relationship) and removed.
"""

import json
from collections.abc import Iterator, Sequence
from enum import StrEnum
from typing import Any

from neo4j import ManagedTransaction

from kgstore.db import Database

UNDO_LABEL = "IngestUndo"


class Kind(StrEnum):
    NODE = "node"
    RELATIONSHIP = "relationship"


def _node_entry(before: Sequence[Any]) -> dict[str, Any]:
    node_id, labels, runs, pairs = before
    return {"id": node_id, "labels": labels, "ingestRuns": runs, "props": dict(pairs)}


def _relationship_entry(before: Sequence[Any]) -> dict[str, Any]:
    rel_id, rel_type, run, pairs = before
    return {"id": rel_id, "type": rel_type, "ingestRun": run, "props": dict(pairs)}


def last_writer(kind: Kind, entry: dict[str, Any]) -> str:
    """The run that wrote this node or relationship last before the recording run."""
    return entry["ingestRuns"][-1] if kind is Kind.NODE else entry["ingestRun"]


def store_before(
    tx: ManagedTransaction, run_id: str, kind: Kind, before: Sequence[Sequence[Any]]
) -> None:
    """Keep the `before` rows a writer statement returned (nothing when there are none:
    a batch of new nodes costs no write)."""
    if not before:
        return
    to_entry = _node_entry if kind is Kind.NODE else _relationship_entry
    entries = [to_entry(row) for row in before]
    tx.run(
        f"CREATE (:{UNDO_LABEL} {{run: $run, kind: $kind, entries: $entries, prevRuns: $prev}})",
        run=run_id,
        kind=kind.value,
        entries=json.dumps(entries),
        prev=sorted({last_writer(kind, entry) for entry in entries}),
    )


def load_entries(db: Database, run_id: str, kind: Kind) -> list[dict[str, Any]]:
    """Every entry the run recorded for `kind` (one per node or relationship)."""
    rows = db.query(
        f"MATCH (u:{UNDO_LABEL} {{run: $run, kind: $kind}}) RETURN u.entries AS entries",
        run=run_id,
        kind=kind.value,
    )
    return [entry for row in rows for entry in json.loads(row["entries"])]


def written_over(db: Database, run_id: str) -> Iterator[tuple[str, Kind, dict[str, Any]]]:
    """(other run, kind, entry) for everything `run_id` wrote last and another run's
    records say it wrote over afterwards."""
    rows = db.query(
        f"MATCH (u:{UNDO_LABEL}) WHERE $run IN u.prevRuns AND u.run <> $run "
        "RETURN u.run AS run, u.kind AS kind, u.entries AS entries",
        run=run_id,
    )
    for row in rows:
        kind = Kind(row["kind"])
        for entry in json.loads(row["entries"]):
            if last_writer(kind, entry) == run_id:
                yield row["run"], kind, entry


def delete_records(db: Database, run_id: str) -> None:
    db.query(f"MATCH (u:{UNDO_LABEL} {{run: $run}}) DELETE u", run=run_id)
