"""`kgctl generate`: the paper's item-description and preference-keyword prompts sent to an
OpenAI-compatible server — here `tests/llm_double.py`, a TEST DOUBLE of a hosted LLM (no
model can run on this machine) — and the texts cached in the real Neo4j; the non-LLM
fallback; errors that name the URL; nothing half-written."""

import socket
from pathlib import Path

import numpy as np
import pytest

from kgstore.db import Database
from kgstore.embeddings.pipeline import EmbedTarget, embed_nodes
from kgstore.embeddings.sentence_transformers import SentenceTransformerEmbedder
from kgstore.embeddings.user_vectors import user_keyword_vectors
from kgstore.errors import GenerationError, KgstoreError
from kgstore.generation.fallback import FALLBACK_MODEL
from kgstore.generation.openai_compatible import OpenAICompatibleGenerator
from kgstore.generation.pipeline import (
    generate_descriptions,
    generate_keywords,
    input_hash,
)
from kgstore.generation.prompts import DESCRIPTION_PROMPT_VERSION, description_prompt
from kgstore.graph.dense_idx import assign_dense_indices
from kgstore.graph.mapping import BY_TYPE, Domain
from kgstore.graph.sequences import Interaction, Sequences, write_sequences
from kgstore.ingest.write.graph_writer import GraphWriter
from kgstore.ingest.write.writer import Provenance
from kgstore.settings import Settings
from tests.ingest_checks import count, run_kgctl
from tests.llm_double import LLMDouble, llm_double

DBR = "http://dbpedia.org/resource/"
FILMS = {  # id: (title, director, genre)
    "m1": ("Jaws", "Steven Spielberg", "Thriller"),
    "m2": ("Alien", "Ridley Scott", "Science fiction"),
    "m3": ("Duel", "Steven Spielberg", "Thriller"),
    "m4": ("Heat", "Michael Mann", "Crime"),
    "m5": ("Vertigo", "Alfred Hitchcock", "Mystery"),
    "m6": ("Psycho", "Alfred Hitchcock", "Horror"),
}
HISTORIES = {
    "u1": ["m1", "m2", "m3", "m4", "m5"],  # train Jaws, Alien, Duel; validation Heat; test Vertigo
    "u2": ["m2", "m6", "m4"],  # train Alien; validation Psycho; test Heat
    "u3": ["m3", "m1"],  # too short to evaluate: both train
}
HELD_OUT = {"u1": ["Heat", "Vertigo"], "u2": ["Psycho", "Heat"], "u3": []}
TRAIN_TITLES = {"u1": ["Jaws", "Alien", "Duel"], "u2": ["Alien"], "u3": ["Duel", "Jaws"]}
MODEL = "double-model"


def small_graph(db: Database) -> None:
    """Six titled films with a director and a genre, one film without a title, one book,
    and the three users' sequences."""
    with GraphWriter(db, Provenance("tests", "generation")) as writer:
        for item, (title, director, genre) in FILMS.items():
            writer.item(item, "Movie", {"title": title})
            writer.relationship(
                BY_TYPE["DIRECTED_BY"], item, DBR + director.replace(" ", "_"), name=director
            )
            writer.relationship(BY_TYPE["HAS_GENRE"], item, DBR + genre, name=genre)
        writer.item("m7", "Movie", {})
        writer.item("b1", "Book", {"title": "Emma"})
        writer.relationship(BY_TYPE["AUTHORED_BY"], "b1", DBR + "Jane_Austen", name="Jane Austen")
        sequences = {
            user: [Interaction(user, item, 5.0, pos) for pos, item in enumerate(items)]
            for user, items in HISTORIES.items()
        }
        write_sequences(writer, Sequences(sequences, order_assumed=False))
    assign_dense_indices(db)


def generator(double: LLMDouble, **options: object) -> OpenAICompatibleGenerator:
    return OpenAICompatibleGenerator(double.url, MODEL, api_key="sk-test", backoff=0, **options)


def stored(db: Database, label: str, prop: str) -> dict[str, dict]:
    rows = db.query(
        f"MATCH (n:{label}) RETURN n.id AS id, n.{prop} AS text, n.{prop}Model AS model, "
        f"n.{prop}PromptVersion AS version, n.{prop}Hash AS hash, n.{prop}Run AS run"
    )
    return {row.pop("id"): row for row in rows}


def test_keyword_prompts_hold_only_the_training_items(empty_graph: Database) -> None:
    small_graph(empty_graph)
    with llm_double() as double:
        report = generate_keywords(empty_graph, generator(double), Domain.MOVIES)
    assert (report.nodes, report.generated, report.llm) == (3, 3, True)
    keywords = stored(empty_graph, "User", "preferenceKeywordsMovie")
    by_reply = {LLMDouble.reply(prompt): prompt for prompt in double.prompts}
    for user, titles in TRAIN_TITLES.items():
        assert keywords[user]["model"] == MODEL
        prompt = by_reply[keywords[user]["text"]]  # the prompt that made this user's text
        listed = [line.split(". ", 1)[1].split(" (")[0] for line in prompt.splitlines()[3:-2]]
        assert listed == titles  # every training item, oldest first, and nothing else
        for title in HELD_OUT[user]:
            assert title not in prompt
    u1 = by_reply[keywords["u1"]["text"]]
    assert "1. Jaws (directed by Steven Spielberg; genre is Thriller)" in u1
    assert "Michael Mann" not in u1 and "Alfred Hitchcock" not in u1  # held-out items' facts


def test_descriptions_are_cached_by_input_and_model(empty_graph: Database) -> None:
    small_graph(empty_graph)
    with llm_double() as double:
        first = generate_descriptions(empty_graph, generator(double), Domain.MOVIES)
        assert (first.nodes, first.generated, first.skipped) == (7, 6, 1)  # m7 has no title
        assert len(double.requests) == 6
        assert {request["_auth"] for request in double.requests} == {"Bearer sk-test"}
        assert {request["model"] for request in double.requests} == {MODEL}
        texts = stored(empty_graph, "Item", "llmDescription")
        prompt = description_prompt("Jaws", Domain.MOVIES)
        assert texts["m1"] == {
            "text": LLMDouble.reply(prompt),
            "model": MODEL,
            "version": DESCRIPTION_PROMPT_VERSION,
            "hash": input_hash(MODEL, DESCRIPTION_PROMPT_VERSION, prompt),
            "run": first.run,
        }
        assert texts["m7"]["text"] is None and texts["b1"]["text"] is None  # no title; books

        again = generate_descriptions(empty_graph, generator(double), Domain.MOVIES)
        assert (again.generated, again.unchanged) == (0, 6)
        assert len(double.requests) == 6  # nothing sent

        empty_graph.query("MATCH (i:Item {id: 'm2'}) SET i.title = 'Aliens'")
        changed = generate_descriptions(empty_graph, generator(double), Domain.MOVIES)
        assert (changed.generated, changed.unchanged) == (1, 5)
        assert "Title: Aliens\n" in double.prompts[-1]

        other = OpenAICompatibleGenerator(double.url, "another-model", backoff=0)
        assert generate_descriptions(empty_graph, other, Domain.MOVIES).generated == 6
    runs = empty_graph.query("MATCH (r:Run {kind: 'generate'}) RETURN r.status AS s")
    assert [row["s"] for row in runs] == ["finished"] * 4


def test_without_a_generator_the_fallback_text_is_written_and_labelled(
    empty_graph: Database,
) -> None:
    small_graph(empty_graph)
    report = generate_descriptions(empty_graph, None)
    assert (report.model, report.llm, report.generated) == (FALLBACK_MODEL, False, 7)
    texts = stored(empty_graph, "Item", "llmDescription")
    assert texts["m1"]["text"] == "Jaws. Directed by Steven Spielberg. Genre is Thriller."
    assert texts["b1"]["text"] == "Emma. Author Jane Austen."
    assert {text["model"] for id_, text in texts.items() if id_ != "m7"} == {FALLBACK_MODEL}

    generate_keywords(empty_graph, None, Domain.MOVIES)
    keywords = stored(empty_graph, "User", "preferenceKeywordsMovie")
    assert keywords["u1"]["text"] == (
        "Steven Spielberg, Thriller, Ridley Scott, Science fiction, Duel, Alien, Jaws"
    )
    assert keywords["u1"]["model"] == FALLBACK_MODEL
    # A new fact of a training item changes the input: that user's text is rebuilt.
    empty_graph.query(
        "MATCH (i:Item {id: 'm2'}) MERGE (e:Entity:Genre {uri: 'x:horror'}) "
        "SET e.name = 'Horror' MERGE (i)-[:HAS_GENRE]->(e)"
    )
    again = generate_keywords(empty_graph, None, Domain.MOVIES)
    assert (again.generated, again.unchanged) == (2, 1)  # u1 and u2 trained on m2


def test_a_domain_without_users_or_items_is_refused_without_a_run(empty_graph: Database) -> None:
    with pytest.raises(KgstoreError, match="no Movie or Book items in the graph"):
        generate_descriptions(empty_graph, None)
    small_graph(empty_graph)  # the book has no reader
    with pytest.raises(KgstoreError, match="no user rated a Book item"):
        generate_keywords(empty_graph, None, Domain.BOOKS)
    assert count(empty_graph, "MATCH (r:Run) RETURN count(r) AS c") == 0


def test_llm_descriptions_are_what_items_embed_and_keywords_embed_per_user(
    empty_graph: Database,
) -> None:
    small_graph(empty_graph)
    embedder = SentenceTransformerEmbedder()
    before = embed_nodes(empty_graph, embedder, EmbedTarget.ITEMS)
    assert before.encoded == 8  # m7, with nothing, gets a placeholder text
    generate_descriptions(empty_graph, None, Domain.MOVIES)
    after = embed_nodes(empty_graph, embedder, EmbedTarget.ITEMS)
    assert (after.encoded, after.unchanged) == (6, 2)  # the films with a description; b1, m7
    assert after.sources == {"title+facts": 6, "title": 1, "placeholder": 1}
    [row] = empty_graph.query("MATCH (i:Item {id: 'm1'}) RETURN i.textEmbedding AS v")
    expected = embedder.embed(["Jaws. Directed by Steven Spielberg. Genre is Thriller."])[0]
    assert np.allclose(row["v"], expected, atol=1e-5)

    with pytest.raises(KgstoreError, match="generate keywords --domain movies"):
        user_keyword_vectors(empty_graph, embedder, Domain.MOVIES)
    generate_keywords(empty_graph, None, Domain.MOVIES)
    vectors = user_keyword_vectors(empty_graph, embedder, Domain.MOVIES)
    assert sorted(vectors.vectors) == ["u1", "u2", "u3"]
    assert not vectors.llm and "non-LLM text (title + KG facts)" in vectors.label
    [u3] = embedder.embed(["Steven Spielberg, Thriller, Jaws, Duel"])
    assert np.allclose(vectors.vectors["u3"], u3, atol=1e-5)


def test_a_reasoning_models_thinking_is_not_kept() -> None:
    with llm_double() as double:
        double.thinking = True
        assert generator(double).generate(["p1", "p2"]) == [
            LLMDouble.reply("p1"),
            LLMDouble.reply("p2"),
        ]


def test_http_failures_name_the_url_and_the_setting() -> None:
    with llm_double() as double:
        double.fail_on = "Title:"
        with pytest.raises(GenerationError) as failed:
            generator(double, retries=1).generate([description_prompt("Jaws", Domain.MOVIES)])
        message = str(failed.value)
        assert f"{double.url}/chat/completions (GENERATOR_URL" in message
        assert "HTTP 500" in message and "after 2 attempt(s)" in message
        assert len(double.requests) == 2  # retried once

        double.fail_on, double.delay = None, 60.0
        with pytest.raises(
            GenerationError, match=r"did not answer within 0.3 s \(GENERATOR_TIMEOUT\)"
        ):
            generator(double, timeout=0.3, retries=0).generate(["a prompt"])

        wrong_base = double.url.removesuffix("/v1")
        with pytest.raises(GenerationError, match="usually ends in /v1") as missing:
            OpenAICompatibleGenerator(wrong_base, MODEL, backoff=0).generate(["a prompt"])
        assert "HTTP 404" in str(missing.value) and "after 1 attempt(s)" in str(missing.value)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    with pytest.raises(GenerationError, match=f"{closed}/chat/completions .* cannot be reached"):
        OpenAICompatibleGenerator(closed, MODEL, retries=0).generate(["a prompt"])


def test_a_generator_failing_mid_run_leaves_whole_batches_and_resumes(
    empty_graph: Database,
) -> None:
    small_graph(empty_graph)
    with llm_double() as double:
        double.fail_on = "Title: Heat\n"  # m4, in the second batch of two (m3, m4)
        with pytest.raises(GenerationError, match="HTTP 500"):
            generate_descriptions(
                empty_graph, generator(double, retries=0), Domain.MOVIES, batch_size=2
            )
        texts = stored(empty_graph, "Item", "llmDescription")
        [failed] = empty_graph.query(
            "MATCH (r:Run {kind: 'generate'}) RETURN r.id AS id, r.status AS status"
        )
        assert failed["status"] == "failed"
        for item in ("m1", "m2"):  # the first batch: complete, with its run
            prompt = description_prompt(FILMS[item][0], Domain.MOVIES)
            assert texts[item]["text"] == LLMDouble.reply(prompt)
            assert texts[item]["hash"] == input_hash(MODEL, DESCRIPTION_PROMPT_VERSION, prompt)
            assert texts[item]["run"] == failed["id"]
        assert all(texts[item] == dict.fromkeys(texts[item]) for item in ("m3", "m4", "m5", "m6"))

        double.fail_on = None
        sent = len(double.requests)
        resumed = generate_descriptions(empty_graph, generator(double), Domain.MOVIES, 2)
        assert (resumed.generated, resumed.unchanged) == (4, 2)
        assert len(double.requests) - sent == 4
    texts = stored(empty_graph, "Item", "llmDescription")
    assert all(texts[item]["text"] for item in FILMS)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"GENERATOR_URL": "127.0.0.1:8000/v1", "GENERATOR_MODEL": MODEL}, "GENERATOR_URL"),
        ({"GENERATOR_URL": "http://127.0.0.1:8000/v1", "GENERATOR_MODEL": ""}, "GENERATOR_MODEL"),
    ],
)
def test_bad_generator_settings_stop_before_any_write(
    empty_graph: Database, settings: Settings, tmp_path: Path, env: dict, named: str
) -> None:
    small_graph(empty_graph)
    log = tmp_path / "generate.log"
    assert run_kgctl(settings, "generate", "descriptions", "--local", output=log, **env) == 2
    assert named in log.read_text() and "Traceback" not in log.read_text()
    assert count(empty_graph, "MATCH (r:Run {kind: 'generate'}) RETURN count(r) AS c") == 0
    assert (
        count(empty_graph, "MATCH (i:Item) WHERE i.llmDescription IS NOT NULL RETURN count(i) AS c")
        == 0
    )


def test_kgctl_generate_says_which_model_wrote_the_texts(
    empty_graph: Database, settings: Settings, tmp_path: Path, celery_app: object
) -> None:
    small_graph(empty_graph)
    log = tmp_path / "generate.log"
    with llm_double() as double:
        env = {"GENERATOR_URL": double.url, "GENERATOR_MODEL": MODEL}
        args = ["generate", "descriptions", "--local", "--domain", "movies"]
        assert run_kgctl(settings, *args, output=log, **env) == 0, log.read_text()
    assert f"wrote llmDescription of 6 items with {MODEL} (prompt item-description-1)" in (
        log.read_text()
    )
    assert "1 skipped (no title)" in log.read_text()

    # In the worker, whose settings name no generator: the non-LLM text, and it says so.
    log = tmp_path / "worker.log"
    args = ["generate", "keywords", "--domain", "movies"]
    assert run_kgctl(settings, *args, output=log, GENERATOR_URL="") == 0, log.read_text()
    assert "wrote preferenceKeywordsMovie of 3 users as the non-LLM text" in log.read_text()
    assert "GENERATOR_URL is empty" in log.read_text()
    assert stored(empty_graph, "User", "preferenceKeywordsMovie")["u1"]["model"] == FALLBACK_MODEL
