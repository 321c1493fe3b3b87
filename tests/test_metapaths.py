"""Splitting hub nodes in the meta-path build: what stays exact, what is bounded."""

import io
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from kgstore.artifacts import ArtifactStore
from kgstore.errors import ConfigError
from kgstore.personas.checkpoint import SUFFIX, get_checkpoint
from kgstore.train.config import config_from_file
from kgstore.train.hdgi import HDGIConfig
from kgstore.train.metapaths import build_metapath, pair_weights, split_hubs, top_k_rows
from tests.planted_kg import planted_kg_graph

CAP = 5


def reach_with_hubs(seed: int = 0) -> tuple[sp.csr_matrix, np.ndarray]:
    """40 users over 30 mid nodes: the first two reached by 23 and 40 users (hubs for a
    cap of 5), the others by at most 4; every user reaches at least one light node."""
    rng = np.random.default_rng(seed)
    users, mids = 40, 30
    dense = np.zeros((users, mids), np.float32)
    dense[rng.choice(users, 23, replace=False), 0] = 1
    dense[:, 1] = 1
    for mid in range(2, mids):
        dense[rng.choice(users, rng.integers(1, 3), replace=False), mid] = 1
    dense[np.arange(users), 2 + np.arange(users) % (mids - 2)] = 1
    reach = sp.csr_matrix(dense)
    return reach, np.asarray(reach.sum(axis=0)).ravel()


def test_hub_users_are_cut_into_groups_of_at_most_the_cap() -> None:
    reach, degree = reach_with_hubs()
    grouped, group_degree = split_hubs(reach, degree, CAP, seed=0)
    assert grouped.shape == (40, int(np.ceil(23 / CAP) + np.ceil(40 / CAP) + 28))
    sizes = np.asarray(grouped.sum(axis=0)).ravel()
    assert sizes.max() <= CAP and sizes.min() >= 1
    # a hub's groups: sizes within one of each other, every user of it in exactly one
    hub = sizes[: int(np.ceil(23 / CAP))]
    assert hub.max() - hub.min() <= 1 and hub.sum() == 23
    assert group_degree[0] == 23 and group_degree[len(hub)] == 40
    # each user reaches as many groups as it reached mid nodes
    np.testing.assert_array_equal(grouped.getnnz(axis=1), reach.getnnz(axis=1))
    # the work of the pair product: at most the cap per reached mid node
    assert (grouped @ grouped.T).nnz <= CAP * reach.nnz


def test_pairs_without_a_shared_hub_keep_their_exact_weight() -> None:
    reach, degree = reach_with_hubs()
    grouped, group_degree = split_hubs(reach, degree, CAP, seed=0)
    exact = pair_weights(reach, reach, degree).toarray()
    split = pair_weights(grouped, grouped, group_degree).toarray()
    light = reach[:, 2:] @ reach[:, 2:].T
    hub = (reach[:, :2] @ reach[:, :2].T).toarray()
    no_hub = (hub == 0) & (light.toarray() > 0)
    np.testing.assert_allclose(split[no_hub], exact[no_hub], rtol=1e-6)
    # through a hub a pair keeps at most its exact weight, never more
    assert (split <= exact + 1e-6).all()
    assert (split < exact - 1e-6).any()


def test_split_is_seeded() -> None:
    reach, degree = reach_with_hubs()
    first, _ = split_hubs(reach, degree, CAP, seed=3)
    again, _ = split_hubs(reach, degree, CAP, seed=3)
    other, _ = split_hubs(reach, degree, CAP, seed=4)
    assert (first != again).nnz == 0
    assert (first != other).nnz > 0


def test_a_cap_above_every_degree_builds_the_exact_graph() -> None:
    snapshot, _, _ = planted_kg_graph()
    for name in ("UIU", "UIEIU:people"):
        exact = build_metapath(snapshot, name, neighbours=5)
        capped = build_metapath(snapshot, name, neighbours=5, hub_cap=10_000)
        assert (exact.adjacency != capped.adjacency).nnz == 0
        small = build_metapath(snapshot, name, neighbours=5, hub_cap=8)
        assert small.adjacency.shape == exact.adjacency.shape


def test_a_run_stored_before_hub_groups_is_rebuilt_exact(tmp_path: Path) -> None:
    """Its checkpoint's config has no `hub_cap`: inference must rebuild the graph it was
    trained on (every pair), not the new default's groups."""
    store = ArtifactStore(str(tmp_path))
    old = {k: v for k, v in HDGIConfig().as_dict().items() if k != "hub_cap"}
    payload = {"config": old, "snapshot": "s", "in_channels": {}, "metapaths": [], "state": {}}
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    key = store.put(buffer.getvalue(), SUFFIX)
    assert get_checkpoint(store, key).config.hub_cap == 0
    assert HDGIConfig().hub_cap > 0


def brute_top_k(dense: np.ndarray, k: int, exclude: np.ndarray | None) -> np.ndarray:
    """Each row's k largest positive entries, ties to the lower column, by sorting."""
    kept = np.zeros_like(dense)
    for row, values in enumerate(dense):
        candidates = [
            (-value, column)
            for column, value in enumerate(values)
            if value > 0 and (exclude is None or column != exclude[row])
        ]
        for _, column in sorted(candidates)[:k]:
            kept[row, column] = values[column]
    return kept


def test_top_k_rows_keeps_the_largest_with_ties_to_the_lower_column() -> None:
    rng = np.random.default_rng(0)
    for case in range(200):
        rows, columns = rng.integers(1, 40), rng.integers(1, 60)
        matrix = sp.random(rows, columns, density=rng.random(), random_state=case, format="csr")
        matrix.data = np.round(matrix.data * 4) / 4  # many ties, some zeros stored
        exclude = rng.integers(0, columns, rows) if case % 2 else None
        k = int(rng.integers(1, 8))
        got = top_k_rows(matrix, k, exclude).toarray()
        np.testing.assert_array_equal(got, brute_top_k(matrix.toarray(), k, exclude))


def test_a_negative_hub_cap_is_refused_naming_it_and_the_file(tmp_path: Path) -> None:
    config = tmp_path / "hdgi.toml"
    config.write_text("hub_cap = -1\n")
    with pytest.raises(ConfigError, match=r"hdgi.toml: hub_cap must be 0 or more, not -1"):
        config_from_file(HDGIConfig, config)
