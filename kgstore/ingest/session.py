"""One ingest from start to end: a `Run` record, a writer, a quarantine, dense indices,
and the report the CLI prints. Every source module's `ingest_*` function runs in one."""

import time
from collections import Counter
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from neo4j.exceptions import DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from kgstore.db import Database
from kgstore.errors import DomainConflict, Neo4jUnavailable, UndoRefused
from kgstore.graph.dense_idx import assign_dense_indices
from kgstore.graph.mapping import BY_TYPE, Domain
from kgstore.graph.runs import (
    RunKind,
    held_by_run,
    mark_interrupted_runs,
    record_run_end,
    record_run_error,
    record_run_start,
)
from kgstore.graph.sequences import Sequences, write_sequences
from kgstore.ingest.progress import IngestProgress
from kgstore.ingest.quarantine import DEFAULT_MAX_REJECT_FRACTION, Quarantine
from kgstore.ingest.write.bulk_writer import BulkGraph, BulkRun, BulkWriter
from kgstore.ingest.write.graph_writer import GraphWriter
from kgstore.ingest.write.undo import summary as undo_summary
from kgstore.ingest.write.undo import undo_ingest_run
from kgstore.ingest.write.writer import DEFAULT_BATCH_SIZE, Provenance, Writer, base_label
from kgstore.schema import apply_schema
from kgstore.settings import load_settings


@dataclass(frozen=True)
class IngestReport:
    """What one ingest run read, wrote, left dangling, rejected and noticed."""

    run: str
    records: int
    rejected: int
    quarantine: str | None
    unmapped: dict[str, int]
    skipped: dict[str, int]
    """Records legitimately absent from the data (not rejects), by why."""
    notes: list[str]
    nodes: dict[str, int]
    relationships: dict[str, int]
    dangling: dict[str, int]
    first_rejects: list[str]
    seconds: float
    """From the run's start to this report."""

    @property
    def reports(self) -> list["IngestReport"]:
        """The runs of a command (one here; the demo has two)."""
        return [self]

    @property
    def summary(self) -> str | None:
        return None

    @property
    def relationships_per_second(self) -> float:
        return sum(self.relationships.values()) / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        """For the run's `metrics` (JSON)."""
        return {**asdict(self), "relationshipsPerSecond": round(self.relationships_per_second)}


@dataclass
class IngestSession:
    """What a source module gets: write through `writer`, reject through `quarantine`,
    count predicates or fields it has no mapping for in `unmapped`, and leave remarks
    (such as an assumed sequence order) in `notes`."""

    writer: Writer
    quarantine: Quarantine
    unmapped: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    ended: float | None = None
    """When the run ended (`end`): its report's seconds stop there, so the report the
    command prints, the one its `Run` stores and `kgctl runs` say the same."""
    held: tuple[dict[str, int], dict[str, int]] | None = None
    """Nodes and relationships the graph holds from this run, once it is flushed."""

    @property
    def run_id(self) -> str:
        return self.writer.provenance.run_id

    def check_domain(self, items: Collection[str], domain: Domain) -> None:
        """Refuse, before any item is written, items the graph already holds in another
        domain: the file was most likely given the wrong --domain."""
        conflicts = self.writer.items_in_other_domains(items, domain.label)
        if conflicts:
            shown = ", ".join(f"{item} ({'/'.join(labels)})" for item, labels in conflicts.items())
            raise DomainConflict(
                f"items of this {domain.value} ingest are already in the graph under another "
                f"domain, e.g. {shown}: check --domain. Nothing of this file was written."
            )

    def write_sequences(
        self, sequences: Sequences, user_props: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        """Queue the users and their RATED sequences, and keep the sequence notes."""
        write_sequences(self.writer, sequences, user_props)
        self.notes.extend(sequences.notes)

    def end(self) -> None:
        self.ended = time.perf_counter()

    def report(self) -> IngestReport:
        """Counts are what the graph holds from this run once it is flushed (before that,
        what the writer has sent); seconds up to its end (up to now while it runs)."""
        counts = self.writer.counts
        nodes, relationships = self.held or (dict(counts.nodes), dict(counts.relationships))
        return IngestReport(
            run=self.run_id,
            records=self.quarantine.records_read,
            rejected=len(self.quarantine.rejects),
            quarantine=str(self.quarantine.path) if self.quarantine.rejects else None,
            unmapped=dict(self.unmapped.most_common()),
            skipped=dict(self.skipped),
            notes=self.notes,
            nodes=nodes,
            relationships=relationships,
            dangling=dict(counts.dangling),
            first_rejects=self.quarantine.first(),
            seconds=(self.ended if self.ended is not None else time.perf_counter()) - self.started,
        )

    def written_kinds(self) -> tuple[set[str], set[str]]:
        """Base labels and relationship types this run wrote (entities created as
        relationship targets included)."""
        counts = self.writer.counts
        labels = {key.split(":")[0] for key in counts.nodes}
        for rel_type in counts.relationships:
            relation = BY_TYPE[rel_type]
            labels |= {base_label(relation.source_label), base_label(relation.target_label)}
        return labels, set(counts.relationships)

    @property
    def status(self) -> str:
        """How the run ended, once every record was handled."""
        if self.quarantine.over_threshold:
            return "finished with rejects over the threshold"
        return "finished"

    def close_checks(self, outcome: str) -> None:
        """Last: fail (exit 3, with the report) when too many records were rejected;
        `outcome` says what became of the run's writes."""
        self.quarantine.check(outcome, self.report())


@dataclass(frozen=True)
class IngestOptions:
    """How to ingest, whatever the source. `quarantine_dir` defaults to
    KGSTORE_STATE_DIR/quarantine; `bulk`: collect into this graph for `bulk_load` instead
    of writing to Neo4j."""

    batch_size: int = DEFAULT_BATCH_SIZE
    max_reject_fraction: float = DEFAULT_MAX_REJECT_FRACTION
    quarantine_dir: Path | None = None
    bulk: BulkGraph | None = None
    progress: bool = False
    """Say the progress on stderr: a live status line on a terminal, plain lines else."""

    def quarantine_for(self, provenance: Provenance) -> Quarantine:
        folder = self.quarantine_dir or load_settings().state_dir / "quarantine"
        return Quarantine(
            folder / f"{provenance.source}-{provenance.run_id}.jsonl", self.max_reject_fraction
        )


@contextmanager
def ingest_session(
    db: Database,
    source: str,
    source_file: str,
    config: Mapping[str, Any],
    options: IngestOptions,
) -> Iterator[IngestSession]:
    """Apply the schema, record the run, hand out the writer, then flush, number new nodes
    and close the run.

    On an exception the run is marked `failed` (`interrupted` on Ctrl-C) and what was
    committed stays: a re-run (every write is a MERGE) completes it. When Neo4j itself
    goes away (after the driver's own retries), the run cannot be marked and stays
    `running`; the error says so and how to resume.

    The reject threshold can only be judged once the whole input is read, after the
    good records were written: a run over it is undone (`ingest.write.undo`), so the graph is
    as it was before, then fails (exit 3).
    """
    provenance = Provenance(source, source_file)
    quarantine = options.quarantine_for(provenance)
    if options.bulk is not None:
        yield from _bulk_session(options.bulk, provenance, quarantine, config, options.progress)
        return
    session = IngestSession(GraphWriter(db, provenance, options.batch_size), quarantine)
    # Idempotent and cheap; without the key constraints every MERGE scans its label.
    apply_schema(db)
    mark_interrupted_runs(db)
    props = {**_run_props(provenance), "undoRecords": True}
    record_run_start(db, provenance.run_id, RunKind.INGEST, config, props)
    try:
        with IngestProgress(session, options.progress):
            yield session
            session.writer.flush()
        session.held = held_by_run(db, provenance.run_id, *session.written_kinds())
        if not session.quarantine.over_threshold:
            session.notes.append(f"dense idx assigned: {assign_dense_indices(db)}")
    except (ServiceUnavailable, SessionExpired) as exc:
        session.writer.abandon(exc)
        raise Neo4jUnavailable(
            f"Neo4j stopped answering during the ingest (NEO4J_URI={db.uri}: "
            f"{exc.__class__.__name__}). Every batch it acknowledged is kept; run "
            f"{provenance.run_id} will be marked interrupted by the next ingest or `kgctl "
            "runs`. Once `kgctl services status` shows Neo4j running, run the same command "
            "again: it resumes."
        ) from exc
    except BaseException as exc:
        # No batch commits after the run is closed, and the counts stand still.
        session.writer.abandon(exc)
        try:
            record_run_error(db, provenance.run_id, exc, session.report().as_dict())
        except (DriverError, Neo4jError) as closing:
            exc.add_note(f"the run could not be closed: {closing!r}")
        raise
    session.end()
    record_run_end(db, provenance.run_id, session.status, session.report().as_dict())
    if session.quarantine.over_threshold:
        session.close_checks(_undo_rejected(db, session))


def _undo_rejected(db: Database, session: IngestSession) -> str:
    """Take a run over the reject threshold out of the graph; what to tell the user."""
    try:
        undone = undo_ingest_run(db, session.run_id, "rejects over the threshold")
    except UndoRefused as exc:
        return (
            f"its writes could NOT be removed, they are still in the graph ({exc}); "
            f"`kgctl runs undo {session.run_id}` removes them once that is resolved"
        )
    session.held = ({}, {})
    session.notes.append(undo_summary(undone))
    good = session.quarantine.records_read
    return (
        f"nothing of this input was kept ({good:,} good record{'s' if good != 1 else ''} "
        f"written, then removed again; run {session.run_id} is marked undone)"
    )


def _run_props(provenance: Provenance) -> dict[str, str]:
    return {"source": provenance.source, "sourceFile": provenance.source_file}


def record_ingest_run(db: Database, run: BulkRun, undoable: bool) -> None:
    """The `Run` node of an ingest collected for the bulk path, once it is imported.
    The bulk path keeps no undo records: only a run that wrote into nothing but the
    empty database (the first of its import) created all it holds, and can be undone."""
    provenance = run.provenance
    config = {**run.config, "bulk": True}
    started = datetime.now(UTC) - timedelta(seconds=run.report.seconds)
    props = {**_run_props(provenance), "undoRecords": undoable}
    record_run_start(db, provenance.run_id, RunKind.INGEST, config, props, started)
    record_run_end(db, provenance.run_id, run.session.status, run.report.as_dict())


def _bulk_session(
    graph: BulkGraph,
    provenance: Provenance,
    quarantine: Quarantine,
    config: Mapping[str, Any],
    progress: bool,
) -> Iterator[IngestSession]:
    """The same session collecting into `graph`; its run is recorded by `bulk_load`."""
    session = IngestSession(BulkWriter(graph, provenance), quarantine)
    with IngestProgress(session, progress):
        yield session
        session.writer.flush()
    session.held = graph.held_by_run(provenance.run_id)
    session.notes.append("collected for the bulk import; dense idx assigned after it")
    session.end()
    graph.runs.append(BulkRun(provenance, dict(config), session.report(), session))
