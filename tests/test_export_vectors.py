"""The export's text vectors: read from the chunks `kgctl embed` keeps in the artifact
store where the graph names them, from the graph where it does not, and always equal to
what the graph holds — on a graph embedded by two runs, with a vector written by hand,
a chunk gone from the store, and vectors rewritten behind the runs' backs."""

from pathlib import Path

import numpy as np
import pytest

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.demo.ingest import ingest_scale
from kgstore.demo.scale import ScaleShape
from kgstore.embeddings.pipeline import EmbedTarget, embed_nodes
from kgstore.embeddings.sentence_transformers import SentenceTransformerEmbedder
from kgstore.embeddings.vector_artifacts import VectorChunk, get_chunk, put_chunk
from kgstore.export.reader import export_snapshot
from kgstore.export.snapshot import GraphSnapshot
from kgstore.graph.mapping import Domain
from kgstore.ingest.session import IngestOptions

SHAPE = ScaleShape(users=120, items=90, interactions=900, triples=400, seed=5)


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


@pytest.fixture
def embedded(
    empty_graph: Database,
    ingest_options: IngestOptions,
    embedder: SentenceTransformerEmbedder,
    tmp_path: Path,
) -> tuple[Database, ArtifactStore]:
    """A small Books graph embedded with chunks kept, then three retitled items embedded
    again by a second run."""
    store = ArtifactStore(str(tmp_path / "artifacts"))
    ingest_scale(empty_graph, SHAPE, ingest_options)
    for target in EmbedTarget:
        embed_nodes(empty_graph, embedder, target, chunk=32, store=store)
    empty_graph.query(
        "MATCH (i:Item:Book) WITH i ORDER BY i.idx LIMIT 3 SET i.title = 'Retitled ' + i.id"
    )
    again = embed_nodes(empty_graph, embedder, EmbedTarget.ITEMS, chunk=32, store=store)
    assert again.encoded == 3
    return empty_graph, store


def same_as_the_graph(db: Database, store: ArtifactStore) -> GraphSnapshot:
    """The export with the store, checked byte for byte against the one read from the
    graph alone."""
    snapshot = export_snapshot(db, Domain.BOOKS, store=store)
    assert snapshot.to_bytes() == export_snapshot(db, Domain.BOOKS).to_bytes()
    return snapshot


def test_vector_chunk_round_trip_keeps_float32_bits_and_names_the_same_bytes(
    tmp_path: Path,
) -> None:
    store = ArtifactStore(str(tmp_path))
    vectors = np.random.default_rng(1).standard_normal((5, 7)).astype(np.float32)
    chunk = VectorChunk([f"k{n}" for n in range(5)], [f"h{n}" for n in range(5)], vectors)
    key = put_chunk(store, chunk)
    back = get_chunk(store, key)
    assert (back.keys, back.hashes) == (chunk.keys, chunk.hashes)
    assert back.vectors.dtype == np.float32 and np.array_equal(back.vectors, vectors)
    assert put_chunk(store, VectorChunk(chunk.keys, chunk.hashes, vectors.copy())) == key


def test_export_takes_vectors_from_both_runs_chunks_and_the_rest_from_the_graph(
    embedded: tuple[Database, ArtifactStore],
) -> None:
    db, store = embedded
    # A vector written by hand, as the README asks: without the run that no longer made it.
    db.query(
        "MATCH (i:Item:Book) WITH i ORDER BY i.idx DESC LIMIT 1 "
        "SET i.textEmbedding = [x IN i.textEmbedding | x / 2] REMOVE i.textEmbeddingRun"
    )
    snapshot = same_as_the_graph(db, store)
    items, entities = snapshot.vector_sources["items"], snapshot.vector_sources["entities"]
    assert (items["fromArtifacts"], items["fromGraph"]) == (SHAPE.items - 1, 1)
    assert items["checkedAgainstGraph"] > 0 and items["mismatched"] == 0
    assert entities["fromGraph"] == 0 and entities["fromArtifacts"] == len(snapshot.entities)

    # A chunk lost from the store: its nodes come from the graph, the rest still from chunks.
    runs = db.query("MATCH (r:Run) WHERE r.vectorArtifacts <> [] RETURN r.vectorArtifacts AS k")
    lost = runs[0]["k"][0]
    Path(store.url, lost[:2], lost).unlink()
    snapshot = same_as_the_graph(db, store)
    items, entities = snapshot.vector_sources["items"], snapshot.vector_sources["entities"]
    assert 0 < items["fromGraph"] + entities["fromGraph"] < SHAPE.items + len(snapshot.entities)


def test_vectors_rewritten_behind_the_runs_backs_are_read_from_the_graph(
    embedded: tuple[Database, ArtifactStore],
) -> None:
    db, store = embedded
    db.query("MATCH (i:Item:Book) SET i.textEmbedding = [x IN i.textEmbedding | -x]")
    snapshot = same_as_the_graph(db, store)
    items = snapshot.vector_sources["items"]
    assert items["mismatched"] == 1
    assert (items["fromArtifacts"], items["fromGraph"]) == (0, SHAPE.items)
