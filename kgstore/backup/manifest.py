"""`manifest.json`: what a backup folder holds, written last by the dump and checked first
by the load.

The load trusts nothing in it: every key and run id becomes a path, so each must have
the form the dump writes (no `/`, no `..`), and every file it names must be in the
folder with the size (and, for the dump, the sha256) it records.
"""

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from kgstore.errors import BackupError

FORMAT = 1
"""The layout version; a load refuses any other."""
MANIFEST = "manifest.json"
ARTIFACTS = "artifacts"
RUNS = "runs"

KEY = re.compile(r"[0-9a-f]{64}(?:\.[A-Za-z0-9_-]+)*")
"""An artifact key: sha256 hex and the suffix (`.pt`, `.hdgi.pt`, …)."""
RUN_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")
"""A run id that is safe as a folder name (ours are uuid hex or dated names)."""


@dataclass(frozen=True)
class GraphCounts:
    """What the load must find again: nodes, relationships, and both per label and type
    (labels or types without any are left out: Neo4j keeps their names after a delete)."""

    nodes: int
    relationships: int
    labels: dict[str, int]
    relationship_types: dict[str, int]

    def differences(self, other: "GraphCounts") -> list[str]:
        """`what: N in the backup, M now` for each count that differs from `other`'s."""
        pairs = {"nodes": (self.nodes, other.nodes)}
        pairs["relationships"] = (self.relationships, other.relationships)
        for label in sorted(self.labels.keys() | other.labels.keys()):
            pairs[f":{label}"] = (self.labels.get(label, 0), other.labels.get(label, 0))
        for rel in sorted(self.relationship_types.keys() | other.relationship_types.keys()):
            counts = (self.relationship_types.get(rel, 0), other.relationship_types.get(rel, 0))
            pairs[f"[:{rel}]"] = counts
        return [
            f"{what}: {mine:,} in the backup, {theirs:,} now"
            for what, (mine, theirs) in pairs.items()
            if mine != theirs
        ]


@dataclass(frozen=True)
class DumpFile:
    name: str
    bytes: int
    sha256: str


def describe_dump(path: Path) -> DumpFile:
    """The dump file's name, size and sha256 (read once more: seconds per GB)."""
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return DumpFile(path.name, path.stat().st_size, digest)


@dataclass(frozen=True)
class Artifacts:
    """The artifact store at dump time. `copied`: its files are in `artifacts/` (`keys`
    are all of them); otherwise `keys` names, without copying, those the graph's runs
    reference that the store held."""

    store: str
    copied: bool
    keys: list[str]
    bytes: int
    missing: list[str] = field(default_factory=list)
    """Keys the graph's runs reference that were not in the store when dumped."""


@dataclass(frozen=True)
class RunFiles:
    """One run's output folder: where it was (the graph's runs may name this path) and
    its files (path relative to the folder, in `/` form → bytes)."""

    path: str
    files: dict[str, int]


@dataclass(frozen=True)
class Manifest:
    format: int
    kgstore_version: str
    neo4j_version: str
    database: str
    created_at: str
    dump: DumpFile
    counts: GraphCounts
    artifacts: Artifacts
    runs: dict[str, RunFiles]


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    path = folder / MANIFEST
    path.write_text(json.dumps(asdict(manifest), indent=2, sort_keys=True) + "\n")
    return path


T = TypeVar("T")


def _get(data: Any, name: str, kind: type[T]) -> T:
    """`data[name]`, which must be a `kind` (a bool is no int here)."""
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{name!r} is missing or not a JSON {kind.__name__}")
    return value


def _ints(data: Any, name: str) -> dict[str, int]:
    values = _get(data, name, dict)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values.values()):
        raise ValueError(f"{name!r} holds a count that is not an integer")
    return values


def _keys(data: Any, name: str) -> list[str]:
    keys = _get(data, name, list)
    bad = [key for key in keys if not isinstance(key, str) or not KEY.fullmatch(key)]
    if bad:
        raise ValueError(f"{name!r} holds {len(bad)} malformed artifact key(s), e.g. {bad[0]!r}")
    return keys


def _relative(path: str) -> str:
    """A file path inside a run folder: relative, without `..`."""
    parts = PurePosixPath(path).parts
    if not parts or path.startswith("/") or ".." in parts or "\\" in path:
        raise ValueError(f"run file {path!r} is not a path inside its run folder")
    return path


def _runs(data: Any) -> dict[str, RunFiles]:
    runs = {}
    for run_id, entry in _get(data, "runs", dict).items():
        if not RUN_ID.fullmatch(run_id):
            raise ValueError(f"run id {run_id!r} is not a folder name")
        files = _ints(entry, "files")
        runs[run_id] = RunFiles(
            _get(entry, "path", str), {_relative(f): n for f, n in files.items()}
        )
    return runs


def parse_manifest(data: Any) -> Manifest:
    """The manifest in `data` (parsed JSON); ValueError naming the first bad field."""
    if _get(data, "format", int) != FORMAT:
        raise ValueError(f"format {data['format']} is not {FORMAT}, the one this kgctl reads")
    dump, counts, artifacts = (_get(data, name, dict) for name in ("dump", "counts", "artifacts"))
    return Manifest(
        format=FORMAT,
        kgstore_version=_get(data, "kgstore_version", str),
        neo4j_version=_get(data, "neo4j_version", str),
        database=_get(data, "database", str),
        created_at=_get(data, "created_at", str),
        dump=DumpFile(_get(dump, "name", str), _get(dump, "bytes", int), _get(dump, "sha256", str)),
        counts=GraphCounts(
            _get(counts, "nodes", int),
            _get(counts, "relationships", int),
            _ints(counts, "labels"),
            _ints(counts, "relationship_types"),
        ),
        artifacts=Artifacts(
            _get(artifacts, "store", str),
            _get(artifacts, "copied", bool),
            _keys(artifacts, "keys"),
            _get(artifacts, "bytes", int),
            _keys(artifacts, "missing"),
        ),
        runs=_runs(data),
    )


def read_manifest(folder: Path) -> Manifest:
    """The folder's manifest; BackupError naming the file when it is missing, not JSON or
    not a manifest of this format."""
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BackupError(f"{folder} is not a folder; a backup is the folder `kgctl db dump` wrote")
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise BackupError(
            f"{path} is missing: {folder} is not a finished backup (a dump writes its "
            "manifest last). Nothing was changed"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BackupError(f"{path} cannot be read ({exc}). Nothing was changed") from None
    try:
        return parse_manifest(json.loads(text))
    except ValueError as exc:  # json.JSONDecodeError is one
        raise BackupError(
            f"{path} is not a valid backup manifest: {exc}. Nothing was changed"
        ) from None
