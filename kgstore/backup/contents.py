"""What a backup holds besides the dump: the graph's counts, the artifact keys and run
folders its `Run` nodes refer to, and the copies of artifacts and run files (both ways).
"""

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgstore.artifacts import ArtifactStore, artifact_key
from kgstore.backup.manifest import KEY, RUN_ID, GraphCounts, RunFiles
from kgstore.db import Database
from kgstore.errors import BackupError
from kgstore.settings import Settings
from kgstore.stats import label_counts, relationship_type_counts


def graph_counts(db: Database) -> GraphCounts:
    """Nodes and relationships, in all and per label and type (count store: cheap)."""
    return GraphCounts(
        nodes=db.query("MATCH (n) RETURN count(n) AS c")[0]["c"],
        relationships=db.query("MATCH ()-[r]->() RETURN count(r) AS c")[0]["c"],
        labels={name: n for name, n in label_counts(db).items() if n},
        relationship_types={name: n for name, n in relationship_type_counts(db).items() if n},
    )


def neo4j_version(db: Database) -> str:
    """`5.26.0 community`, as the server reports itself."""
    row = db.query("CALL dbms.components() YIELD versions, edition RETURN versions, edition")[0]
    return f"{row['versions'][0]} {row['edition']}"


def running_runs(db: Database) -> list[str]:
    """`id (kind)` of every run recorded as running: it loses Neo4j while it is stopped."""
    rows = db.query(
        "MATCH (r:Run {status: 'running'}) RETURN r.id AS id, r.kind AS kind ORDER BY r.startedAt"
    )
    return [f"{row['id']} ({row['kind']})" for row in rows]


def _strings(value: Any) -> list[str]:
    """Every string in a property value (JSON text is searched as text: keys are hex)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def referenced_keys(db: Database, store: ArtifactStore) -> tuple[list[str], list[str]]:
    """The artifact keys the `Run` nodes' properties name (checkpoints, snapshots, in
    config and metrics): (those in `store`, those not). A 64-hex string without a suffix
    that the store does not hold is a fingerprint or digest, not a key, so it is not
    reported missing."""
    found: set[str] = set()
    for row in db.query("MATCH (r:Run) RETURN properties(r) AS props"):
        for value in row["props"].values():
            for text in _strings(value):
                found.update(match.group(0) for match in KEY.finditer(text))
    present = sorted(key for key in found if store.exists(key))
    missing = sorted(key for key in found - set(present) if len(key) > 64)
    return present, missing


def _recorded_folder(metrics: Any) -> Path | None:
    """The output folder a run's metrics name (`artifacts`, evaluation runs), if any."""
    try:
        folder = json.loads(metrics).get("artifacts") if isinstance(metrics, str) else None
    except (ValueError, AttributeError):
        return None
    return Path(folder) if isinstance(folder, str) else None


def run_folders(db: Database, settings: Settings) -> dict[str, Path]:
    """Run id → its output folder, for the runs that have one on this machine: the folder
    its metrics name, else `KGSTORE_STATE_DIR/runs/<id>` (a persona run's report)."""
    folders = {}
    for row in db.query("MATCH (r:Run) RETURN r.id AS id, r.metrics AS metrics"):
        run_id = row["id"]
        if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id):
            continue
        folder = _recorded_folder(row["metrics"]) or settings.state_dir / "runs" / run_id
        if folder.is_dir():
            folders[run_id] = folder
    return folders


def copy_run_folder(source: Path, target: Path) -> RunFiles:
    """Copy every file under `source` to `target` (same relative paths)."""
    files = {}
    for path in sorted(source.rglob("*")):
        if path.is_file():
            relative = path.relative_to(source).as_posix()
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / relative)
            files[relative] = path.stat().st_size
    return RunFiles(str(source), files)


def restore_run_folder(source: Path, target: Path, files: dict[str, int]) -> tuple[int, int]:
    """Copy the backup's files of one run into `target`, only those it lacks (a file that
    is there is that run's own and stays); returns (copied, kept)."""
    copied = kept = 0
    for relative in files:
        destination = target / relative
        if destination.exists():
            kept += 1
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / relative, destination)
        copied += 1
    return copied, kept


@dataclass(frozen=True)
class CopiedArtifacts:
    copied: int
    present: int
    """Already in the target: the same key is the same bytes, so nothing to write."""
    bytes: int


def copy_artifacts(
    source: ArtifactStore, target: ArtifactStore, keys: list[str]
) -> CopiedArtifacts:
    """Put each of `keys` from `source` into `target` unless it is there, checking first
    that its bytes still hash to its key (a damaged copy is refused, naming the key)."""
    copied = present = size = 0
    for key in keys:
        if target.exists(key):
            present += 1
            continue
        data = source.get(key)
        suffix = key[64:]
        if artifact_key(data, suffix) != key:
            raise BackupError(
                f"artifact {key} in {source.url} is damaged: its bytes do not hash to its "
                "key. The graph was not changed"
            )
        target.put(data, suffix)
        copied += 1
        size += len(data)
    return CopiedArtifacts(copied, present, size)
