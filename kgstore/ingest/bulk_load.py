"""Write a `BulkGraph` into the local Neo4j with `neo4j-admin database import full`.

Only into an empty database of the server `kgctl services up` manages: the import
replaces the database's store, so the database is checked to be empty first, and the
server is stopped for the import and started again after it. Then the schema is
applied, the `Run` nodes of the collected runs are written and dense `idx` assigned —
the same end state as the online ingest of the same runs.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from neo4j import Driver

from kgstore.db import open_driver, run_query
from kgstore.ingest.bulk import BulkGraph, BulkImportError, write_import_files
from kgstore.ingest.writer import assign_dense_indices, record_run_end, record_run_start
from kgstore.schema import apply_schema
from kgstore.services.neo4j_server import neo4j_process, run_admin, start_neo4j, stop_neo4j
from kgstore.settings import Settings


@dataclass(frozen=True)
class BulkLoadReport:
    nodes: int
    relationships: int
    files: Path
    seconds: dict[str, float]


def check_bulk_target(driver: Driver, settings: Settings) -> None:
    """Refuse before any work unless the database is empty and its server is ours."""
    if neo4j_process(settings).pid() is None:
        raise BulkImportError(
            "the bulk path imports into the Neo4j that `kgctl services up` manages "
            f"(KGSTORE_STATE_DIR={settings.state_dir}), and it is not running there; "
            "start it, or use the online ingest (without --bulk)"
        )
    nodes = run_query(driver, settings, "MATCH (n) RETURN count(n) AS c")[0]["c"]
    if nodes:
        raise BulkImportError(
            f"database {settings.neo4j_database!r} at NEO4J_URI={settings.neo4j_uri} holds "
            f"{nodes:,} nodes; the bulk path only loads an empty database (the import "
            "replaces it). Nothing was changed; use the online ingest (without --bulk)"
        )


def bulk_load(driver: Driver, settings: Settings, graph: BulkGraph) -> BulkLoadReport:
    """Import `graph`, restart Neo4j, then schema, `Run` nodes and dense indices; last,
    each run's reject threshold (`TooManyRejects` after the good records are stored).

    `driver` is only used before the import: drivers opened before it hold bookmarks
    of the replaced store, so open a new one to read the result."""
    # Checked again (the CLI checks before collecting): collecting may take minutes,
    # and the import overwrites whatever the database holds by then.
    check_bulk_target(driver, settings)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    folder = settings.state_dir / "import" / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    files = write_import_files(graph, folder)
    seconds["write files"] = time.perf_counter() - started

    started = time.perf_counter()
    stop_neo4j(settings)
    seconds["stop"] = time.perf_counter() - started
    started = time.perf_counter()
    result = run_admin(
        settings,
        "database",
        "import",
        "full",
        settings.neo4j_database,  # first: the file options take every argument after them
        "--overwrite-destination=true",
        "--array-delimiter=U+001F",
        "--multiline-fields=true",
        f"--report-file={folder / 'import.report'}",
        *files.arguments(),
    )
    (folder / "import.log").write_text(result.stdout + result.stderr)
    seconds["neo4j-admin import"] = time.perf_counter() - started
    started = time.perf_counter()
    start_neo4j(settings)
    seconds["restart"] = time.perf_counter() - started
    if result.returncode != 0:
        raise BulkImportError(
            f"neo4j-admin database import failed (exit {result.returncode}); its output is "
            f"in {folder / 'import.log'}, the files it read in {folder}:\n"
            + (result.stderr or result.stdout)[-1500:]
        )

    started = time.perf_counter()
    # A new driver: the old one's bookmarks name transactions of the replaced store.
    with open_driver(settings) as fresh:
        apply_schema(fresh, settings)
        for run in graph.runs:
            config = {**run.config, "bulk": True}
            record_run_start(fresh, settings, run.provenance, config)
            record_run_end(fresh, settings, run.provenance, "finished", run.report)
        assign_dense_indices(fresh, settings)
    seconds["schema, runs, idx"] = time.perf_counter() - started
    for run in graph.runs:
        run.quarantine.check()
    return BulkLoadReport(len(graph.nodes), len(graph.relationships), folder, seconds)
