"""The artifact store: big files (graph snapshots, checkpoints) keyed by content hash.

KGSTORE_ARTIFACTS is a local directory or any fsspec URL (`s3://bucket/prefix`,
`gcs://…`, `memory://…`), so workers on several machines share one store. Messages
between CLI and workers carry only the key. Writing the same bytes twice is a no-op,
and a key always names the same bytes, so a partially written upload can never be
mistaken for a finished one (uploads go to a temporary name first).
"""

import hashlib
import uuid

import fsspec

from kgstore.errors import ArtifactNotFound
from kgstore.settings import Settings


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
        key = hashlib.sha256(data).hexdigest() + suffix
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
