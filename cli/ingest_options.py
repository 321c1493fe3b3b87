"""What every `kgctl ingest <source>` command shares: its options (declared once, here),
the helper that runs an ingest against the configured database, and the report.

A source command declares `options: IngestOptions` (and `kcore: int` where k-core
filtering applies) and is wrapped with `@ingest_command()`: the wrapper puts the shared
options on the command line and hands the command the values they parse to.
"""

import functools
import inspect
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

import typer
from rich.table import Table

from cli.console import console, settings
from cli.interrupt import RESUMES, interruptible
from kgstore.db import Database, open_database
from kgstore.errors import TooManyRejects
from kgstore.graph.mapping import Domain
from kgstore.ingest.bulk_load import bulk_load, check_bulk_target
from kgstore.ingest.quarantine import DEFAULT_MAX_REJECT_FRACTION
from kgstore.ingest.session import IngestOptions, IngestReport
from kgstore.ingest.write.bulk_writer import BulkGraph
from kgstore.ingest.write.writer import DEFAULT_BATCH_SIZE
from kgstore.settings import Settings

T = TypeVar("T")
_LOUD: ContextVar[bool] = ContextVar("loud", default=True)
"""False under --quiet or --json: only the reports (or nothing) reach stdout."""
_KEYWORD = inspect.Parameter.KEYWORD_ONLY

KCORE = inspect.Parameter(
    "kcore",
    _KEYWORD,
    default=0,
    annotation=Annotated[
        int,
        typer.Option(
            "--kcore",
            min=0,
            help="Keep the k-core: drop users and items with fewer than K interactions "
            "until none is left (the paper uses 5; 0 keeps everything).",
        ),
    ],
)
WRITE_OPTIONS = (
    inspect.Parameter(
        "batch_size",
        _KEYWORD,
        default=DEFAULT_BATCH_SIZE,
        annotation=Annotated[int, typer.Option(min=1, help="Rows per write transaction.")],
    ),
    inspect.Parameter(
        "max_rejects",
        _KEYWORD,
        default=DEFAULT_MAX_REJECT_FRACTION,
        annotation=Annotated[
            float,
            typer.Option(
                min=0.0,
                max=1.0,
                help="Fail (exit code 3) when more than this fraction of records is rejected.",
            ),
        ],
    ),
    inspect.Parameter(
        "quarantine_dir",
        _KEYWORD,
        default=None,
        annotation=Annotated[
            Path | None,
            typer.Option(help="Where rejected records go (default: KGSTORE_STATE_DIR/quarantine)."),
        ],
    ),
)
BULK = inspect.Parameter(
    "bulk",
    _KEYWORD,
    default=False,
    annotation=Annotated[
        bool,
        typer.Option(
            "--bulk",
            help="First load into an empty database: collect in memory, then `neo4j-admin "
            "database import` (restarts the local Neo4j). Refused on a non-empty database.",
        ),
    ],
)


OUTPUT_OPTIONS = (
    inspect.Parameter(
        "quiet",
        _KEYWORD,
        default=False,
        annotation=Annotated[
            bool, typer.Option("--quiet", "-q", help="Print nothing but errors; no progress.")
        ],
    ),
    inspect.Parameter(
        "json_output",
        _KEYWORD,
        default=False,
        annotation=Annotated[
            bool,
            typer.Option("--json", help="Print the run reports as one JSON object, nothing else."),
        ],
    ),
)


class Reported(Protocol):
    """What a source command returns: its runs' reports and an optional summary line."""

    @property
    def reports(self) -> list[IngestReport]: ...

    @property
    def summary(self) -> str | None: ...


def ingest_command(bulk: bool = True) -> Callable[[Callable[..., Reported]], Callable[..., None]]:
    """Add the shared options to a source command (`--bulk` only where `bulk`) and print
    what it returns: tables and notes, nothing (`--quiet`) or JSON (`--json`). Progress
    is said on stderr (a live line on a terminal, plain lines else) unless the output is
    quiet or JSON."""
    shared = (*WRITE_OPTIONS, BULK) if bulk else WRITE_OPTIONS

    def decorate(command: Callable[..., Reported]) -> Callable[..., None]:
        own = inspect.signature(command).parameters
        params = [p for name, p in own.items() if name not in ("options", "kcore")]
        params += [KCORE] if "kcore" in own else []
        params += [*shared, *OUTPUT_OPTIONS]

        @functools.wraps(command)
        def wrapper(**values: Any) -> None:
            quiet, as_json = values.pop("quiet"), values.pop("json_output")
            _LOUD.set(not (quiet or as_json))
            options = IngestOptions(
                values.pop("batch_size"),
                values.pop("max_rejects"),
                values.pop("quarantine_dir"),
                BulkGraph() if values.pop("bulk", False) else None,
                progress=not (quiet or as_json),
            )
            try:
                with interruptible(RESUMES):
                    result = command(**values, options=options)
            except TooManyRejects as exc:  # the report first, then the error
                if isinstance(exc.report, IngestReport):
                    _show(exc.report, quiet, as_json)
                raise
            _show(result, quiet, as_json)

        wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _show(result: Reported, quiet: bool, as_json: bool) -> None:
    if as_json:
        runs = [report.as_dict() for report in result.reports]
        print(json.dumps({"runs": runs, "summary": result.summary}, default=str))
    elif not quiet:
        for report in result.reports:
            print_report(report)
        if result.summary:
            console.print(result.summary)


def run_ingest(ingest: Callable[[Database], T], options: IngestOptions) -> T:
    """Open the configured database and run `ingest` on it; with `--bulk`, check the
    target first and import what the ingest collected at the end."""
    cfg = settings()
    with open_database(cfg) as db, _bulk_if_asked(db, cfg, options):
        return ingest(db)


@contextmanager
def _bulk_if_asked(db: Database, cfg: Settings, options: IngestOptions) -> Iterator[None]:
    if options.bulk is None:
        yield
        return
    check_bulk_target(db, cfg)
    yield
    report = bulk_load(db, cfg, options.bulk)
    if not _LOUD.get():
        return
    steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in report.seconds.items())
    console.print(
        f"bulk import: {report.nodes:,} nodes, {report.relationships:,} relationships "
        f"({steps}); files in {report.files}"
    )


def print_report(report: IngestReport) -> None:
    """What an ingest wrote, skipped and rejected, as one table and a few lines."""
    table = Table("written", "count", "not matched (dangling)")
    for label, count in sorted(report.nodes.items()):
        table.add_row(f"nodes {label}", str(count), "")
    for rel_type, count in sorted(report.relationships.items()):
        table.add_row(f"rels {rel_type}", str(count), str(report.dangling.get(rel_type, 0)))
    console.print(table)
    written = sum(report.relationships.values())
    console.print(
        f"run {report.run}: {report.records:,} records read, {report.rejected:,} rejected; "
        f"{written:,} relationships in {report.seconds:.1f} s "
        f"({report.relationships_per_second:,.0f} rel/s)"
    )
    for reject in report.first_rejects:
        console.print(f"rejected: {reject}")
    if report.quarantine:
        more = report.rejected - len(report.first_rejects)
        also = f" ({more:,} more than shown)" if more else ""
        console.print(f"all rejected records{also}: {report.quarantine}")
    for why, count in report.skipped.items():
        console.print(f"skipped, not in the data: {count:,} {why}")
    for name, count in list(report.unmapped.items())[:20]:
        console.print(f"not mapped: {name} x{count}")
    for note in report.notes:
        console.print(f"note: {note}")


DomainOption = Annotated[
    Domain, typer.Option(help="Item domain: adds the label Movie or Book to every item.")
]


def input_file(help_text: str) -> Any:
    """An option naming an existing, readable file."""
    return typer.Option(exists=True, dir_okay=False, readable=True, help=help_text)
