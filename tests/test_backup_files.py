"""The backup folder without Neo4j: a load checks the manifest, the dump and every file the
manifest lists before anything is stopped, naming the first file that is wrong; a dump
replaces only an earlier backup. (The dump and load themselves: test_db_backup.py.)"""

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from kgstore.artifacts import ArtifactStore
from kgstore.backup.contents import copy_artifacts
from kgstore.backup.dump import check_destination
from kgstore.backup.load import check_backup
from kgstore.backup.manifest import (
    FORMAT,
    Artifacts,
    GraphCounts,
    Manifest,
    RunFiles,
    describe_dump,
    read_manifest,
    write_manifest,
)
from kgstore.errors import BackupError

COUNTS = GraphCounts(3, 2, {"User": 1, "Item": 2}, {"RATED": 2})


def fake_backup(folder: Path) -> Manifest:
    """A backup folder as the dump writes it, with a made-up dump file."""
    folder.mkdir()
    (folder / "neo4j.dump").write_bytes(b"dump bytes " * 100)
    store = ArtifactStore(str(folder / "artifacts"))
    keys = sorted([store.put(b"checkpoint", ".hdgi.pt"), store.put(b"snapshot", ".snapshot.pt")])
    (folder / "runs" / "run1" / "sub").mkdir(parents=True)
    (folder / "runs" / "run1" / "table3.md").write_text("| a |")
    (folder / "runs" / "run1" / "sub" / "ranks.npz").write_bytes(b"ranks")
    manifest = Manifest(
        format=FORMAT,
        kgstore_version="0.1.0",
        neo4j_version="5.26.0 community",
        database="neo4j",
        created_at="2026-01-01T00:00:00+00:00",
        dump=describe_dump(folder / "neo4j.dump"),
        counts=COUNTS,
        artifacts=Artifacts("/somewhere/artifacts", True, keys, 18),
        runs={"run1": RunFiles("/state/runs/run1", {"table3.md": 5, "sub/ranks.npz": 5})},
    )
    write_manifest(folder, manifest)
    return manifest


def test_a_complete_backup_passes_and_its_manifest_reads_back(tmp_path: Path) -> None:
    manifest = fake_backup(tmp_path / "backup")
    assert check_backup(tmp_path / "backup") == manifest
    assert read_manifest(tmp_path / "backup") == manifest


def _edit_manifest(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        data = json.loads((folder / "manifest.json").read_text())
        change(data)
        (folder / "manifest.json").write_text(json.dumps(data))

    return edit


def _first_artifact(folder: Path) -> Path:
    return next(path for path in (folder / "artifacts").rglob("*") if path.is_file())


DAMAGE: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "no manifest": (
        lambda f: (f / "manifest.json").unlink(),
        "manifest.json",
        "is missing: .* is not a finished backup",
    ),
    "manifest not JSON": (
        lambda f: (f / "manifest.json").write_text("{cut"),
        "manifest.json",
        "is not a valid backup manifest",
    ),
    "manifest lacks counts": (
        _edit_manifest(lambda d: d.pop("counts")),
        "manifest.json",
        "'counts' is missing",
    ),
    "other format": (
        _edit_manifest(lambda d: d.update(format=99)),
        "manifest.json",
        "format 99",
    ),
    "key with a path": (
        _edit_manifest(lambda d: d["artifacts"]["keys"].append("../../etc/passwd")),
        "manifest.json",
        "malformed artifact key",
    ),
    "run file outside its folder": (
        _edit_manifest(lambda d: d["runs"]["run1"]["files"].update({"../../x": 1})),
        "manifest.json",
        "not a path inside its run folder",
    ),
    "no dump": (lambda f: (f / "neo4j.dump").unlink(), "neo4j.dump", "is missing"),
    "cut dump": (
        lambda f: (f / "neo4j.dump").write_bytes(b"dump bytes"),
        "neo4j.dump",
        "has 10 bytes, the manifest records 1,100",
    ),
    "damaged dump": (
        lambda f: (f / "neo4j.dump").write_bytes(b"DUMP BYTES " * 100),
        "neo4j.dump",
        "is damaged",
    ),
    "missing artifact": (
        lambda f: _first_artifact(f).unlink(),
        "artifacts",
        "1 of the 2 artifacts the manifest lists are not in",
    ),
    "missing run file": (
        lambda f: (f / "runs" / "run1" / "sub" / "ranks.npz").unlink(),
        "ranks.npz",
        "is missing or not the 5 bytes",
    ),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_backup_is_refused_naming_the_file(tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "backup"
    fake_backup(folder)
    apply, file, message = DAMAGE[damage]
    apply(folder)
    with pytest.raises(BackupError, match=message) as refused:
        check_backup(folder)
    assert file in str(refused.value) and str(folder) in str(refused.value)
    assert "Nothing was changed" in str(refused.value)


def test_a_damaged_artifact_is_not_put_into_the_store(tmp_path: Path) -> None:
    folder = tmp_path / "backup"
    manifest = fake_backup(folder)
    _first_artifact(folder).write_bytes(b"other bytes")
    target = ArtifactStore(str(tmp_path / "store"))
    with pytest.raises(BackupError, match="damaged"):
        copy_artifacts(ArtifactStore(str(folder / "artifacts")), target, manifest.artifacts.keys)
    assert len(target.keys()) <= 1  # the good one may be in; the damaged one never
    assert not set(target.keys()) - set(manifest.artifacts.keys)


def test_a_dump_replaces_only_an_earlier_backup(tmp_path: Path) -> None:
    check_destination(tmp_path / "new", force=False)
    fake_backup(tmp_path / "old")
    with pytest.raises(BackupError, match="exists; add --force"):
        check_destination(tmp_path / "old", force=False)
    check_destination(tmp_path / "old", force=True)
    (tmp_path / "empty").mkdir()
    check_destination(tmp_path / "empty", force=True)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("years of work")
    with pytest.raises(BackupError, match="not a kgctl backup"):
        check_destination(tmp_path / "mine", force=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(BackupError, match="not a kgctl backup"):
        check_destination(tmp_path / "file", force=True)
