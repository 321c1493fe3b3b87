"""One ingest from start to end: a `Run` record, a writer, a quarantine, dense indices,
and the report the CLI prints. Every source module's `ingest_*` function runs in one."""

from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neo4j import Driver
from neo4j.exceptions import DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from kgstore.errors import Neo4jUnavailable
from kgstore.ingest.bulk import BulkGraph, BulkRun, BulkWriter
from kgstore.ingest.quarantine import DEFAULT_MAX_REJECT_FRACTION, Quarantine
from kgstore.ingest.writer import (
    DEFAULT_BATCH_SIZE,
    GraphWriter,
    Provenance,
    Writer,
    assign_dense_indices,
    record_run_end,
    record_run_start,
)
from kgstore.settings import Settings


@dataclass
class IngestSession:
    """What a source module gets: write through `writer`, reject through `quarantine`,
    count predicates or fields it has no mapping for in `unmapped`, and leave remarks
    (such as an assumed sequence order) in `notes`."""

    writer: Writer
    quarantine: Quarantine
    unmapped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.writer.provenance.run_id

    def report(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "records": self.quarantine.records_read,
            "rejected": len(self.quarantine.rejects),
            "quarantine": str(self.quarantine.path) if self.quarantine.rejects else None,
            "unmapped": dict(self.unmapped.most_common()),
            "notes": self.notes,
            **self.writer.counts.as_dict(),
        }


@dataclass(frozen=True)
class IngestOptions:
    """`bulk`: collect into this graph for `bulk_load` instead of writing to Neo4j."""

    batch_size: int = DEFAULT_BATCH_SIZE
    max_reject_fraction: float = DEFAULT_MAX_REJECT_FRACTION
    quarantine_dir: Path | None = None
    bulk: BulkGraph | None = None


@contextmanager
def ingest_session(
    driver: Driver,
    settings: Settings,
    source: str,
    source_file: str,
    config: Mapping[str, Any],
    options: IngestOptions,
) -> Iterator[IngestSession]:
    """Record the run, hand out the writer, then flush, number new nodes and close the run.

    On an exception the run is marked `failed` and what was committed stays: a re-run
    (every write is a MERGE) completes it. When Neo4j itself goes away (after the
    driver's own retries), the run cannot be marked and stays `running`; the error says
    so and how to resume. The reject threshold is checked last, after all good records
    are stored.
    """
    provenance = Provenance(source, source_file)
    quarantine_dir = options.quarantine_dir or settings.state_dir / "quarantine"
    quarantine = Quarantine(
        quarantine_dir / f"{source}-{provenance.run_id}.jsonl", options.max_reject_fraction
    )
    if options.bulk is not None:
        yield from _bulk_session(options.bulk, provenance, quarantine, config)
        return
    session = IngestSession(
        GraphWriter(driver, settings, provenance, options.batch_size), quarantine
    )
    record_run_start(driver, settings, provenance, config)
    try:
        yield session
        session.writer.flush()
        session.notes.append(f"dense idx assigned: {assign_dense_indices(driver, settings)}")
    except (ServiceUnavailable, SessionExpired) as exc:
        raise Neo4jUnavailable(
            f"Neo4j stopped answering during the ingest (NEO4J_URI={settings.neo4j_uri}: "
            f"{exc.__class__.__name__}). Every batch it acknowledged is kept; run "
            f"{provenance.run_id} stays 'running' in the graph. Once `kgctl services "
            "status` shows Neo4j running, run the same command again: it resumes."
        ) from exc
    except BaseException as exc:
        try:
            record_run_end(
                driver, settings, provenance, "failed", {**session.report(), "error": repr(exc)}
            )
        except (DriverError, Neo4jError) as closing:
            exc.add_note(f"the run could not be marked failed: {closing!r}")
        raise
    record_run_end(driver, settings, provenance, "finished", session.report())
    session.quarantine.check()


def _bulk_session(
    graph: BulkGraph, provenance: Provenance, quarantine: Quarantine, config: Mapping[str, Any]
) -> Iterator[IngestSession]:
    """The same session collecting into `graph`; its run is recorded by `bulk_load`."""
    session = IngestSession(BulkWriter(graph, provenance), quarantine)
    yield session
    session.writer.flush()
    session.notes.append("collected for the bulk import; dense idx assigned after it")
    graph.runs.append(BulkRun(provenance, dict(config), session.report(), session.quarantine))
