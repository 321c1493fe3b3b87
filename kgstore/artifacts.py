"""The artifact store: big files (graph snapshots, checkpoints) keyed by content hash.

KGSTORE_ARTIFACTS is a local directory or any fsspec URL (`s3://bucket/prefix`,
`gcs://…`, `memory://…`), so workers on several machines share one store. Messages
between CLI and workers carry only the key. Writing the same bytes twice is a no-op,
and a key always names the same bytes, so a partially written upload can never be
mistaken for a finished one (uploads go to a temporary name first).
"""

import hashlib
import uuid
from pathlib import PurePosixPath

import fsspec
from fsspec.implementations.local import LocalFileSystem

from kgstore.errors import ArtifactNotFound
from kgstore.settings import Settings


def artifact_key(data: bytes, suffix: str = "") -> str:
    """The key `data` is stored under: its sha256, plus the suffix such as `.pt`."""
    return hashlib.sha256(data).hexdigest() + suffix


class ArtifactStore:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._fs, self._root = fsspec.core.url_to_fs(self.url)

    @classmethod
    def from_settings(cls, settings: Settings) -> "ArtifactStore":
        return cls(settings.kgstore_artifacts)

    def _path(self, key: str) -> str:
        return f"{self._root}/{key[:2]}/{key}"

    def put(self, data: bytes, suffix: str = "") -> str:
        """Store bytes; returns their key (sha256, plus the suffix such as `.pt`)."""
        key = artifact_key(data, suffix)
        path = self._path(key)
        if self._fs.exists(path):
            return key
        self._fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        partial = f"{path}.partial-{uuid.uuid4().hex}"
        with self._fs.open(partial, "wb") as out:
            out.write(data)
        self._fs.mv(partial, path)
        return key

    def get(self, key: str) -> bytes:
        path = self._path(key)
        if not self._fs.exists(path):
            raise ArtifactNotFound(f"artifact {key} is not in KGSTORE_ARTIFACTS={self.url}")
        with self._fs.open(path, "rb") as handle:
            return handle.read()

    def exists(self, key: str) -> bool:
        return self._fs.exists(self._path(key))

    @property
    def local(self) -> bool:
        """Whether the store is a folder on this machine (a backup copies such a store;
        it only names the keys of a shared remote one)."""
        return isinstance(self._fs, LocalFileSystem)

    def keys(self) -> list[str]:
        """Every stored artifact's key, sorted; uploads a crash left half-written (under
        their temporary name) are not artifacts."""
        if not self._fs.exists(self._root):
            return []
        keys = []
        for found in self._fs.find(self._root):
            path = PurePosixPath(found)
            if path.name[:2] == path.parent.name and ".partial-" not in path.name:
                keys.append(path.name)
        return sorted(keys)
