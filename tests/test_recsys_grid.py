"""The Table 3 grid against a real Neo4j: planted persona signal and its negative control,
determinism, the report files and `Run`, no held-out item in training, and refusals
before any training. Runs in file order: the control test replaces the planted graph."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from cli.app import app
from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.errors import ConfigError, PersonaError, RecsysInputError
from kgstore.generation.pipeline import generate_keywords
from kgstore.graph.clear import clear_graph
from kgstore.graph.mapping import Domain
from kgstore.paths import PROJECT_ROOT
from kgstore.personas.metapath2vec import MetaPath2VecConfig
from kgstore.personas.runner import train_personas
from kgstore.personas.stored import read_personas, stored_run
from kgstore.recsys.evaluation import evaluate_grid
from kgstore.recsys.grid import GridConfig, prepare_grid, run_grid
from kgstore.recsys.saved_ranks import RANKS_FILE
from kgstore.recsys.table import FILES, table_rows
from kgstore.schema import apply_schema
from kgstore.train.hdgi import HDGIConfig
from kgstore.train.sasrec import SASRecConfig
from tests.recsys_planted import write_planted

pytestmark = pytest.mark.slow

# A session of one item; the validation item carries no group, so the model is the one of
# the last epoch (evaluated only then), not one picked on noise.
SHORT = SASRecConfig(hidden_channels=32, max_len=1, max_epochs=60, eval_every=60, lr=5e-3)
KG_VS_NONE = GridConfig(
    rows=("none/random", "kg/random"), seeds=2, rerank="", anonymous=False, sasrec=SHORT
)
MARGIN = 0.08


def no_embedder():
    raise AssertionError("no row has user llm: the embedder must not be built")


def ndcg_gap(db: Database, store: ArtifactStore) -> float:
    """NDCG@10 of kg/random minus none/random over all users (mean over seeds)."""
    inputs = prepare_grid(db, store, Domain.MOVIES, KG_VS_NONE, no_embedder)
    rows = {row.config: row for row in table_rows(run_grid(inputs, KG_VS_NONE))}
    return rows["kg/random"].means["NDCG@10"].mean - rows["none/random"].means["NDCG@10"].mean


def fresh_planted(db: Database, store: ArtifactStore, planted: bool) -> None:
    clear_graph(db)
    apply_schema(db)
    write_planted(db, planted)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ArtifactStore:
    return ArtifactStore(str(tmp_path_factory.mktemp("artifacts")))


@pytest.fixture(scope="module")
def planted(db: Database, store: ArtifactStore) -> Database:
    fresh_planted(db, store, planted=True)
    train_personas(db, store, Domain.MOVIES, HDGIConfig())
    return db


def test_kg_personas_beat_none_when_the_session_cannot_reveal_the_group(
    planted: Database, store: ArtifactStore
) -> None:
    assert ndcg_gap(planted, store) > MARGIN


def test_same_seed_same_metrics(planted: Database, store: ArtifactStore) -> None:
    config = replace(KG_VS_NONE, seeds=1, sasrec=replace(SHORT, max_epochs=3))
    inputs = prepare_grid(planted, store, Domain.MOVIES, config, no_embedder)
    first, second = run_grid(inputs, config), run_grid(inputs, config)
    for name, row in first.rows.items():
        assert row.matrix.equal(second.rows[name].matrix), name


def test_no_validation_or_test_item_reaches_training(
    planted: Database, store: ArtifactStore
) -> None:
    inputs = prepare_grid(planted, store, Domain.MOVIES, KG_VS_NONE, no_embedder)
    split, data = inputs.split.split, inputs.split.data
    items, users = data.vocabulary.items, data.vocabulary.users
    train = data.train
    for row in range(len(train)):
        user = users[int(train.users[row])]
        length = int(train.lengths[row])
        seen = [items[i - 1] for i in train.items[row, :length].tolist()]
        seen.append(items[int(train.targets[row, length - 1]) - 1])
        history = split.train[user]
        # Each training window is a stretch of the user's training items, nothing else.
        assert any(
            history[start : start + len(seen)] == seen
            for start in range(len(history) - len(seen) + 1)
        )
    # Persona learning saw training interactions only, and none of the held-out users.
    assert inputs.personas is not None and inputs.personas.inferred
    snapshot = inputs.personas.encoder.snapshot
    learned = {(snapshot.users[u], snapshot.items[i]) for u, i in snapshot.rated.T.tolist()}
    assert learned and not learned & split.held_out_pairs()
    assert not {user for user, _ in learned} & inputs.personas.inferred
    stored = planted.query(
        "MATCH (u:User) WHERE u.persona_movies IS NOT NULL RETURN collect(u.id) AS ids"
    )[0]["ids"]
    assert not inputs.personas.inferred & set(stored)


def test_grid_writes_the_table_files_and_a_run(
    planted: Database, store: ArtifactStore, tmp_path: Path
) -> None:
    generate_keywords(planted, None, Domain.MOVIES)
    # Every planted user has 20 training items: all are in this cold-start slice.
    config = GridConfig(seeds=2, cold_start=20, sasrec=replace(SHORT, max_epochs=2))
    report = evaluate_grid(planted, store, tmp_path, Domain.MOVIES, config)
    directory = Path(report.directory)
    assert sorted(path.name for path in directory.iterdir()) == sorted([*FILES, RANKS_FILE])
    table = json.loads((directory / "table3.json").read_text())
    shown = {(row["slice"], row["config"]) for row in table["rows"]}
    for row in ("none/random", "none/description", "random/description", "llm/description",
                "kg/description", "rerank kg/description by none/random"):  # fmt: skip
        assert ("all users", row) in shown and ("cold-start", row) in shown
    assert ("anonymous session", "kg/description (anonymous session)") in shown
    assert "non-LLM text" in table["labels"]["user llm"]
    rerank = next(r for r in table["rows"] if r["config"].startswith("rerank"))
    retriever = next(r for r in table["rows"] if r["config"] == "kg/description")
    assert rerank["metrics"]["HR@100"] == retriever["metrics"]["HR@100"]
    [run] = planted.query(
        "MATCH (r:Run {id: $id}) RETURN r.kind AS kind, r.status AS status, r.metrics AS m",
        id=report.run,
    )
    assert (run["kind"], run["status"]) == ("evaluate", "finished")
    assert json.loads(run["m"])["artifacts"] == str(directory)
    assert "| none/random |" in report.markdown


def test_an_unchanged_persona_run_is_reused_and_no_reuse_trains_the_same_again(
    planted: Database, store: ArtifactStore
) -> None:
    hdgi_runs = "MATCH (r:Run {model: 'hdgi'}) RETURN count(r) AS n"
    before = planted.query(hdgi_runs)[0]["n"]
    stored = stored_run(planted, Domain.MOVIES)
    personas = read_personas(planted, Domain.MOVIES, stored)
    again = train_personas(planted, store, Domain.MOVIES, HDGIConfig())
    assert again.reused and again.run == stored and again.fingerprint
    assert planted.query(hdgi_runs)[0]["n"] == before
    trained = train_personas(planted, store, Domain.MOVIES, HDGIConfig(), reuse=False)
    assert not trained.reused and trained.run != stored
    assert trained.fingerprint == again.fingerprint  # the same inputs, trained again:
    retrained = read_personas(planted, Domain.MOVIES, trained.run)
    assert retrained.keys() == personas.keys()
    assert all(np.array_equal(retrained[user], personas[user]) for user in personas)
    other = train_personas(planted, store, Domain.MOVIES, HDGIConfig(epochs=3))
    assert not other.reused and other.fingerprint != again.fingerprint
    # The stored personas are now `other`'s: the first run is not reused any more.
    back = train_personas(planted, store, Domain.MOVIES, HDGIConfig())
    assert not back.reused and back.fingerprint == again.fingerprint


def test_an_unchanged_grid_is_reused_and_any_change_trains_again(
    planted: Database, store: ArtifactStore, tmp_path: Path
) -> None:
    config = replace(KG_VS_NONE, seeds=1, label="A test grid.", sasrec=replace(SHORT, max_epochs=2))
    first = evaluate_grid(planted, store, tmp_path, Domain.MOVIES, config)
    assert "s on cpu.\n\n- A test grid.\n" in first.markdown  # the label: the first line
    second = evaluate_grid(planted, store, tmp_path, Domain.MOVIES, config)
    assert first.reused_from is None and second.reused_from == first.run
    assert second.run != first.run and second.markdown == first.markdown
    assert (second.directory, second.files) == (first.directory, first.files)
    [run] = planted.query(
        "MATCH (r:Run {id: $id}) RETURN r.status AS status, r.reusedFrom AS origin, r.metrics AS m",
        id=second.run,
    )
    assert (run["status"], run["origin"]) == ("finished", first.run)
    assert json.loads(run["m"])["reused_from"] == first.run
    rows = json.loads(Path(first.files["json"]).read_text())["rows"]
    forced = evaluate_grid(planted, store, tmp_path, Domain.MOVIES, config, reuse=False)
    assert forced.reused_from is None and forced.directory != first.directory
    assert json.loads(Path(forced.files["json"]).read_text())["rows"] == rows
    more = evaluate_grid(planted, store, tmp_path, Domain.MOVIES, replace(config, seeds=2))
    assert more.reused_from is None
    double = (
        "MATCH (u:User) WHERE u.persona_movies IS NOT NULL WITH u ORDER BY u.id LIMIT 1 "
        "SET u.persona_movies = [x IN u.persona_movies | x * 2]"
    )
    planted.query(double)
    moved = evaluate_grid(planted, store, tmp_path, Domain.MOVIES, config)
    assert moved.reused_from is None  # one stored persona changed: the inputs are others
    planted.query(double.replace("* 2", "/ 2"))  # exact: the personas as the run wrote them


def test_persona_runs_and_baselines_are_rows_of_one_grid(
    planted: Database, store: ArtifactStore
) -> None:
    """`kg:<run>` is an older persona run's personas, exactly as it wrote them back;
    `mean` and `untrained` need no training, `metapath2vec` is learnt on the latest run's
    graph; all train side by side in one grid."""
    [first] = planted.query(
        "MATCH (r:Run {model: 'hdgi', status: 'finished'}) RETURN r.id AS id "
        "ORDER BY r.finishedAt DESC LIMIT 1"
    )
    stored = prepare_grid(planted, store, Domain.MOVIES, KG_VS_NONE, no_embedder)
    later = train_personas(planted, store, Domain.MOVIES, HDGIConfig(seed=1))
    rows = (
        "none/random",
        f"kg:{first['id']}/random",
        "kg/random",
        "mean/random",
        "untrained/random",
        "metapath2vec/random",
    )
    config = GridConfig(rows=rows, seeds=1, rerank="", sasrec=replace(SHORT, max_epochs=2))
    inputs = prepare_grid(planted, store, Domain.MOVIES, config, no_embedder)
    vectors = inputs.user_vectors
    older = vectors[f"kg:{first['id']}"]
    assert torch.allclose(older, stored.user_vectors["kg"], atol=1e-6)
    assert inputs.personas is not None and inputs.personas.run == first["id"]
    assert not torch.allclose(vectors["kg"], older)  # the later run's, another seed
    assert inputs.labels["user kg"].startswith(f"HDGI personas of run {later.run}")
    assert vectors["untrained"].shape == older.shape
    assert not torch.allclose(vectors["untrained"], older, atol=1e-3)
    assert vectors["metapath2vec"].shape == (len(older), MetaPath2VecConfig().embedding_dim)
    assert inputs.labels["user metapath2vec"].startswith("MetaPath2Vec vectors (UIEIU walks)")
    assert f"of run {later.run}" in inputs.labels["user metapath2vec"]
    split = inputs.split
    user = split.vocabulary.users[0]
    index = split.vocabulary.item_index()
    expected = torch.stack([inputs.item_features[index[i]] for i in split.split.train[user]])
    assert torch.allclose(vectors["mean"][0], expected.mean(dim=0), atol=1e-6)
    shown = {row.config for row in table_rows(run_grid(inputs, config))}
    assert set(rows) | {f"kg:{first['id']}/random (anonymous session)"} <= shown
    with pytest.raises(PersonaError, match="row user kg:no-such-run"):
        only = ("none/random", "kg:no-such-run/random")
        missing = GridConfig(rows=only, rerank="", anonymous=False)
        prepare_grid(planted, store, Domain.MOVIES, missing, no_embedder)
    with pytest.raises(ConfigError, match="row 'kg:/random'"):
        GridConfig(rows=("none/random", "kg:/random"))


def test_bad_input_is_refused_before_training(
    planted: Database, store: ArtifactStore, tmp_path: Path
) -> None:
    # A refusal while reading closes the run as failed (tests/test_grid_runs.py): no other.
    runs = "MATCH (r:Run {kind: 'evaluate'}) WHERE r.status <> 'failed' RETURN count(r) AS n"
    before = planted.query(runs)[0]["n"]
    with pytest.raises(RecsysInputError, match="fewer than the 100000"):
        evaluate_grid(planted, store, tmp_path, Domain.MOVIES, GridConfig(min_users=100_000))
    with pytest.raises(RecsysInputError, match="users with at least 3"):
        evaluate_grid(planted, store, tmp_path, Domain.BOOKS, GridConfig())
    bad = tmp_path / "grid.toml"
    bad.write_text("seeds = 2\n[sasrec]\ndropuot = 0.5\n")
    with pytest.raises(ConfigError, match="unknown key 'dropuot'"):
        GridConfig.from_file(bad)
    bad.write_text("seedz = 2\n")
    with pytest.raises(ConfigError, match="unknown key 'seedz'"):
        GridConfig.from_file(bad)
    with pytest.raises(ConfigError, match="row 'kg/text'"):
        GridConfig(rows=("none/random", "kg/text"))
    result = CliRunner().invoke(app, ["evaluate", "--grid", "table3", "--domain", "music"])
    assert result.exit_code == 2 and "music" in result.output
    assert planted.query(runs)[0]["n"] == before


def test_without_a_planted_signal_kg_does_not_beat_none(
    db: Database, store: ArtifactStore, tmp_path: Path
) -> None:
    fresh_planted(db, store, planted=False)
    with pytest.raises(PersonaError, match="kgctl train hdgi --domain movies"):
        evaluate_grid(db, store, tmp_path, Domain.MOVIES, KG_VS_NONE)
    train_personas(db, store, Domain.MOVIES, HDGIConfig())
    assert ndcg_gap(db, store) < MARGIN / 2


@pytest.mark.parametrize("name", ["table3.toml", "table3-demo.toml", "table3-sessions.toml"])
def test_shipped_grid_configs_parse_with_the_paper_settings(name: str) -> None:
    """The configs the README and `make demo` name: strict parse, paper model settings; a
    grid that departs from the paper's protocol (the quick demo's loss and seeds) says so
    in its label, which every table carries."""
    config = GridConfig.from_file(PROJECT_ROOT / "configs" / name)
    assert config.rows == GridConfig().rows
    paper_protocol = config.seeds >= 3 and config.sasrec.loss == "ce"
    assert paper_protocol or ("sampled softmax" in config.label and "table3.toml" in config.label)
    paper = SASRecConfig()
    assert (config.sasrec.hidden_channels, config.sasrec.num_blocks, config.sasrec.lr) == (
        paper.hidden_channels,
        paper.num_blocks,
        paper.lr,
    )
    assert config.sasrec.min_epochs <= config.sasrec.max_epochs
