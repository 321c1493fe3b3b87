"""`kgctl embed items|entities`: read node texts from Neo4j, encode the ones that changed,
write the vectors back as `textEmbedding` with a cosine vector index.

Every node gets a text (`kgstore.embeddings.texts`: an item's `llmDescription`, else its
title and description, else its uri's readable name, else its KG facts, else a labelled
placeholder; an entity's name, else its uri's readable name), and where it came from is
written beside the vector as `textSource` and counted per source in the report. Texts are
read in dense-`idx` ranges as columns (one record per range, not per node); while a range
is encoded, the next one is read and the previous one written, so Neo4j's I/O overlaps the
encoder (the CPU-bound part). A node is re-encoded only when its text or the model
changed: `textEmbeddingHash` holds a hash of both (so a new `llmDescription`, or a title
that replaces a uri's name, re-encodes its item); a node whose text is unchanged but whose
recorded source differs (a graph embedded before sources were recorded) only gets its
`textSource` written. Every vector carries the model (`textEmbeddingModel`) and the run
that wrote it (`textEmbeddingRun`); each encoded range is also kept in the artifact store
as a vector chunk named by the run (`vector_artifacts`), which the export reads instead of
shipping the vectors out of Neo4j again.
"""

import hashlib
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from enum import StrEnum

import numpy as np

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database, open_database
from kgstore.device import resolve_device
from kgstore.embeddings.base import Embedder
from kgstore.embeddings.texts import (
    ItemFields,
    TextSource,
    entity_text,
    item_text,
    needs_facts,
)
from kgstore.embeddings.vector_artifacts import VectorChunk, put_chunk
from kgstore.generation.facts import read_item_facts
from kgstore.graph.dense_idx import assign_dense_indices
from kgstore.graph.mapping import Domain, cypher_label
from kgstore.graph.runs import RunKind, record_run_end, record_run_error, record_run_start
from kgstore.graph.vector_index import drop_other_vector_index, ensure_vector_index
from kgstore.ingest.write.pipeline import WritePipeline
from kgstore.settings import Settings

DEFAULT_CHUNK = 4_096
Progress = Callable[[int, int], None]
"""Called with (nodes handled, nodes in all) after every range."""


class EmbedTarget(StrEnum):
    ITEMS = "items"
    ENTITIES = "entities"

    @property
    def label(self) -> str:
        return "Item" if self is EmbedTarget.ITEMS else "Entity"

    @property
    def cypher(self) -> str:
        """The label as it enters a query, checked by the mapping table."""
        return cypher_label(self.label)

    @property
    def key(self) -> str:
        return "id" if self is EmbedTarget.ITEMS else "uri"

    @property
    def index_name(self) -> str:
        return f"{self.label.lower()}_text_embedding"


SOURCE_PROPERTY = "textSource"
DOMAIN_LABELS = [domain.label for domain in Domain]


@dataclass(frozen=True)
class Row:
    key: str
    text: str
    source: TextSource
    stored_hash: str | None
    stored_source: str | None


@dataclass(frozen=True)
class EmbedReport:
    run: str
    target: str
    model: str
    dimension: int
    nodes: int
    encoded: int
    unchanged: int
    seconds: float
    sources: dict[str, int] = field(default_factory=dict)
    """Nodes per `TextSource`: what the vectors were made from."""

    @property
    def texts_per_second(self) -> float:
        return self.encoded / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "textsPerSecond": round(self.texts_per_second, 1)}


def text_hash(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()[:24]


def _read_items(db: Database, low: int, high: int) -> list[Row]:
    # n[$key]: a graph without generated descriptions or recorded sources has no such
    # key, and Neo4j warns about a literal unknown key in every query (not a parameter).
    [result] = db.query(
        "MATCH (n:Item) WHERE n.idx >= $low AND n.idx < $high "
        "RETURN collect([n.id, [l IN labels(n) WHERE l IN $domains][0], n[$generated], "
        "n[$generatedModel], n.title, n[$titleSource], n.description, n.uri, "
        "n.textEmbeddingHash, n[$source]]) AS rows",
        low=low,
        high=high,
        domains=DOMAIN_LABELS,
        generated="llmDescription",
        generatedModel="llmDescriptionModel",
        titleSource="titleSource",
        source=SOURCE_PROPERTY,
    )
    items = [(ItemFields(*values[:8]), values[8], values[9]) for values in result["rows"]]
    bare = [fields.id for fields, _, _ in items if needs_facts(fields)]
    facts = read_item_facts(db, bare) if bare else {}
    return [
        Row(fields.id, *item_text(fields, facts.get(fields.id)), stored, source)
        for fields, stored, source in items
    ]


def _read_entities(db: Database, low: int, high: int) -> list[Row]:
    [result] = db.query(
        "MATCH (n:Entity) WHERE n.idx >= $low AND n.idx < $high "
        "RETURN collect([n.uri, n.name, n.textEmbeddingHash, n[$source]]) AS rows",
        low=low,
        high=high,
        source=SOURCE_PROPERTY,
    )
    return [
        Row(uri, *entity_text(name, uri), stored, source)
        for uri, name, stored, source in result["rows"]
    ]


def _read_range(db: Database, target: EmbedTarget, low: int, high: int) -> list[Row]:
    """Each node of the idx range with its text, its source and what is stored."""
    read = _read_items if target is EmbedTarget.ITEMS else _read_entities
    return read(db, low, high)


def _read_ahead(
    db: Database, target: EmbedTarget, starts: list[int], chunk: int
) -> Iterator[list[Row]]:
    """The rows of each idx range; the next range is read while the caller encodes."""
    with ThreadPoolExecutor(1, thread_name_prefix="embed-reader") as reader:
        pending = [reader.submit(_read_range, db, target, low, low + chunk) for low in starts[:1]]
        for following in [*starts[1:], None]:
            rows = pending.pop().result()
            if following is not None:
                pending.append(reader.submit(_read_range, db, target, following, following + chunk))
            yield rows


def _write(
    db: Database,
    target: EmbedTarget,
    model: str,
    run_id: str,
    rows: list[dict[str, object]],
    chunk: str | None,
) -> None:
    """The vectors onto their nodes and, in the same transaction, the key of the artifact
    chunk holding them onto the run: a chunk is named by its run only once its vectors are
    in the graph."""
    db.query(
        f"UNWIND $rows AS row MATCH (n:{target.cypher} {{{target.key}: row.key}}) "
        "SET n.textEmbedding = row.vector, n.textEmbeddingHash = row.hash, "
        "n.textEmbeddingModel = $model, n.textEmbeddingRun = $run, n.textSource = row.source "
        "WITH count(*) AS written MATCH (r:Run {id: $run}) "
        "SET r.vectorArtifacts = coalesce(r.vectorArtifacts, []) + $chunks",
        rows=rows,
        model=model,
        run=run_id,
        chunks=[chunk] if chunk else [],
    )


def _store_and_write(
    db: Database,
    store: ArtifactStore | None,
    target: EmbedTarget,
    model: str,
    run_id: str,
    rows: list[dict[str, object]],
    vectors: np.ndarray,
) -> None:
    chunk = None
    if store is not None:
        keys = [str(row["key"]) for row in rows]
        hashes = [str(row["hash"]) for row in rows]
        chunk = put_chunk(store, VectorChunk(keys, hashes, np.asarray(vectors, np.float32)))
    _write(db, target, model, run_id, rows, chunk)


def _write_sources(db: Database, target: EmbedTarget, rows: list[dict[str, object]]) -> None:
    db.query(
        f"UNWIND $rows AS row MATCH (n:{target.cypher} {{{target.key}: row.key}}) "
        "SET n.textSource = row.source",
        rows=rows,
    )


def embed_nodes(
    db: Database,
    embedder: Embedder,
    target: EmbedTarget,
    chunk: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
    store: ArtifactStore | None = None,
) -> EmbedReport:
    """Encode every node of `target` whose text or model changed; see the module doc.
    With a `store`, every encoded range is also kept there as a vector chunk
    (`kgstore.embeddings.vector_artifacts`) for the export to read."""
    run_id = uuid.uuid4().hex
    model = embedder.model_name
    config = {"target": target.value, "model": model, "chunk": chunk}
    record_run_start(db, run_id, RunKind.EMBED, config)
    started = time.perf_counter()
    counts = {"nodes": 0, "encoded": 0, "unchanged": 0}
    sources: Counter[str] = Counter()
    writes = WritePipeline()
    try:
        drop_other_vector_index(db, target.index_name, embedder.dimension)
        # Ranges are read by idx: number any node an interrupted ingest left without one.
        assign_dense_indices(db, [target.label])
        [bounds] = db.query(f"MATCH (n:{target.cypher}) RETURN max(n.idx) AS top, count(n) AS n")
        starts = list(range(0, (bounds["top"] if bounds["top"] is not None else -1) + 1, chunk))
        for rows in _read_ahead(db, target, starts, chunk):
            sources.update(row.source.value for row in rows)
            _encode_range(db, embedder, target, run_id, rows, counts, writes, store)
            if progress is not None:
                progress(counts["nodes"], bounds["n"])
        writes.drain()
        ensure_vector_index(
            db, target.index_name, target.label, "textEmbedding", embedder.dimension
        )
    except BaseException as exc:
        writes.abandon(exc)
        record_run_error(db, run_id, exc, counts)
        raise
    report = EmbedReport(
        run_id,
        target.value,
        model,
        embedder.dimension,
        seconds=time.perf_counter() - started,
        sources=dict(sources),
        **counts,
    )
    record_run_end(db, run_id, "finished", report.as_dict())
    return report


def _encode_range(
    db: Database,
    embedder: Embedder,
    target: EmbedTarget,
    run_id: str,
    rows: list[Row],
    counts: dict[str, int],
    writes: WritePipeline,
    store: ArtifactStore | None,
) -> None:
    model = embedder.model_name
    todo: list[Row] = []
    relabelled: list[dict[str, object]] = []
    for row in rows:
        if row.stored_hash != text_hash(model, row.text):
            todo.append(row)
        elif row.stored_source != row.source:
            relabelled.append({"key": row.key, "source": row.source.value})
    counts["unchanged"] += len(rows) - len(todo)
    counts["nodes"] += len(rows)
    if relabelled:
        writes.submit(lambda: _write_sources(db, target, relabelled))
    if not todo:
        return
    vectors = embedder.embed([row.text for row in todo])
    updates: list[dict[str, object]] = [
        {
            "key": row.key,
            "vector": vector.tolist(),
            "hash": text_hash(model, row.text),
            "source": row.source.value,
        }
        for row, vector in zip(todo, vectors, strict=True)
    ]
    counts["encoded"] += len(todo)
    writes.submit(lambda: _store_and_write(db, store, target, model, run_id, updates, vectors))


def embed_from_settings(
    settings: Settings,
    target: EmbedTarget,
    model: str,
    chunk: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
) -> EmbedReport:
    """What the Celery task and `--local` both run: the configured database, the model
    on KGSTORE_DEVICE (CUDA when present), then `embed_nodes`."""
    from kgstore.embeddings.sentence_transformers import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(model, device=resolve_device(settings))
    store = ArtifactStore.from_settings(settings)
    with open_database(settings) as db:
        return embed_nodes(db, embedder, target, chunk, progress, store)
