"""The grid's input checks fire on real inputs (kgstore.recsys.leakage): a persona run whose
export held test interactions and keywords made from held-out items are refused as
leakage; personas and keywords made before new interactions arrived are refused as stale,
or with `allow_stale` run and labelled. Canaries: each leak is produced by running the real
pipeline with one step made to leak, so the check is shown to exist and to fire."""

from dataclasses import replace

import numpy as np
import pytest

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.embeddings.sentence_transformers import SentenceTransformerEmbedder
from kgstore.errors import RecsysInputError
from kgstore.export.snapshot import GraphSnapshot
from kgstore.generation import pipeline
from kgstore.generation.pipeline import generate_keywords
from kgstore.graph.clear import clear_graph
from kgstore.graph.dense_idx import assign_dense_indices
from kgstore.graph.mapping import Domain
from kgstore.graph.sequences import read_sequences
from kgstore.graph.split import LeaveOneOut
from kgstore.personas import runner
from kgstore.personas.runner import train_personas
from kgstore.recsys.grid import GridConfig, prepare_grid, run_grid
from kgstore.schema import apply_schema
from kgstore.train.hdgi import HDGIConfig
from kgstore.train.sasrec import SASRecConfig
from tests.recsys_planted import LENGTH, write_planted

pytestmark = pytest.mark.slow

KG = GridConfig(rows=("none/random", "kg/random"), seeds=1, rerank="", anonymous=False)
LLM = GridConfig(rows=("none/random", "llm/random"), seeds=1, rerank="", anonymous=False)
QUICK = HDGIConfig(epochs=5)


def stale_allowed(config: GridConfig) -> GridConfig:
    return replace(config, allow_stale=True)


def no_embedder():
    raise AssertionError("the check must refuse before the embedder is built")


def some_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


@pytest.fixture
def store(tmp_path) -> ArtifactStore:
    return ArtifactStore(str(tmp_path / "artifacts"))


@pytest.fixture
def planted(db: Database) -> Database:
    clear_graph(db)
    apply_schema(db)
    write_planted(db, planted=True, users=120)
    return db


def leaking_export(real):
    """The export with every user's validation and test interactions added to `rated`."""

    def export(db, domain, config, **options):
        snapshot = real(db, domain, config, **options)
        split = LeaveOneOut.of(read_sequences(db, domain))
        users = {user: row for row, user in enumerate(snapshot.users)}
        items = {item: row for row, item in enumerate(snapshot.items)}
        extra = [
            (users[user], items[item])
            for user, item in split.held_out_pairs()
            if user in users and item in items
        ]
        leaked = np.concatenate([snapshot.rated, np.asarray(extra, dtype=np.int64).T], axis=1)
        return GraphSnapshot(**{**snapshot.__dict__, "rated": leaked})

    return export


def test_a_persona_run_trained_on_test_interactions_is_refused(
    planted: Database, store: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    train_personas(planted, store, Domain.MOVIES, QUICK)
    prepare_grid(planted, store, Domain.MOVIES, KG, no_embedder)  # the honest run passes
    monkeypatch.setattr(runner, "export_snapshot", leaking_export(runner.export_snapshot))
    train_personas(planted, store, Domain.MOVIES, QUICK)
    with pytest.raises(RecsysInputError, match=r"leakage: persona run \w+ saw \d+ validation/test"):
        prepare_grid(planted, store, Domain.MOVIES, stale_allowed(KG), no_embedder)


def test_keywords_made_from_held_out_items_are_refused(
    planted: Database, store: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Leaky(LeaveOneOut):
        """A split whose training part is the whole sequence (the bug to catch)."""

        @classmethod
        def of(cls, sequences):
            honest = LeaveOneOut.of(sequences)
            whole = {u: [r.item for r in rs] for u, rs in sequences.by_user.items()}
            return replace(honest, train=whole)

    monkeypatch.setattr(pipeline, "LeaveOneOut", Leaky)
    generate_keywords(planted, None, Domain.MOVIES)
    with pytest.raises(RecsysInputError, match="leakage: the movies preference keywords"):
        prepare_grid(planted, store, Domain.MOVIES, stale_allowed(LLM), no_embedder)
    monkeypatch.undo()
    generate_keywords(planted, None, Domain.MOVIES)  # honest keywords: accepted
    inputs = prepare_grid(planted, store, Domain.MOVIES, LLM, some_embedder)
    assert inputs.notes == [] and "llm" in inputs.user_vectors


def test_inputs_made_before_new_interactions_are_stale(
    planted: Database, store: ArtifactStore
) -> None:
    train_personas(planted, store, Domain.MOVIES, QUICK)
    generate_keywords(planted, None, Domain.MOVIES)
    both = GridConfig(
        rows=("none/random", "kg/random", "llm/random"),
        seeds=1,
        rerank="",
        anonymous=False,
        sasrec=SASRecConfig(max_epochs=1),
    )
    fresh = prepare_grid(planted, store, Domain.MOVIES, both, some_embedder)
    assert fresh.notes == []
    users = sorted(fresh.personas.encoder.snapshot.users)[:2]
    # Two new interactions at the end of two users' sequences: their test item (a group
    # item they had once) becomes training. (Written directly: a second interactions file
    # restarts each user's pos at 0.)
    planted.query(
        "MATCH (u:User) WHERE u.id IN $users UNWIND [0, 1] AS extra MATCH (i:Item {id: 's-00'}) "
        "CREATE (u)-[:RATED {pos: $pos + extra, ts: ($pos + extra) * 60, rating: 5.0, "
        "orderAssumed: false}]->(i)",
        pos=LENGTH,
        users=users,
    )
    with pytest.raises(RecsysInputError, match="kgctl train hdgi --domain movies"):
        prepare_grid(planted, store, Domain.MOVIES, both, no_embedder)
    inputs = prepare_grid(planted, store, Domain.MOVIES, stale_allowed(both), some_embedder)
    assert len(inputs.notes) == 2
    assert all(note.startswith("STALE: ") for note in inputs.notes)
    table_notes = run_grid(inputs, stale_allowed(both)).notes
    assert [note for note in table_notes if note.startswith("STALE: ")] == inputs.notes
    assert all(f"2 users changed (first: {', '.join(users)})" in note for note in inputs.notes)
    generate_keywords(planted, None, Domain.MOVIES)
    with pytest.raises(RecsysInputError, match="STALE: persona run"):
        prepare_grid(planted, store, Domain.MOVIES, both, no_embedder)


def test_a_user_added_after_the_persona_run_is_stale_not_held_out(
    planted: Database, store: ArtifactStore
) -> None:
    """A user the run neither trained on nor held out arrived after it: the run describes
    another data set, and the user must not join the anonymous slice of held-out users."""
    train_personas(planted, store, Domain.MOVIES, QUICK)
    planted.query(
        "CREATE (u:User {id: 'u-new'}) WITH u "
        "MATCH (i:Item) WHERE i.id IN ['s-00', 'g0-00', 's-01', 'g0-01', 's-02'] "
        "WITH u, i ORDER BY i.id "
        "WITH u, collect(i) AS items UNWIND range(0, size(items) - 1) AS pos "
        "WITH u, items[pos] AS i, pos "
        "CREATE (u)-[:RATED {pos: pos, ts: pos * 60, rating: 5.0, orderAssumed: false}]->(i)"
    )
    assign_dense_indices(planted)
    with pytest.raises(RecsysInputError, match=r"STALE: persona run \w+, made before .* u-new"):
        prepare_grid(planted, store, Domain.MOVIES, KG, no_embedder)
    inputs = prepare_grid(
        planted, store, Domain.MOVIES, stale_allowed(replace(KG, anonymous=True)), no_embedder
    )
    personas = inputs.personas
    assert "u-new" in personas.inferred and "u-new" not in personas.held_out
    assert personas.held_out == frozenset(personas.encoder.snapshot.held_out_users) & set(
        inputs.split.vocabulary.users
    )
    assert "1 users added since the run" in personas.label
