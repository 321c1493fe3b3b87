"""SASRec, its data and its training loop on small synthetic data (no services)."""

import itertools
import random
import re
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from kgstore.errors import ConfigError, ModelDiverged
from kgstore.graph.sequences import Interaction, Sequences
from kgstore.graph.split import LeaveOneOut
from kgstore.models import SASRec
from kgstore.ranking.data import SequenceTensors, Vocabulary, sequence_data
from kgstore.ranking.evaluate import NO_CANDIDATE, evaluate, rerank, retrieve
from kgstore.train.sasrec import SASRecConfig, build_model, train_sasrec

ITEMS = 50
SMALL = {"hidden_channels": 32, "batch_size": 64, "max_len": 20, "ks": [10], "patience": 3}


def split_of(sequences: dict[str, list[str]]) -> LeaveOneOut:
    by_user = {u: [Interaction(u, item) for item in items] for u, items in sequences.items()}
    return LeaveOneOut.of(Sequences(by_user, order_assumed=False))


def rule_sequences(users: int, seed: int) -> dict[str, list[str]]:
    """Each user walks the items in order from a random start: next = (prev + 1) mod n."""
    rng = random.Random(seed)
    out = {}
    for u in range(users):
        start, length = rng.randrange(ITEMS), rng.randint(6, 14)
        out[f"u{u:03d}"] = [f"i{(start + t) % ITEMS:02d}" for t in range(length)]
    return out


def shuffled(sequences: dict[str, list[str]], seed: int) -> dict[str, list[str]]:
    """The control: every interaction of the data set shuffled across users and positions
    (same lengths, same item counts), so no order or co-occurrence is left to learn."""
    pool = [item for items in sequences.values() for item in items]
    random.Random(seed).shuffle(pool)
    out, at = {}, 0
    for user, items in sequences.items():
        out[user], at = pool[at : at + len(items)], at + len(items)
    return out


def test_sequence_tensors_by_hand() -> None:
    split = split_of({"a": ["x", "y", "z", "x", "w"], "b": ["y", "z"]})
    data = sequence_data(split, Vocabulary(("w", "x", "y", "z"), ("a", "b")), max_len=4)
    # a: train x y z (x, w held out); b: too short, trains on y -> z, is not evaluated.
    assert data.train.items.tolist() == [[2, 3, 0, 0], [3, 0, 0, 0]]
    assert data.train.targets.tolist() == [[3, 4, 0, 0], [4, 0, 0, 0]]
    assert data.validation.items.tolist() == [[2, 3, 4, 0]]
    assert data.validation.positives.tolist() == [2]
    assert data.test.items.tolist() == [[2, 3, 4, 2]]
    assert data.test.positives.tolist() == [1]
    assert data.test.history.tolist() == [[2, 3, 4]]  # x once, though seen twice
    with pytest.raises(ValueError, match="'w' is not in the vocabulary"):
        sequence_data(split, Vocabulary(("x", "y", "z"), ("a", "b")))


def test_held_out_pairs_are_the_interactions_persona_learning_must_not_see() -> None:
    """A validation or test item the user also had in training is a training interaction
    (persona learning may hold it); one that only occurs held out is held out, once,
    whether it is the validation item, the test item or both."""
    split = split_of(
        {
            "repeat": ["a", "b", "a", "b"],  # validation a and test b both repeat training
            "new": ["a", "b", "c", "d"],  # validation c and test d never trained on
            "twice": ["a", "b", "e", "e"],  # e held out twice: one pair
            "short": ["a", "f"],  # too short to evaluate: all training
        }
    )
    assert split.held_out_pairs() == {("new", "c"), ("new", "d"), ("twice", "e")}
    training = set(split.training_pairs())
    assert ("repeat", "a") in training and ("short", "f") in training
    assert not training & split.held_out_pairs()


def test_long_sequences_keep_their_last_items() -> None:
    items = [f"i{t:02d}" for t in range(12)]
    data = sequence_data(split_of({"a": items}), max_len=5)
    index = data.vocabulary.item_index()
    assert data.test.items.tolist() == [[index[i] for i in items[6:11]]]


def test_every_training_transition_is_a_target_at_any_window() -> None:
    """`max_len` is the model's window, not a cut of the data: a short window trains on the
    same (input item, target) transitions as a long one, each exactly once."""
    sequences = rule_sequences(40, seed=3)
    split = split_of(sequences)
    expected = sorted(
        (user, a, b) for user, items in split.train.items() for a, b in itertools.pairwise(items)
    )

    def transitions(max_len: int) -> list[tuple[str, str, str]]:
        data = sequence_data(split, max_len=max_len)
        vocab, train = data.vocabulary, data.train
        pairs = []
        for user, row, target in zip(train.users, train.items, train.targets, strict=True):
            for a, b in zip(row.tolist(), target.tolist(), strict=True):
                if b:
                    pairs.append((vocab.users[int(user)], vocab.items[a - 1], vocab.items[b - 1]))
        return sorted(pairs)

    assert transitions(50) == expected
    assert transitions(5) == expected
    assert transitions(1) == expected
    windows = sequence_data(split, max_len=5).train
    assert int(windows.lengths.max()) == 5 and len(windows) > len(split.train)


@pytest.fixture(scope="module")
def rule_data():
    return sequence_data(split_of(rule_sequences(300, seed=1)), max_len=20)


@pytest.fixture(scope="module")
def rule_result(rule_data):
    return train_sasrec(SASRecConfig.from_dict({**SMALL, "max_epochs": 40}), rule_data)


def test_learns_a_sequence_rule_that_a_shuffled_control_cannot(rule_result) -> None:
    assert rule_result.validation.means()["HR@10"] > 0.9
    assert rule_result.test.means()["HR@10"] > 0.9
    control = train_sasrec(
        SASRecConfig.from_dict({**SMALL, "max_epochs": 15}),
        sequence_data(split_of(shuffled(rule_sequences(300, seed=1), seed=2)), max_len=20),
    )
    chance = 10 / ITEMS
    assert control.test.means()["HR@10"] < chance + 0.15


def test_same_seed_same_metrics_other_seed_other_metrics(rule_data) -> None:
    def run(seed: int) -> torch.Tensor:
        config = SASRecConfig.from_dict({**SMALL, "max_epochs": 2, "seed": seed})
        return train_sasrec(config, rule_data).test.rank

    first = run(0)
    assert torch.equal(first, run(0))
    assert not torch.equal(first, run(1))


def test_early_stopping_waits_for_min_epochs(rule_data) -> None:
    """With a learning rate too small to move validation NDCG@10, no epoch after the first
    improves on it: patience alone stops after 1 + patience epochs, `min_epochs` later."""
    frozen = {**SMALL, "max_epochs": 12, "patience": 1, "lr": 1e-12}

    def epochs(min_epochs: int) -> list[int]:
        result = train_sasrec(
            SASRecConfig.from_dict({**frozen, "min_epochs": min_epochs}), rule_data
        )
        assert result.best_epoch == 1
        return [record.epoch for record in result.history]

    assert epochs(0) == [1, 2]
    assert epochs(6) == [1, 2, 3, 4, 5, 6]
    with pytest.raises(ValueError, match="min_epochs"):
        SASRecConfig(min_epochs=-1)


def test_bce_with_sampled_negatives_also_learns(rule_data) -> None:
    config = SASRecConfig.from_dict({**SMALL, "max_epochs": 40, "loss": "bce"})
    assert train_sasrec(config, rule_data).validation.means()["HR@10"] > 0.8


def test_sampled_softmax_learns_and_is_not_the_full_softmax(rule_data) -> None:
    config = {**SMALL, "max_epochs": 40, "loss": "sampled_ce", "num_negatives": 8}
    sampled = train_sasrec(SASRecConfig.from_dict(config), rule_data)
    assert sampled.validation.means()["HR@10"] > 0.8
    full = train_sasrec(SASRecConfig.from_dict({**config, "loss": "ce"}), rule_data)
    assert [r.loss for r in sampled.history] != [r.loss for r in full.history]


def test_sampled_softmax_over_every_item_is_the_full_softmax() -> None:
    """With all n items as the shared negatives, each position's softmax holds its target
    once (the copy among the negatives is masked): exactly full cross-entropy."""
    torch.manual_seed(0)
    model = SASRec(20, 16, dropout=0.0)
    seq = torch.tensor([[3, 7, 1, 9, 0], [4, 2, 0, 0, 0]])
    targets = torch.tensor([[7, 1, 9, 5, 0], [2, 8, 0, 0, 0]])
    h = model(seq)
    every = torch.randperm(20) + 1
    assert torch.allclose(model.sampled_softmax_loss(h, targets, every), model.loss(h, targets))
    # A few negatives: a different (smaller) loss, never the full one.
    few = model.sampled_softmax_loss(h, targets, every[:3])
    assert few < model.loss(h, targets)


def test_unknown_config_key_is_refused_naming_key_and_file(tmp_path: Path) -> None:
    path = tmp_path / "sasrec.toml"
    path.write_text("hidden_channels = 64\ndropuot = 0.5\n")
    with pytest.raises(ConfigError, match=r"sasrec\.toml: unknown key 'dropuot'"):
        SASRecConfig.from_file(path)
    path.write_text('hidden_channels = "64"\n')
    with pytest.raises(ConfigError, match="hidden_channels must be int"):
        SASRecConfig.from_file(path)
    json_path = tmp_path / "sasrec.json"
    json_path.write_text('{"loss": "bpr"}')
    with pytest.raises(ConfigError, match="loss must be one of"):
        SASRecConfig.from_file(json_path)


def test_padding_after_a_sequence_changes_nothing() -> None:
    torch.manual_seed(0)
    model = SASRec(20, 16, num_heads=2, max_len=30).eval()
    short = torch.tensor([[3, 7, 1, 9, 0], [4, 2, 0, 0, 0]])
    wide = torch.cat([short, torch.zeros(2, 25, dtype=torch.long)], dim=1)
    assert torch.allclose(model(short)[0, :4], model(wide)[0, :4], atol=1e-6)
    assert torch.allclose(model(short)[1, :2], model(wide)[1, :2], atol=1e-6)


def test_evaluation_does_not_depend_on_batching(rule_result, rule_data) -> None:
    one = evaluate(rule_result.model, rule_data.test, (10,), batch_size=1)
    many = evaluate(rule_result.model, rule_data.test, (10,), batch_size=1000)
    assert torch.equal(one.rank, many.rank)
    assert torch.equal(many.rank, rule_result.test.rank)


@pytest.mark.parametrize("kind", ["table", "vector"])
def test_the_user_representation_changes_the_scores(kind: str) -> None:
    torch.manual_seed(0)
    if kind == "table":
        model = SASRec(20, 16, num_users=2).eval()
        users = torch.tensor([0, 1])
    else:
        model = SASRec(20, 16, user_channels=8).eval()
        users = torch.randn(2, 8)
    seq = torch.tensor([[3, 7, 1], [3, 7, 1]])
    scores = model.score(model(seq, users)[:, -1])
    assert not torch.allclose(scores[0, 1:], scores[1, 1:])
    with pytest.raises(ValueError, match="pass `user`"):
        model(seq)


def test_item_features_are_the_item_representation() -> None:
    features = torch.randn(21, 8)
    model = SASRec(20, 16, item_features=features).eval()
    assert model.item_embedding is None
    assert model.item_representations().shape == (21, 16)
    features[1] += 1.0  # the model keeps its own frozen copy
    assert not torch.equal(model.item_features[1], features[1])
    assert model.score(model(torch.tensor([[1, 2]]))[:, -1])[0, 0] == float("-inf")


def test_description_starts_the_item_table_from_the_texts_by_default() -> None:
    """`item_text = init`: a free table whose start follows the texts (items with the same
    text start equal, unlike ones with other texts), at the random start's spread;
    `projection`: the frozen texts behind a linear map."""
    torch.manual_seed(0)
    features = torch.randn(21, 40)
    features[0] = 0.0
    features[2] = features[1]
    config = SASRecConfig(item="description", hidden_channels=16)
    model = build_model(config, 20, 5, item_features=features)
    table = model.item_embedding.weight.detach()
    assert model.item_projection is None and model.item_embedding.weight.requires_grad
    assert torch.equal(table[0], torch.zeros(16))
    assert torch.allclose(table[1], table[2]) and not torch.allclose(table[1], table[3])
    random_start = build_model(SASRecConfig(hidden_channels=16), 20, 5).item_embedding.weight
    assert table[1:].std().item() == pytest.approx(random_start[1:].std().item(), rel=0.3)
    projected = build_model(replace(config, item_text="projection"), 20, 5, item_features=features)
    assert projected.item_embedding is None and projected.item_projection is not None


def test_reranking_keeps_the_retrievers_hits_and_misses_the_rest(rule_result, rule_data) -> None:
    model, test = rule_result.model, rule_data.test
    candidates = retrieve(model, test, k=5)
    full = evaluate(model, test, (5,)).rank
    reranked = rerank(model, test, candidates, ks=(5,)).rank
    inside = full <= 5
    # The same model as reranker keeps each ranking; a positive outside the 5 is a miss.
    assert torch.equal(reranked[inside], full[inside])
    assert torch.isinf(reranked[~inside]).all()
    assert "reranked" in rerank(model, test, candidates, ks=(5,)).name("HR", 5)


def test_a_diverged_model_is_an_error_naming_row_seed_and_epoch(rule_data) -> None:
    """NaN scores used to rank every positive first: HR 1."""
    features = torch.full((rule_data.vocabulary.num_items + 1, 4), float("nan"))
    config = SASRecConfig.from_dict(
        {**SMALL, "max_epochs": 2, "item": "description", "item_text": "projection", "seed": 7}
    )
    with pytest.raises(ModelDiverged) as excinfo:
        train_sasrec(config, rule_data, item_features=features)
    message = str(excinfo.value)
    assert "row none/description, seed 7, epoch 1, validation" in message
    assert re.search(r"evaluation row \d+ \(user index \d+\)", message)
    assert "300 of 300 rows; its positive scored nan" in message


def constant_model(num_items: int, order: float = 1.0) -> SASRec:
    """A SASRec that scores item i as `order * i` (later items first for order 1, earlier
    ones for -1), whatever the sequence: the item table's first channel is the scaled item
    index, the hidden state a constant."""
    model = SASRec(num_items, 4, dropout=0.0).eval()
    with torch.no_grad():
        model.item_embedding.weight.zero_()
        model.item_embedding.weight[:, 0] = order * torch.arange(num_items + 1).float()
    model.forward = lambda seq, user=None: torch.ones(*seq.shape, 4)  # type: ignore[method-assign]
    return model


def test_history_exclusion_keeps_the_positive_and_never_offers_padding() -> None:
    """Retrieval with the history left out kept the positive out when it repeated a history
    item (a miss at every cutoff), and offered the padding item when fewer than K were left."""
    model = constant_model(6)
    # Two users; history {6, 5} for both; the first user's positive 6 repeats its history.
    seqs = SequenceTensors(
        items=torch.tensor([[6, 5], [5, 6]]),
        lengths=torch.tensor([2, 2]),
        users=torch.tensor([0, 1]),
        positives=torch.tensor([6, 4]),
        history=torch.tensor([[6, 5], [5, 6]]),
    )
    candidates = retrieve(model, seqs, k=6, exclude_history=True)
    # Items 1-4 are left (and the repeated positive 6 of the first user); the rest is empty.
    assert candidates.tolist() == [[6, 4, 3, 2, 1, NO_CANDIDATE], [4, 3, 2, 1, -1, -1]]
    full = evaluate(model, seqs, (3,), exclude_history=True).rank
    reranked = rerank(model, seqs, candidates, ks=(3,), history_excluded=True).rank
    assert full.tolist() == reranked.tolist() == [1.0, 1.0]
    kept = retrieve(model, seqs, k=6)
    assert 0 not in kept.tolist()[0] and kept.tolist()[0][:2] == [6, 5]


def test_the_reranker_orders_the_retrievers_candidates_by_its_own_scores() -> None:
    """Retriever: later items first; reranker: earlier items first. The positive's rank is
    its place in the reranker's order of the retriever's top 4, so a reranker that kept
    the retriever's order (or ignored its own scores) would give other ranks."""
    retriever, reranker = constant_model(10), constant_model(10, order=-1.0)
    seqs = SequenceTensors(
        items=torch.tensor([[1], [1], [1], [1]]),
        lengths=torch.tensor([1, 1, 1, 1]),
        users=torch.tensor([0, 1, 2, 3]),
        positives=torch.tensor([10, 9, 7, 3]),
        history=torch.tensor([[1], [1], [1], [1]]),
    )
    candidates = retrieve(retriever, seqs, k=4)
    assert candidates.tolist() == [[10, 9, 8, 7]] * 4
    # Reranked order 7, 8, 9, 10: item 10 last (4), 9 third, 7 first; 3 was not retrieved.
    reranked = rerank(reranker, seqs, candidates, ks=(4,)).rank
    assert reranked.tolist() == [4.0, 3.0, 1.0, float("inf")]
    kept = rerank(retriever, seqs, candidates, ks=(4,)).rank
    assert kept.tolist() == [1.0, 2.0, 4.0, float("inf")]


def test_chunked_cross_entropy_equals_the_plain_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from kgstore.models import sasrec

    monkeypatch.setattr(sasrec._SoftmaxCrossEntropy, "CHUNK_BYTES", 4 * 21 * 3)  # 3 rows
    torch.manual_seed(0)
    model = SASRec(20, 16, dropout=0.0)
    seq = torch.tensor([[3, 7, 1, 9, 0], [4, 2, 0, 0, 0]])
    targets = torch.tensor([[7, 1, 9, 5, 0], [2, 8, 0, 0, 0]])
    chunked = model.loss(model(seq), targets)
    chunked.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    h = model(seq)
    real = targets != 0
    plain = torch.nn.functional.cross_entropy(model.score(h[real]), targets[real])
    plain.backward()
    assert torch.allclose(chunked, plain, atol=1e-6)
    for got, want in zip(grads, (p.grad for p in model.parameters()), strict=True):
        assert torch.allclose(got, want, atol=1e-6)


def test_same_seed_same_weights_on_two_threads(rule_data) -> None:
    """Bit for bit, not only the same ranks: the sampled softmax's `weight[targets]` over
    a batch's repeated targets accumulated its gradient in thread order without
    `deterministic_kernels`."""
    config = SASRecConfig.from_dict(
        {**SMALL, "max_epochs": 3, "loss": "sampled_ce", "num_negatives": 32, "batch_size": 256}
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        runs = [train_sasrec(config, rule_data) for _ in range(3)]
    finally:
        torch.set_num_threads(threads)
    first = runs[0]
    for other in runs[1:]:
        assert [r.loss for r in other.history] == [r.loss for r in first.history]
        assert all(torch.equal(first.best_state[k], other.best_state[k]) for k in first.best_state)
