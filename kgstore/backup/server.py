"""The Neo4j a backup dumps or loads: the one `kgctl services up` manages, since
`neo4j-admin` works on its files. Another server answering on NEO4J_URI is refused."""

from datetime import UTC, datetime
from pathlib import Path

from kgstore.errors import BackupError
from kgstore.services.neo4j_server import Neo4jServer
from kgstore.services.process import port_in_use
from kgstore.settings import Settings


def managed_neo4j(settings: Settings) -> Neo4jServer:
    """The managed server; BackupError when it is down but NEO4J_URI's port answers (a
    Docker or system Neo4j: its files are not ours to dump)."""
    server = Neo4jServer(settings)
    if server.pid() is None and port_in_use(settings.neo4j_host, settings.neo4j_bolt_port):
        raise BackupError(
            f"NEO4J_URI={settings.neo4j_uri} answers, but not from the Neo4j `kgctl services "
            f"up` manages (KGSTORE_STATE_DIR={settings.state_dir}); a backup dumps and loads "
            "that one's files with neo4j-admin. For another server, run neo4j-admin where it "
            "runs. Nothing was changed"
        )
    return server


def database_folder(settings: Settings) -> Path:
    """Where the managed server keeps the database's store files."""
    return Neo4jServer(settings).home / "data" / "databases" / settings.neo4j_database


def admin_log(settings: Settings, what: str) -> Path:
    """Where a backup's `neo4j-admin` output goes: the state directory, not the backup."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return settings.state_dir / "backup" / f"{stamp}-{what}.log"
