"""On-disk cache of raw SPARQL results, keyed by a hash of endpoint and query text.

A rerun, or a resumed ingest, finds every answer it already received here and sends the
endpoint nothing again. Entries are the response bodies exactly as received, written
atomically, so an interrupted run never leaves a half-written entry behind.
"""

import hashlib
import os
import tempfile
from pathlib import Path


def cache_key(endpoint: str, query: str) -> str:
    return hashlib.sha256(f"{endpoint}\n{query}".encode()).hexdigest()


class ResultCache:
    """Raw result bodies under `root/<2 hex>/<sha256>.json`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, endpoint: str, query: str) -> Path:
        key = cache_key(endpoint, query)
        return self.root / key[:2] / f"{key}.json"

    def get(self, endpoint: str, query: str) -> bytes | None:
        try:
            return self._path(endpoint, query).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, endpoint: str, query: str, body: bytes) -> None:
        path = self._path(endpoint, query)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
