"""`kgctl recommend`: an anonymous session on planted data. A session ending in a shared
item (after which a group item follows) reveals its group only through the items before
it; a one-item-window kg retriever, whose persona is inferred from the whole session,
recommends the session's group; each recommendation is explained by a KG path."""

import io
import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.errors import RecsysInputError
from kgstore.graph.mapping import Domain
from kgstore.personas.infer import load_encoder
from kgstore.recsys.model_store import load_model
from kgstore.recsys.recommend import recommend_session
from kgstore.recsys.single import train_model
from kgstore.settings import Settings
from tests.ingest_checks import run_kgctl
from tests.recsys_planted import (
    ONE_ITEM_WINDOW,
    SESSION,
    SESSION_GROUP,
    train_session_retriever,
)

pytestmark = pytest.mark.slow

GROUP = SESSION_GROUP


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ArtifactStore:
    return ArtifactStore(str(tmp_path_factory.mktemp("artifacts")))


@pytest.fixture(scope="module")
def retriever(db: Database, store: ArtifactStore) -> str:
    return train_session_retriever(db, store)


def test_a_kg_retriever_recommends_the_sessions_group_with_kg_paths(
    db: Database, store: ArtifactStore, retriever: str
) -> None:
    result = recommend_session(db, store, SESSION, retriever, k=8)
    items = [rec.item for rec in result.items]
    assert result.run == retriever and result.row == "kg/random" and result.persona_run
    assert len(items) == 8 and not set(items) & set(SESSION)
    scores = [rec.score for rec in result.items]
    assert scores == sorted(scores, reverse=True)
    group_items = [item for item in items if item.startswith(f"{GROUP}-")]
    # 9 of the group's 12 items are left to recommend; chance would give 2 of 8
    assert len(group_items) >= 6, items
    for rec in result.items:
        assert rec.title == f"Film {rec.item}"
        if rec.item in group_items:
            assert (
                f"Film s-00 -[DISTRIBUTED_BY]-> Studio Two <-[DISTRIBUTED_BY]- Film {rec.item}"
                in rec.paths
            )
    again = recommend_session(db, store, SESSION, retriever, k=8)
    assert [rec.item for rec in again.items] == items  # inference is deterministic


def test_without_personas_the_window_cannot_tell_the_group(
    db: Database, store: ArtifactStore, retriever: str
) -> None:
    """The control: the same one-item window without a user vector sees only s-03, after
    which any group's item may follow, so it spreads its picks over the groups."""
    base = train_model(db, store, Domain.MOVIES, replace(ONE_ITEM_WINDOW, user="none")).run
    result = recommend_session(db, store, SESSION, base, k=8)
    assert result.persona_run is None
    assert sum(rec.item.startswith(f"{GROUP}-") for rec in result.items) <= 4


def finished_retriever_run(db: Database, run_id: str, user: str, checkpoint: str) -> None:
    """A finished `{user}/random` retriever Run node pointing at `checkpoint`, as
    `kgctl train retriever` records one, without training it."""
    db.query(
        "CREATE (:Run {id: $id, kind: 'train', model: 'sasrec-retriever', "
        "status: 'finished', config: $config, metrics: $metrics})",
        id=run_id,
        config=json.dumps(replace(ONE_ITEM_WINDOW, user=user).to_dict()),
        metrics=json.dumps({"row": f"{user}/random", "domain": "movies", "checkpoint": checkpoint}),
    )


def test_bad_sessions_and_models_are_refused(
    db: Database, store: ArtifactStore, retriever: str
) -> None:
    with pytest.raises(RecsysInputError, match=r"unknown to run .*no-such-film"):
        recommend_session(db, store, ["s-00", "no-such-film"], retriever)
    with pytest.raises(RecsysInputError, match="empty"):
        recommend_session(db, store, [], retriever)
    finished_retriever_run(db, "test-random-user", "random", checkpoint="x")
    with pytest.raises(RecsysInputError, match="known users"):
        recommend_session(db, store, ["s-00"], "test-random-user")
    text = store.put(b"plain text, not torch", ".pt")
    finished_retriever_run(db, "test-not-a-checkpoint", "none", checkpoint=text)
    with pytest.raises(RecsysInputError, match="not a SASRec checkpoint"):
        recommend_session(db, store, ["s-00"], "test-not-a-checkpoint")
    with pytest.raises(RecsysInputError, match="not a SASRec run"):
        recommend_session(db, store, ["s-00"], "no-such-run")


def test_kgctl_recommend_prints_titles_and_paths(
    db: Database, store: ArtifactStore, retriever: str, settings: Settings, tmp_path: Path
) -> None:
    log = tmp_path / "kgctl.log"
    args = ["recommend", "-s", ",".join(SESSION[:3]), "-s", ",".join(SESSION[3:])]

    def recommend_three(*options: str) -> tuple[int, str]:
        log.write_text("")
        chosen = ("--run", retriever, "-k", "3", *options)
        code = run_kgctl(settings, *args, *chosen, output=log, KGSTORE_ARTIFACTS=store.url)
        return code, log.read_text()

    code, out = recommend_three("--paths", "1", "--json")
    assert code == 0, out
    printed = json.loads(out[out.index("{") :])
    direct = recommend_session(db, store, SESSION, retriever, k=3)
    assert printed["session"] == SESSION
    assert [rec["item"] for rec in printed["items"]] == [rec.item for rec in direct.items]
    # --paths cuts the JSON's paths as it cuts the table's (the JSON printed all of them)
    assert [(rec["paths"], rec["more_paths"]) for rec in printed["items"]] == [
        (rec.paths[:1], len(rec.paths[1:])) for rec in direct.items
    ]
    assert max(len(rec.paths) for rec in direct.items) >= 3  # something to cut
    code, table = recommend_three("--paths", "2")
    assert code == 0, table
    for rec in direct.items:
        assert all(path in table for path in rec.paths[:2])
        assert not any(path in table for path in rec.paths[2:])
        assert (f"(+{len(rec.paths) - 2} more)" in table) == (len(rec.paths) > 2)
    log.write_text("")
    code = run_kgctl(settings, *args, "--run", "no-such-run", output=log)
    assert code == 2 and "no-such-run" in log.read_text()


def test_kgctl_train_reranker_in_the_worker_records_its_run(
    db: Database, retriever: str, settings: Settings, tmp_path: Path
) -> None:
    config = tmp_path / "quick.toml"
    config.write_text("hidden_channels = 16\nmax_epochs = 2\n")
    log = tmp_path / "kgctl.log"
    code = run_kgctl(settings, "train", "reranker", "--config", str(config), output=log)
    assert code == 0, log.read_text()
    run = log.read_text().split("run ", 1)[1].split(":", 1)[0]
    [row] = db.query("MATCH (r:Run {id: $id}) RETURN r.status AS s, r.model AS m", id=run)
    assert row == {"s": "finished", "m": "sasrec-reranker"}
    assert recommend_session(db, ArtifactStore.from_settings(settings), SESSION, run, k=3).items


def test_checkpoints_that_cannot_serve_are_named(store: ArtifactStore) -> None:
    """No Neo4j needed: what `load_model` says of artifacts that are not our checkpoints."""
    weights = io.BytesIO()
    torch.save({"item_embedding.weight": torch.zeros(3, 2)}, weights)
    with pytest.raises(RecsysInputError, match="weights only"):
        load_model(store, store.put(weights.getvalue(), ".pt"))
    listed = io.BytesIO()
    torch.save([1, 2, 3], listed)
    with pytest.raises(RecsysInputError, match="holds no SASRec state"):
        load_model(store, store.put(listed.getvalue(), ".pt"))
    with pytest.raises(RecsysInputError, match="not a SASRec checkpoint"):
        load_model(store, store.put(b"", ".pt"))


def test_a_persona_run_older_than_the_interactions_is_refused_or_labelled(
    db: Database, store: ArtifactStore, retriever: str
) -> None:
    """Last in the module: it adds interactions to the planted graph. `kgctl recommend`
    and `kgctl train retriever` refuse the stale run, or label what they give."""
    assert recommend_session(db, store, SESSION, retriever, k=3).notes == []
    [run] = db.query("MATCH (r:Run {id: $id}) RETURN r.metrics AS m", id=retriever)
    persona_run = load_model(store, json.loads(run["m"])["checkpoint"]).persona_run
    learned = load_encoder(db, store, persona_run).snapshot.users[0]
    user = db.query(
        "MATCH (u:User {id: $id})-[r:RATED]->() RETURN u.id AS id, max(r.pos) AS last",
        id=learned,
    )[0]
    db.query(
        "MATCH (u:User {id: $id}) UNWIND [1, 2] AS extra MATCH (i:Item {id: 's-00'}) "
        "CREATE (u)-[:RATED {pos: $last + extra, rating: 5.0, orderAssumed: false}]->(i)",
        **user,
    )
    with pytest.raises(RecsysInputError, match=r"STALE: persona run .* 1 users changed"):
        recommend_session(db, store, SESSION, retriever, k=3)
    labelled = recommend_session(db, store, SESSION, retriever, k=3, allow_stale=True)
    assert len(labelled.items) == 3 and labelled.notes[0].startswith("STALE: persona run")
    # training a new retriever on the stale personas: the same refusal, the same label
    with pytest.raises(RecsysInputError, match="kgctl train retriever` also take"):
        train_model(db, store, Domain.MOVIES, ONE_ITEM_WINDOW)
    report = train_model(db, store, Domain.MOVIES, ONE_ITEM_WINDOW, allow_stale=True)
    assert report.notes[0].startswith("STALE: persona run")
