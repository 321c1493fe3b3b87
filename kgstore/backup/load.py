"""`kgctl db load IN`: the backup folder back into the managed Neo4j, its artifacts into
the store and its runs' files into the state directory.

Everything that can be known beforehand is checked before Neo4j is stopped or a file is
written: the manifest, the dump's size and sha256, every artifact and run file it lists,
and that the database is empty (or `force`). Artifacts go into the store before the graph
is replaced, so a run the restored graph names can be used as soon as it appears; they
are content-addressed, so a key the store already has is the same bytes and is skipped.
After the load the counts must equal the manifest's, or the load is reported failed.
"""

from dataclasses import dataclass
from pathlib import Path

from kgstore.artifacts import ArtifactStore
from kgstore.backup.contents import (
    CopiedArtifacts,
    copy_artifacts,
    graph_counts,
    restore_run_folder,
    running_runs,
)
from kgstore.backup.dump import Say, quiet
from kgstore.backup.manifest import (
    ARTIFACTS,
    RUNS,
    GraphCounts,
    Manifest,
    describe_dump,
    read_manifest,
)
from kgstore.backup.server import admin_log, managed_neo4j
from kgstore.db import open_database
from kgstore.errors import BackupError
from kgstore.services.neo4j_import import run_offline
from kgstore.settings import Settings
from kgstore.timing import timed

INDEX_WAIT_S = 600
"""How long the load waits for the restored indexes to come online before it counts."""


@dataclass(frozen=True)
class LoadReport:
    source: Path
    manifest: Manifest
    replaced: GraphCounts
    """What the database held before (empty unless --force)."""
    counts: GraphCounts
    """What it holds now: the manifest's counts."""
    artifacts: CopiedArtifacts
    unavailable: list[str]
    """Keys a backup of a remote store names that the current store lacks."""
    run_files: tuple[int, int]
    """Run files (copied, already there)."""
    notes: list[str]
    running_runs: list[str]
    log: Path
    seconds: dict[str, float]


def check_backup(folder: Path) -> Manifest:
    """The backup's manifest, once every file it lists is in `folder` as recorded;
    BackupError naming the first file that is not (nothing is stopped or written)."""
    manifest = read_manifest(folder)
    if manifest.dump.name != f"{manifest.database}.dump":
        raise BackupError(
            f"{folder / 'manifest.json'} names the dump {manifest.dump.name!r}, not "
            f"{manifest.database}.dump. Nothing was changed"
        )
    dump = folder / manifest.dump.name
    if not dump.is_file():
        raise BackupError(f"{dump} is missing: the backup is incomplete. Nothing was changed")
    size = dump.stat().st_size
    if size != manifest.dump.bytes:
        raise BackupError(
            f"{dump} has {size:,} bytes, the manifest records {manifest.dump.bytes:,}: it was "
            "cut short or replaced. Nothing was changed"
        )
    if describe_dump(dump).sha256 != manifest.dump.sha256:
        raise BackupError(
            f"{dump} is damaged: its sha256 is not the one the manifest records. "
            "Nothing was changed"
        )
    if manifest.artifacts.copied:
        store = ArtifactStore(str(folder / ARTIFACTS))
        absent = [key for key in manifest.artifacts.keys if not store.exists(key)]
        if absent:
            raise BackupError(
                f"{len(absent)} of the {len(manifest.artifacts.keys)} artifacts the manifest "
                f"lists are not in {folder / ARTIFACTS}, e.g. "
                f"{folder / ARTIFACTS / absent[0][:2] / absent[0]}. Nothing was changed"
            )
    for run_id, run in manifest.runs.items():
        for relative, expected in run.files.items():
            path = folder / RUNS / run_id / relative
            if not path.is_file() or path.stat().st_size != expected:
                raise BackupError(
                    f"{path} is missing or not the {expected:,} bytes the manifest records. "
                    "Nothing was changed"
                )
    return manifest


def load_database(
    settings: Settings, folder: Path, force: bool = False, say: Say = quiet
) -> LoadReport:
    """Replace the managed Neo4j's database (NEO4J_DATABASE) by the backup in `folder`.
    Neo4j ends as it was found: running, or down (it is started for the checks)."""
    folder = folder.absolute()
    manifest = check_backup(folder)
    name = settings.neo4j_database
    if manifest.database != name:
        raise BackupError(
            f"the backup holds database {manifest.database!r}; NEO4J_DATABASE is {name!r}. "
            "Nothing was changed"
        )
    server = managed_neo4j(settings)
    was_running = server.pid() is not None
    if not was_running:
        say("Neo4j is down: starting it for the load (it is stopped again after)")
        server.start()
    try:
        return _load(settings, folder, manifest, force, say)
    finally:
        if not was_running:
            server.stop()


def _restore_files(
    settings: Settings, folder: Path, manifest: Manifest, say: Say
) -> tuple[CopiedArtifacts, list[str], tuple[int, int], list[str]]:
    """Artifacts into the store, run files into the state directory (only what is
    missing); returns what `LoadReport` says of them."""
    store = ArtifactStore.from_settings(settings)
    keys = manifest.artifacts.keys
    unavailable: list[str] = []
    if manifest.artifacts.copied:
        say(f"putting {len(keys):,} artifacts into {store.url} (those it lacks)")
        copied = copy_artifacts(ArtifactStore(str(folder / ARTIFACTS)), store, keys)
    else:
        copied = CopiedArtifacts(0, 0, 0)
        unavailable = [key for key in keys if not store.exists(key)]
    restored = kept = 0
    notes = []
    for run_id, run in manifest.runs.items():
        target = settings.state_dir / RUNS / run_id
        new, old = restore_run_folder(folder / RUNS / run_id, target, run.files)
        restored, kept = restored + new, kept + old
        if Path(run.path) != target:
            notes.append(f"run {run_id}'s files are restored to {target}; it was in {run.path}")
    return copied, unavailable, (restored, kept), notes


def _load(
    settings: Settings, folder: Path, manifest: Manifest, force: bool, say: Say
) -> LoadReport:
    name = settings.neo4j_database
    with open_database(settings) as db:
        before = graph_counts(db)
        busy = running_runs(db)
    if (before.nodes or before.relationships) and not force:
        raise BackupError(
            f"database {name!r} at NEO4J_URI={settings.neo4j_uri} holds {before.nodes:,} "
            f"nodes and {before.relationships:,} relationships, which the load would "
            "replace: add --force to replace them (`kgctl db dump` keeps them first). "
            "Nothing was changed"
        )
    seconds: dict[str, float] = {}
    with timed(seconds, "files"):
        artifacts, unavailable, run_files, notes = _restore_files(settings, folder, manifest, say)
    log = admin_log(settings, "load")
    say(
        f"stopping Neo4j and loading {manifest.dump.name} ({manifest.counts.nodes:,} nodes, "
        f"{manifest.counts.relationships:,} relationships)"
    )
    result = run_offline(
        settings,
        ["database", "load", name, f"--from-path={folder}", "--overwrite-destination=true"],
        log,
        seconds,
        "neo4j-admin load",
    )
    if result.returncode != 0:
        raise BackupError(
            f"neo4j-admin database load failed (exit {result.returncode}); Neo4j runs again "
            f"with what the tool left of database {name!r}. Its output is in {log}:\n"
            + (result.stderr or result.stdout)[-1500:]
        )
    with timed(seconds, "indexes, counts"), open_database(settings) as db:
        db.query(f"CALL db.awaitIndexes({INDEX_WAIT_S})")
        after = graph_counts(db)
    differences = manifest.counts.differences(after)
    if differences:
        raise BackupError(
            f"the loaded database {name!r} does not hold what the backup's manifest records "
            f"({folder / 'manifest.json'}):\n" + "\n".join(differences)
        )
    return LoadReport(
        folder,
        manifest,
        before,
        after,
        artifacts,
        unavailable,
        run_files,
        notes,
        busy,
        log,
        seconds,
    )
