"""Text embeddings with the real all-MiniLM-L6-v2 weights: vectors written back to Neo4j
with their model and run, a cosine vector index, re-encoding only what changed, a text
(and its recorded source) for every item and entity however little the graph holds, the
Celery worker path of `kgctl embed`, and a model that cannot be loaded."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kgstore.db import Database
from kgstore.embeddings.pipeline import EmbedTarget, embed_nodes
from kgstore.embeddings.sentence_transformers import DEFAULT_MODEL, SentenceTransformerEmbedder
from kgstore.graph.dense_idx import assign_dense_indices
from kgstore.graph.item_names import TITLE_FROM_URI
from kgstore.graph.mapping import BY_TYPE, Domain
from kgstore.ingest.write.graph_writer import GraphWriter
from kgstore.ingest.write.writer import Provenance
from kgstore.ranking.data import Vocabulary
from kgstore.recsys.inputs import item_text_features
from kgstore.report import sections
from kgstore.report.gather import TextSources, text_sources
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
    assert (first.nodes, first.encoded, first.unchanged) == (4, 4, 0)
    assert first.sources == {"title": 3, "placeholder": 1}
    stored = vectors(empty_graph, "Item")
    assert all(len(stored[item]) == 384 for item in ("jaws", "deep-blue", "tax", "bare"))
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
    assert (again.encoded, again.unchanged) == (0, 4)
    empty_graph.query("MATCH (i:Item {id: 'tax'}) SET i.title = 'Annual Tax Filing'")
    changed = embed_nodes(empty_graph, embedder, EmbedTarget.ITEMS, chunk=2)
    assert (changed.encoded, changed.unchanged) == (1, 3)
    runs = empty_graph.query("MATCH (r:Run {kind: 'embed'}) RETURN r.status AS s")
    assert [row["s"] for row in runs] == ["finished"] * 3


WARTS = {
    "jaws": {"title": "Jaws", "description": "A shark."},
    "linked": {"uri": DBR + "The_Prophet_(book)"},
    "named-by-uri": {"title": "Solo (film)", "titleSource": TITLE_FROM_URI, "uri": DBR + "Solo"},
    "described": {"description": "Forms and deadlines."},
    "facts-only": {},
    "bare": {},
    "generated": {"llmDescription": "A tense thriller.", "llmDescriptionModel": "an-llm"},
}
"""Items with less and less to say, as real data has them (no title, no uri, no facts)."""


def warts_graph(db: Database) -> None:
    with GraphWriter(db, Provenance("tests", "warts")) as writer:
        for item, props in WARTS.items():
            writer.item(item, "Movie", props)
        writer.relationship(BY_TYPE["DIRECTED_BY"], "facts-only", DBR + "Jane_Doe", name="Jane Doe")
        writer.relationship(BY_TYPE["STARRING"], "jaws", DBR + "Roy_Sch%C3%A9ider")  # no name
    assign_dense_indices(db)


def stored_sources(db: Database, label: str) -> dict[str, str | None]:
    key = "id" if label == "Item" else "uri"
    rows = db.query(f"MATCH (n:{label}) RETURN n.{key} AS key, n.textSource AS source")
    return {row["key"]: row["source"] for row in rows}


def test_every_item_and_entity_gets_a_text_and_its_source_is_recorded(
    empty_graph: Database, embedder: SentenceTransformerEmbedder
) -> None:
    warts_graph(empty_graph)
    items = embed_nodes(empty_graph, embedder, EmbedTarget.ITEMS, chunk=3)
    assert (items.nodes, items.encoded) == (7, 7)
    assert stored_sources(empty_graph, "Item") == {
        "jaws": "title",
        "linked": "uri",
        "named-by-uri": "uri",
        "described": "description",
        "facts-only": "facts",
        "bare": "placeholder",
        "generated": "llm",
    }
    assert items.sources == {
        "title": 1,
        "uri": 2,
        "description": 1,
        "facts": 1,
        "placeholder": 1,
        "llm": 1,
    }
    stored = vectors(empty_graph, "Item")
    assert all(vector is not None for vector in stored.values())
    texts = {
        "linked": "The Prophet (book)",
        "facts-only": "Directed by Jane Doe.",
        "bare": "unknown movie bare",
    }
    expected = embedder.embed(list(texts.values()))
    for item, vector in zip(texts, expected, strict=True):
        assert np.allclose(stored[item], vector, atol=1e-5), item

    entities = embed_nodes(empty_graph, embedder, EmbedTarget.ENTITIES)
    assert entities.sources == {"name": 1, "uri": 1}
    unnamed = vectors(empty_graph, "Entity")[DBR + "Roy_Sch%C3%A9ider"]
    assert np.allclose(unnamed, embedder.embed(["Roy Sch\u00e9ider"])[0], atol=1e-5)
    assert stored_sources(empty_graph, "Entity")[DBR + "Roy_Sch%C3%A9ider"] == "uri"

    # The report says what the vectors it rests on were made from.
    sources = text_sources(empty_graph, "movies")
    assert sources == TextSources(items.sources, {"name": 1, "uri": 1})
    html = str(sections.texts(sources))
    assert "Entities are embedded from their names" in html and "name 1, uri 1" in html
    assert "uri 2, description 1, facts 1, llm 1, placeholder 1, title 1" in html

    # A title that replaces the uri's name changes the text: that item alone is re-encoded.
    empty_graph.query("MATCH (i:Item {id: 'linked'}) SET i.title = 'The Prophet'")
    again = embed_nodes(empty_graph, embedder, EmbedTarget.ITEMS)
    assert (again.encoded, again.unchanged) == (1, 6)
    assert stored_sources(empty_graph, "Item")["linked"] == "title"


def test_a_graph_embedded_before_sources_were_recorded_gets_them_without_re_encoding(
    empty_graph: Database, embedder: SentenceTransformerEmbedder
) -> None:
    warts_graph(empty_graph)
    embed_nodes(empty_graph, embedder, EmbedTarget.ITEMS)
    empty_graph.query("MATCH (i:Item) REMOVE i.textSource")
    vocabulary = Vocabulary(items=("jaws", "bare", "linked"), users=())
    assert item_text_features(empty_graph, Domain.MOVIES, vocabulary)[1] == (
        "3 item vectors from not recorded 3"
    )

    again = embed_nodes(empty_graph, embedder, EmbedTarget.ITEMS)
    assert (again.encoded, again.unchanged) == (0, 7)
    features, label = item_text_features(empty_graph, Domain.MOVIES, vocabulary)
    assert features.shape == (4, 384)
    assert label == "3 item vectors from placeholder 1, title 1, uri 1"


def test_kgctl_embed_runs_in_the_worker(
    empty_graph: Database, settings: Settings, tmp_path: Path, celery_app: object
) -> None:
    small_graph(empty_graph)
    log = tmp_path / "embed.log"
    assert run_kgctl(settings, "embed", "entities", output=log) == 0, log.read_text()
    assert "2 entities encoded with" in log.read_text()
    assert "texts by source (textSource): name 2" in log.read_text()
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
