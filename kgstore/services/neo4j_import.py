"""Offline import into the local Neo4j: stop the server, run `neo4j-admin` with the
arguments the caller prepared, start the server again (whatever the import's outcome)."""

from pathlib import Path

from kgstore.errors import BulkImportError
from kgstore.services.neo4j_server import Neo4jServer, run_admin
from kgstore.settings import Settings
from kgstore.timing import timed


def import_offline(settings: Settings, arguments: list[str], log: Path) -> dict[str, float]:
    """Stop Neo4j, run `neo4j-admin ARGUMENTS` (its output into `log`), start Neo4j;
    returns the seconds of each step. Raises BulkImportError with the tool's last output
    when it fails; the server is running again either way."""
    seconds: dict[str, float] = {}
    with timed(seconds, "stop"):
        Neo4jServer(settings).stop()
    with timed(seconds, "neo4j-admin import"):
        result = run_admin(settings, *arguments)
    log.write_text(result.stdout + result.stderr)
    with timed(seconds, "restart"):
        Neo4jServer(settings).start()
    if result.returncode != 0:
        raise BulkImportError(
            f"neo4j-admin database import failed (exit {result.returncode}); its output is "
            f"in {log}, the files it read in {log.parent}:\n"
            + (result.stderr or result.stdout)[-1500:]
        )
    return seconds
