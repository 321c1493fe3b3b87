"""Text embeddings with the real all-MiniLM-L6-v2 weights: vectors written back to Neo4j
with their model and run, a cosine vector index, re-encoding only what changed, the
Celery worker path of `kgctl embed`, and a model that cannot be loaded."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kgstore.db import Database
from kgstore.embeddings.pipeline import EmbedTarget, embed_nodes
from kgstore.embeddings.sentence_transformers import DEFAULT_MODEL, SentenceTransformerEmbedder
from kgstore.graph.dense_idx import assign_dense_indices
from kgstore.graph.mapping import BY_TYPE
from kgstore.ingest.graph_writer import GraphWriter
from kgstore.ingest.writer import Provenance
from kgstore.settings import Settings
from tests.ingest_checks import count, run_kgctl

DBR = "http://dbpedia.org/resource/"
FILMS = {
    "jaws": {"title": "Jaws", "description": "A great white shark attacks a beach town."},
    "deep-blue": {"title": "Deep Blue Sea", "description": "Sharks hunt scientists at sea."},
    "tax": {"title": "Quarterly Tax Filing", "description": "Forms and deadlines for firms."},
    "bare": {},
}


@pytest.fixture(scope="module")
def embedder() -> Iterator[SentenceTransformerEmbedder]:
    yield SentenceTransformerEmbedder()


def small_graph(db: Database) -> None:
    with GraphWriter(db, Provenance("tests", "films")) as writer:
        for item, props in FILMS.items():
            writer.item(item, "Movie", props)
        writer.relationship(
            BY_TYPE["DIRECTED_BY"], "jaws", DBR + "Steven_Spielberg", name="Steven Spielberg"
        )
        writer.relationship(BY_TYPE["HAS_GENRE"], "tax", DBR + "Accounting", name="Accounting")
    assign_dense_indices(db)


def vectors(db: Database, label: str) -> dict[str, list[float] | None]:
    key = "id" if label == "Item" else "uri"
    rows = db.query(f"MATCH (n:{label}) RETURN n.{key} AS key, n.textEmbedding AS v")
    return {row["key"]: row["v"] for row in rows}


def test_bundled_minilm_puts_related_texts_closer(embedder: SentenceTransformerEmbedder) -> None:
    matrix = embedder.embed(["a shark attacks swimmers", "sharks hunt at sea", "tax forms"])
    assert matrix.shape == (3, 384) and matrix.dtype == np.float32
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    similarity = matrix @ matrix.T
    assert similarity[0, 1] > similarity[0, 2] + 0.2


def test_embed_items_writes_vectors_and_an_index_and_reencodes_only_what_changed(
    empty_graph: Database, embedder: SentenceTransformerEmbedder
) -> None:
    small_graph(empty_graph)
    first = embed_nodes(empty_graph, embedder, EmbedTarget.ITEMS, chunk=2)
    assert (first.nodes, first.encoded, first.unchanged, first.without_text) == (4, 3, 0, 1)
    stored = vectors(empty_graph, "Item")
    assert stored["bare"] is None
    assert all(len(stored[item]) == 384 for item in ("jaws", "deep-blue", "tax"))
    # The stored vector is the model's encoding of title + description.
    expected = embedder.embed(["Jaws. A great white shark attacks a beach town."])[0]
    assert np.allclose(stored["jaws"], expected, atol=1e-5)
    [meta] = empty_graph.query(
        "MATCH (i:Item {id: 'jaws'}) RETURN i.textEmbeddingModel AS model, "
        "i.textEmbeddingRun AS run"
    )
    assert meta == {"model": DEFAULT_MODEL, "run": first.run}

    nearest = empty_graph.query(
        "MATCH (i:Item {id: 'jaws'}) "
        "CALL db.index.vector.queryNodes('item_text_embedding', 2, i.textEmbedding) "
        "YIELD node RETURN node.id AS id"
    )
    assert [row["id"] for row in nearest] == ["jaws", "deep-blue"]

    again = embed_nodes(empty_graph, embedder, EmbedTarget.ITEMS, chunk=2)
    assert (again.encoded, again.unchanged) == (0, 3)
    empty_graph.query("MATCH (i:Item {id: 'tax'}) SET i.title = 'Annual Tax Filing'")
    changed = embed_nodes(empty_graph, embedder, EmbedTarget.ITEMS, chunk=2)
    assert (changed.encoded, changed.unchanged) == (1, 2)
    runs = empty_graph.query("MATCH (r:Run {kind: 'embed'}) RETURN r.status AS s")
    assert [row["s"] for row in runs] == ["finished"] * 3


def test_kgctl_embed_runs_in_the_worker(
    empty_graph: Database, settings: Settings, tmp_path: Path, celery_app: object
) -> None:
    small_graph(empty_graph)
    log = tmp_path / "embed.log"
    assert run_kgctl(settings, "embed", "entities", output=log) == 0, log.read_text()
    assert "2 entities encoded with" in log.read_text()
    stored = vectors(empty_graph, "Entity")
    assert sorted(stored) == [DBR + "Accounting", DBR + "Steven_Spielberg"]
    assert all(vector is not None and len(vector) == 384 for vector in stored.values())


def test_a_model_that_cannot_be_loaded_is_named_and_nothing_is_written(
    empty_graph: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_graph(empty_graph)
    log = tmp_path / "embed.log"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no hub here: a hub name must fail at once
    missing = str(tmp_path / "no-such-model")
    args = ["embed", "items", "--local", "--model", missing]
    assert run_kgctl(settings, *args, output=log) == 2, log.read_text()
    assert f"embedding model {missing!r} cannot be loaded" in log.read_text()
    assert "Traceback" not in log.read_text()
    assert (
        count(empty_graph, "MATCH (i:Item) WHERE i.textEmbedding IS NOT NULL RETURN count(i) AS c")
        == 0
    )


def test_no_worker_answering_is_said_at_once_not_waited_for(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    log = tmp_path / "embed.log"
    broker = "redis://:wrong@127.0.0.1:9/0"  # nothing listens there: no worker can answer
    args = ["embed", "items"]
    code = run_kgctl(settings, *args, output=log, REDIS_URL=broker)
    assert code == 2, log.read_text()
    assert "answers" in log.read_text() and "--local" in log.read_text()
    assert "Traceback" not in log.read_text()
