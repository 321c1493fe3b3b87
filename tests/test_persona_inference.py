"""The persona encoder on a planted graph (tests/persona_planted.py, two meta-paths).

A persona depends on its user's (or session's) items only, never on what else is encoded
with it: the semantic-attention weights are fixed after training and stored with the
encoder (issue 18, section 4); the persona run is mini-batch, so batching would show if
it changed a row. And training is what finds the planted groups: the same encoder with
its initial weights does not."""

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.export.reader import export_snapshot
from kgstore.graph.clear import clear_graph
from kgstore.graph.mapping import Domain
from kgstore.graph.sequences import read_sequences
from kgstore.graph.split import LeaveOneOut
from kgstore.personas.checkpoint import get_checkpoint
from kgstore.personas.infer import PersonaEncoder, fitted_model, infer_personas, load_encoder
from kgstore.personas.runner import PersonaReport, train_personas
from kgstore.ranking.data import sequence_data
from kgstore.recsys.inputs import DomainSplit, persona_vectors
from kgstore.recsys.recommend import recommend_session
from kgstore.recsys.single import train_model
from kgstore.schema import apply_schema
from kgstore.train import hdgi
from kgstore.train.sasrec import SASRecConfig
from tests.persona_planted import GROUPS, NEIGHBOURS, OWN, POOL, write_structure_planted

pytestmark = pytest.mark.slow

PERSONAS = hdgi.HDGIConfig(epochs=30, batch_size=96)
"""Mini-batch: before the fix each batch's personas were fused with that batch's beta."""
KG_RETRIEVER = SASRecConfig(
    user="kg", item="random", hidden_channels=16, max_len=3, max_epochs=2, eval_every=2
)
SESSION = ["u0005-00", "g1-00", "u0005-01", "g1-01", "g1-02"]


@dataclass(frozen=True)
class Trained:
    """A persona run on the planted graph, its artifact store and its loaded encoder."""

    store: ArtifactStore
    report: PersonaReport
    encoder: PersonaEncoder


def other_sessions(count: int, seed: int) -> list[list[str]]:
    """Sessions of 2 to 8 items of the planted catalogue, of every group."""
    rng = np.random.default_rng(seed)
    catalogue = [f"g{g}-{j:02d}" for g in range(GROUPS) for j in range(POOL)]
    catalogue += [f"u{u:04d}-{k:02d}" for u in range(40) for k in range(OWN)]
    return [
        list(rng.choice(catalogue, size=int(rng.integers(2, 9)), replace=False))
        for _ in range(count)
    ]


@pytest.fixture(scope="module")
def trained(db: Database, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    store = ArtifactStore(str(tmp_path_factory.mktemp("artifacts")))
    clear_graph(db)
    apply_schema(db)
    write_structure_planted(db, genres=True)
    report = train_personas(db, store, Domain.MOVIES, PERSONAS)
    return Trained(store, report, load_encoder(db, store, report.run))


def test_a_session_alone_equals_the_session_among_a_hundred(trained: Trained) -> None:
    [alone] = infer_personas(trained.encoder, [SESSION])
    crowd = other_sessions(100, seed=0)
    among = infer_personas(trained.encoder, [*crowd[:37], SESSION, *crowd[37:]])
    assert np.allclose(among[37], alone, rtol=0, atol=1e-6), np.abs(among[37] - alone).max()
    # a crowd of one other group only: still the same persona
    together = infer_personas(trained.encoder, [SESSION] + [[f"g3-{j:02d}" for j in range(6)]] * 5)
    assert np.allclose(together[0], alone, rtol=0, atol=1e-6)


def test_kgctl_recommend_scores_with_the_same_persona(db: Database, trained: Trained) -> None:
    retriever = train_model(db, trained.store, Domain.MOVIES, KG_RETRIEVER).run
    result = recommend_session(db, trained.store, SESSION, retriever, k=3)
    assert result.persona_run == trained.report.run and result.persona is not None
    [alone] = infer_personas(trained.encoder, [SESSION])
    assert np.allclose(np.asarray(result.persona), alone, rtol=0, atol=1e-6)


def test_stored_personas_are_the_encoders_under_its_stored_weights(
    db: Database, trained: Trained
) -> None:
    """What was written back for the training users is what the stored encoder gives them
    in one full batch; the run's recorded weights are the ones it fuses with."""
    encoder = trained.encoder
    leave_one_out = LeaveOneOut.of(read_sequences(db, Domain.MOVIES))
    split = DomainSplit(Domain.MOVIES, leave_one_out, sequence_data(leave_one_out))
    personas = persona_vectors(db, trained.store, Domain.MOVIES, split)
    rows = {user: row for row, user in enumerate(split.vocabulary.users)}
    stored = personas.vectors.numpy()[[rows[user] for user in encoder.snapshot.users]]
    again = hdgi.encode_users(encoder.model, encoder.graph, 0, "cpu")
    assert np.allclose(stored, again, rtol=0, atol=1e-6), np.abs(stored - again).max()
    assert encoder.model.semantic_weights() == pytest.approx(trained.report.semantic_weights)


def test_a_checkpoint_without_stored_weights_derives_them_from_its_graph(
    db: Database, trained: Trained
) -> None:
    """Checkpoints written before beta was stored: the model loads unfitted and
    `load_encoder` fits beta over the run's training users, as training does."""
    checkpoint = get_checkpoint(trained.store, trained.report.checkpoint)
    checkpoint.state = {k: v for k, v in checkpoint.state.items() if k != "semantic_beta"}
    with pytest.raises(RuntimeError, match="not fitted"):
        checkpoint.model().semantic_weights()
    derived = fitted_model(checkpoint, trained.encoder.graph)
    assert derived.semantic_weights() == pytest.approx(trained.report.semantic_weights, abs=1e-6)


def neighbour_agreement(vectors: np.ndarray, groups: np.ndarray, k: int = 10) -> float:
    """Share of each user's `k` nearest users (cosine, centred) in its own planted group;
    chance is 1 / GROUPS."""
    centred = vectors - vectors.mean(axis=0)
    unit = centred / (np.linalg.norm(centred, axis=1, keepdims=True) + 1e-12)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argsort(-similarity, axis=1)[:, :k]
    return float(np.mean(groups[nearest] == groups[:, None]))


def test_training_finds_groups_the_untrained_encoder_does_not(
    db: Database, trained: Trained
) -> None:
    """The planted group is in what meta-path partners share, not in a user's own items:
    the same encoder (same seed, same initial weights) must be trained to show it.
    Measured: mean item vectors 0.38, untrained 0.69, trained 0.98 (chance 0.25); with
    one epoch of training 0.69."""
    snapshot = export_snapshot(db, Domain.MOVIES)
    planted = db.query(
        "MATCH (u:User) WHERE u.id IN $ids RETURN u.id AS id, u.plantedGroup AS g",
        ids=snapshot.users,
    )
    group_of = {row["id"]: row["g"] for row in planted}
    groups = np.array([group_of[user] for user in snapshot.users])
    config = hdgi.HDGIConfig(metapaths=("UIU",), neighbours=NEIGHBOURS)
    graph = hdgi.persona_graph(snapshot, config)
    [uiu] = graph.paths
    items_alone = neighbour_agreement(uiu.user_to_mid @ graph.features["Item"], groups)

    torch.manual_seed(config.seed)  # as train_hdgi starts: the same initial weights
    untrained = hdgi.build_model(graph.in_channels, ["UIU"], config)
    hdgi.fit_semantic_weights(untrained, graph, 0, "cpu")
    before = neighbour_agreement(hdgi.encode_users(untrained, graph, 0, "cpu"), groups)
    after = neighbour_agreement(hdgi.train_hdgi(graph, config).personas, groups)

    assert items_alone < 0.5 and before < 0.8, (items_alone, before, after)
    assert after > 0.9 and after > before + 0.15, (items_alone, before, after)
