"""Text vectors as artifacts beside the graph: what `kgctl embed` wrote, readable without
Neo4j shipping 384 doubles per node.

Every range `kgctl embed` encodes is also stored in the artifact store as one chunk (node
keys, their `textEmbeddingHash`es, the float32 vectors), and the chunk's key is added to
the embed run's `vectorArtifacts` in the same transaction that writes the vectors to the
nodes. The graph stays the truth: the export takes a node's vector from a chunk only when
the node names that run (`textEmbeddingRun`) and its hash equals the chunk's
(`kgstore.export.vectors`). The float32 values are exactly what the graph holds (a double
made from a float32 casts back to the same float32).

A chunk is a JSON header line (format, keys, hashes, dimension) and the raw little-endian
float32 rows: no pickle, and the same vectors give the same bytes, hence the same key.
"""

import json
from dataclasses import dataclass

import numpy as np

from kgstore.artifacts import ArtifactStore

SUFFIX = ".vectors"
FORMAT_VERSION = 1
_DTYPE = np.dtype("<f4")


@dataclass(frozen=True)
class VectorChunk:
    keys: list[str]
    hashes: list[str]
    vectors: np.ndarray
    """float32 [len(keys), dimension]."""

    def to_bytes(self) -> bytes:
        header = {
            "format": FORMAT_VERSION,
            "dimension": int(self.vectors.shape[1]),
            "keys": self.keys,
            "hashes": self.hashes,
        }
        body = np.ascontiguousarray(self.vectors, dtype=_DTYPE).tobytes()
        return json.dumps(header, separators=(",", ":")).encode() + b"\n" + body

    @classmethod
    def from_bytes(cls, data: bytes) -> "VectorChunk":
        line, _, body = data.partition(b"\n")
        header = json.loads(line)
        if header.get("format") != FORMAT_VERSION:
            raise ValueError(f"vector chunk format {header.get('format')} is not {FORMAT_VERSION}")
        vectors = np.frombuffer(body, dtype=_DTYPE).reshape(
            len(header["keys"]), header["dimension"]
        )
        return cls(header["keys"], header["hashes"], vectors.astype(np.float32))


def put_chunk(store: ArtifactStore, chunk: VectorChunk) -> str:
    return store.put(chunk.to_bytes(), SUFFIX)


def get_chunk(store: ArtifactStore, key: str) -> VectorChunk:
    return VectorChunk.from_bytes(store.get(key))
