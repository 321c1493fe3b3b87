"""`kgctl db dump OUT`: the database (neo4j-admin dump), the artifacts and the runs' files
into one folder, with a manifest to check them against.

Everything is written into `OUT.partial-<random>` beside OUT and renamed to OUT at the
end, so an interrupted dump never leaves a folder that looks finished (and a partial
folder is removed when the dump fails in this process). Neo4j is stopped only for the
neo4j-admin step and started again if it was running; one that was down stays down
(it is started briefly first, to read the counts the load checks against).
"""

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kgstore import __version__
from kgstore.artifacts import ArtifactStore
from kgstore.backup.contents import (
    copy_artifacts,
    copy_run_folder,
    graph_counts,
    neo4j_version,
    referenced_keys,
    run_folders,
    running_runs,
)
from kgstore.backup.manifest import (
    ARTIFACTS,
    FORMAT,
    MANIFEST,
    RUNS,
    Artifacts,
    GraphCounts,
    Manifest,
    RunFiles,
    describe_dump,
    write_manifest,
)
from kgstore.backup.server import admin_log, database_folder, managed_neo4j
from kgstore.db import open_database
from kgstore.errors import BackupError
from kgstore.services.neo4j_import import run_offline
from kgstore.settings import Settings
from kgstore.timing import timed

Say = Callable[[str], None]
"""Where a backup says what it is doing (the CLI prints it; a library caller may not)."""


def quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class DumpReport:
    out: Path
    manifest: Manifest
    restarted: bool
    """Neo4j ran before the dump and runs again; False: it was down and stays down."""
    running_runs: list[str]
    """Runs recorded as running when Neo4j was stopped (they lost it for a while)."""
    log: Path
    seconds: dict[str, float]


def check_destination(out: Path, force: bool) -> None:
    """Refuse an existing OUT unless `force`, and even then anything but an earlier
    backup or an empty folder (a mistyped path must not be deleted)."""
    if not out.exists() and not out.is_symlink():
        return
    if not force:
        raise BackupError(f"{out} exists; add --force to replace it. Nothing was dumped")
    if (
        not out.is_dir()
        or out.is_symlink()
        or (any(out.iterdir()) and not (out / MANIFEST).is_file())
    ):
        raise BackupError(
            f"{out} exists and is not a kgctl backup (no {MANIFEST}); --force only replaces "
            "an earlier backup or an empty folder. Nothing was dumped"
        )


def _replace(partial: Path, out: Path) -> None:
    """Move the finished `partial` to `out`; an old backup there goes only once the new
    one is in place (a crash in between leaves both, under names that say which)."""
    old = None
    if out.exists():
        old = out.with_name(f"{out.name}.old-{uuid.uuid4().hex[:8]}")
        out.rename(old)
    partial.rename(out)
    if old is not None:
        shutil.rmtree(old)


@dataclass(frozen=True)
class _Survey:
    """What the running database says before the dump."""

    counts: GraphCounts
    version: str
    running_runs: list[str]
    referenced: list[str]
    missing: list[str]
    folders: dict[str, Path]


def _survey(settings: Settings, store: ArtifactStore) -> _Survey:
    with open_database(settings) as db:
        referenced, missing = referenced_keys(db, store)
        return _Survey(
            graph_counts(db),
            neo4j_version(db),
            running_runs(db),
            referenced,
            missing,
            run_folders(db, settings),
        )


def _store_name(store: ArtifactStore) -> str:
    """The store as the manifest records it: a local folder as an absolute path."""
    return str(Path(store.url).absolute()) if "://" not in store.url else store.url


def _copy_files(
    partial: Path, store: ArtifactStore, survey: _Survey, say: Say
) -> tuple[Artifacts, dict[str, RunFiles]]:
    """Artifacts (a local store's every file; a remote store's keys only) and run
    folders into the partial backup."""
    if store.local:
        keys = store.keys()
        say(f"copying {len(keys):,} artifacts from {store.url}")
        copied = copy_artifacts(store, ArtifactStore(str(partial / ARTIFACTS)), keys)
        artifacts = Artifacts(_store_name(store), True, keys, copied.bytes, survey.missing)
    else:
        artifacts = Artifacts(store.url, False, survey.referenced, 0, survey.missing)
    runs = {
        run_id: copy_run_folder(folder, partial / RUNS / run_id)
        for run_id, folder in survey.folders.items()
    }
    return artifacts, runs


def dump_database(
    settings: Settings, out: Path, force: bool = False, say: Say = quiet
) -> DumpReport:
    """Write the backup folder `out` of the managed Neo4j's database (NEO4J_DATABASE),
    the artifact store (copied when local, named when remote) and the runs' folders."""
    out = out.absolute()
    check_destination(out, force)
    server = managed_neo4j(settings)
    name = settings.neo4j_database
    was_running = server.pid() is not None
    if not was_running:
        if not database_folder(settings).is_dir():
            raise BackupError(
                f"there is no database {name!r} to dump in {database_folder(settings).parent} "
                "(`kgctl services up` creates it)"
            )
        say("Neo4j is down: starting it to read the counts (it is stopped again after)")
        server.start()
    store = ArtifactStore.from_settings(settings)
    partial = out.with_name(f"{out.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        survey = _survey(settings, store)
        try:
            partial.mkdir(parents=True)
        except OSError as exc:
            raise BackupError(f"cannot create {partial} ({exc}). Nothing was dumped") from None
    except BaseException:
        if not was_running:
            server.stop()
        raise
    seconds: dict[str, float] = {}
    log = admin_log(settings, "dump")
    try:
        say(
            f"stopping Neo4j and dumping database {name!r} ({survey.counts.nodes:,} nodes, "
            f"{survey.counts.relationships:,} relationships)"
        )
        result = run_offline(
            settings,
            ["database", "dump", name, f"--to-path={partial}"],
            log,
            seconds,
            "neo4j-admin dump",
            restart=was_running,
        )
        dump_path = partial / f"{name}.dump"
        if result.returncode != 0 or not dump_path.is_file():
            raise BackupError(
                f"neo4j-admin database dump failed (exit {result.returncode}); its output is "
                f"in {log}:\n" + (result.stderr or result.stdout)[-1500:]
            )
        with timed(seconds, "checksum"):
            dump = describe_dump(dump_path)
        with timed(seconds, "files"):
            artifacts, runs = _copy_files(partial, store, survey, say)
        manifest = Manifest(
            format=FORMAT,
            kgstore_version=__version__,
            neo4j_version=survey.version,
            database=name,
            created_at=datetime.now(UTC).isoformat(),
            dump=dump,
            counts=survey.counts,
            artifacts=artifacts,
            runs=runs,
        )
        write_manifest(partial, manifest)
        _replace(partial, out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return DumpReport(out, manifest, was_running, survey.running_runs, log, seconds)
