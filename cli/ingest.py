"""`kgctl ingest …`: one subcommand per source; each is a thin call into kgstore.ingest.

Shared here: the options every ingest takes and the report every ingest prints.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from neo4j import Driver
from rich.table import Table

from cli.console import console
from kgstore.ingest.bulk import BulkGraph
from kgstore.ingest.bulk_load import bulk_load, check_bulk_target
from kgstore.ingest.quarantine import DEFAULT_MAX_REJECT_FRACTION
from kgstore.ingest.session import IngestOptions
from kgstore.ingest.writer import DEFAULT_BATCH_SIZE
from kgstore.settings import Settings

app = typer.Typer(
    help="Load sources into the graph. Every ingest is idempotent (re-running changes "
    "nothing) and resumable (re-run an interrupted one). Bad records are reported with "
    "file and line and kept in a quarantine file; the good ones are always stored.",
    no_args_is_help=True,
)

BatchSize = Annotated[int, typer.Option(min=1, help="Rows per write transaction.")]
MaxRejects = Annotated[
    float,
    typer.Option(
        min=0.0,
        max=1.0,
        help="Fail (exit code 3) when more than this fraction of records is rejected.",
    ),
]
QuarantineDir = Annotated[
    Path | None,
    typer.Option(help="Where rejected records go (default: KGSTORE_STATE_DIR/quarantine)."),
]


Bulk = Annotated[
    bool,
    typer.Option(
        "--bulk",
        help="First load into an empty database: collect in memory, then `neo4j-admin "
        "database import` (restarts the local Neo4j). Refused on a non-empty database.",
    ),
]


def ingest_options(
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_rejects: float = DEFAULT_MAX_REJECT_FRACTION,
    quarantine_dir: Path | None = None,
    bulk: bool = False,
) -> IngestOptions:
    return IngestOptions(batch_size, max_rejects, quarantine_dir, BulkGraph() if bulk else None)


@contextmanager
def bulk_if_asked(driver: Driver, settings: Settings, options: IngestOptions) -> Iterator[None]:
    """Around the ingest calls of one command: with `--bulk`, check the target first and
    import what they collected at the end."""
    if options.bulk is None:
        yield
        return
    check_bulk_target(driver, settings)
    yield
    report = bulk_load(driver, settings, options.bulk)
    steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in report.seconds.items())
    console.print(
        f"bulk import: {report.nodes:,} nodes, {report.relationships:,} relationships "
        f"({steps}); files in {report.files}"
    )


def print_report(report: dict[str, Any]) -> None:
    """What an ingest wrote, skipped and rejected, as one table and a few lines."""
    table = Table("written", "count", "not matched (dangling)")
    for label, count in sorted(report["nodes"].items()):
        table.add_row(f"nodes {label}", str(count), "")
    for rel_type, count in sorted(report["relationships"].items()):
        table.add_row(f"rels {rel_type}", str(count), str(report["dangling"].get(rel_type, 0)))
    console.print(table)
    console.print(
        f"run {report['run']}: {report['records']} records read, {report['rejected']} rejected"
    )
    if report["quarantine"]:
        console.print(f"rejected records: {report['quarantine']}")
    for name, count in list(report["unmapped"].items())[:20]:
        console.print(f"not mapped: {name} x{count}")
    for note in report["notes"]:
        console.print(f"note: {note}")
