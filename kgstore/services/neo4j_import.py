"""Offline `neo4j-admin` runs on the local Neo4j: stop the server, run the tool with the
arguments the caller prepared, start the server again (whatever the tool's outcome).
The bulk import uses it, and so do backup and restore (kgstore/backup/): Community
edition only dumps, loads and imports a database that is not mounted."""

import subprocess
from pathlib import Path

from kgstore.errors import BulkImportError
from kgstore.services.neo4j_server import Neo4jServer, run_admin
from kgstore.settings import Settings
from kgstore.timing import timed


def run_offline(
    settings: Settings,
    arguments: list[str],
    log: Path,
    seconds: dict[str, float],
    step: str,
    restart: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Stop Neo4j, run `neo4j-admin ARGUMENTS` (its output into `log`, its time into
    `seconds[step]`), then start Neo4j again unless `restart` is False — also when the
    tool fails or raises, or the user presses Ctrl-C, so the server is never left down
    by accident. The caller judges the returned result."""
    with timed(seconds, "stop"):
        Neo4jServer(settings).stop()
    try:
        with timed(seconds, step):
            result = run_admin(settings, *arguments)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(result.stdout + result.stderr)
    finally:
        if restart:
            with timed(seconds, "restart"):
                Neo4jServer(settings).start()
    return result


def import_offline(settings: Settings, arguments: list[str], log: Path) -> dict[str, float]:
    """Stop Neo4j, run `neo4j-admin ARGUMENTS` (its output into `log`), start Neo4j;
    returns the seconds of each step. Raises BulkImportError with the tool's last output
    when it fails; the server is running again either way."""
    seconds: dict[str, float] = {}
    result = run_offline(settings, arguments, log, seconds, "neo4j-admin import")
    if result.returncode != 0:
        raise BulkImportError(
            f"neo4j-admin database import failed (exit {result.returncode}); its output is "
            f"in {log}, the files it read in {log.parent}:\n"
            + (result.stderr or result.stdout)[-1500:]
        )
    return seconds
