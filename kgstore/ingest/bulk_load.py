"""Load a `BulkGraph` into the local Neo4j: import files (`bulk_files`), the offline
import (`services.neo4j_import`), then schema, `Run` nodes and dense `idx` — the same end
state as the online ingest of the same runs.

Only into an empty database of the server `kgctl services up` manages: the import
replaces the database's store, so the database is checked to be empty first.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kgstore.db import Database, open_database
from kgstore.errors import BulkImportError
from kgstore.graph.dense_idx import assign_dense_indices
from kgstore.ingest.session import record_ingest_run
from kgstore.ingest.write.bulk_files import write_import_files
from kgstore.ingest.write.bulk_writer import BulkGraph
from kgstore.schema import apply_schema
from kgstore.services.neo4j_import import import_offline
from kgstore.services.neo4j_server import Neo4jServer
from kgstore.settings import Settings
from kgstore.timing import timed


@dataclass(frozen=True)
class BulkLoadReport:
    nodes: int
    relationships: int
    files: Path
    seconds: dict[str, float]


def check_bulk_target(db: Database, settings: Settings) -> None:
    """Refuse before any work unless the database is empty and its server is ours."""
    if Neo4jServer(settings).pid() is None:
        raise BulkImportError(
            "the bulk path imports into the Neo4j that `kgctl services up` manages "
            f"(KGSTORE_STATE_DIR={settings.state_dir}), and it is not running there; "
            "start it, or use the online ingest (without --bulk)"
        )
    nodes = db.query("MATCH (n) RETURN count(n) AS c")[0]["c"]
    if nodes:
        raise BulkImportError(
            f"database {db.name!r} at NEO4J_URI={db.uri} holds {nodes:,} nodes; the bulk "
            "path only loads an empty database (the import replaces it). Nothing was "
            "changed; use the online ingest (without --bulk)"
        )


def bulk_load(db: Database, settings: Settings, graph: BulkGraph) -> BulkLoadReport:
    """Check each run's reject threshold (`TooManyRejects`, nothing imported), then
    import `graph`, then schema, `Run` nodes and dense indices.

    `db` is only used before the import: drivers opened before it hold bookmarks of the
    replaced store, so a new one reads the result."""
    for run in graph.runs:
        run.session.close_checks("nothing was imported, the database is still empty")
    # Checked again (the CLI checks before collecting): collecting may take minutes,
    # and the import overwrites whatever the database holds by then.
    check_bulk_target(db, settings)
    seconds: dict[str, float] = {}
    folder = settings.state_dir / "import" / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    with timed(seconds, "write files"):
        files = write_import_files(graph, folder)
    arguments = files.admin_arguments(db.name, folder / "import.report")
    seconds |= import_offline(settings, arguments, folder / "import.log")
    with timed(seconds, "schema, runs, idx"), open_database(settings) as fresh:
        apply_schema(fresh)
        for index, run in enumerate(graph.runs):
            record_ingest_run(fresh, run, undoable=index == 0)
        assign_dense_indices(fresh)
    return BulkLoadReport(len(graph.nodes), len(graph.relationships), folder, seconds)
