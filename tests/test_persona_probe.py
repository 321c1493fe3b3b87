"""Persona probes on small planted snapshots: taste shows above chance and above a
constant persona; personas that know nothing do not."""

import numpy as np
import pytest

from kgstore.export.snapshot import GraphSnapshot
from kgstore.personas.probe import anisotropy, effective_rank, probe_personas

GROUPS, USERS_PER_GROUP, ITEMS_PER_GROUP, DIMENSION = 4, 30, 25, 16


def planted_snapshot() -> tuple[GraphSnapshot, np.ndarray, dict[str, str]]:
    """Users of four groups rate 6 items of their group's 25; each group's items share a
    text direction and link to the group's own director. Returns the snapshot, each user's
    group and each user's validation item (a further item of the group)."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(GROUPS, DIMENSION))
    item_group = np.repeat(np.arange(GROUPS), ITEMS_PER_GROUP)
    x_item = centres[item_group] + 0.5 * rng.normal(size=(len(item_group), DIMENSION))
    user_group = np.repeat(np.arange(GROUPS), USERS_PER_GROUP)
    rated, validation = [], {}
    for user, group in enumerate(user_group):
        picks = rng.choice(ITEMS_PER_GROUP, size=7, replace=False) + group * ITEMS_PER_GROUP
        rated += [(user, item) for item in picks[:6]]
        validation[f"u{user}"] = f"i{picks[6]}"
    directors = np.stack([np.arange(len(item_group)), item_group])
    snapshot = GraphSnapshot(
        domain="movies",
        users=[f"u{u}" for u in range(len(user_group))],
        items=[f"i{i}" for i in range(len(item_group))],
        entities=[f"director{g}" for g in range(GROUPS)] + ["nobody"],
        entity_types=["Person"] * (GROUPS + 1),
        x_item=x_item.astype(np.float32),
        x_entity=np.vstack([centres, rng.normal(size=(1, DIMENSION))]).astype(np.float32),
        rated=np.asarray(rated).T,
        relations={"DIRECTED_BY": directors},
        relation_targets={"DIRECTED_BY": "Entity"},
    )
    return snapshot, user_group, validation


def test_group_personas_beat_chance_and_a_constant_persona() -> None:
    snapshot, groups, validation = planted_snapshot()
    personas = np.eye(GROUPS)[groups] + 0.01 * np.random.default_rng(1).normal(
        size=(len(groups), GROUPS)
    )
    result = probe_personas(snapshot, personas, validation)
    assert result.next_item.users == len(groups)
    # 19 unseen items of the own group among 94 candidates: a random top 10 finds ~0.11
    assert result.next_item.chance == pytest.approx(10 / 94, rel=1e-6)
    assert result.next_item.persona > 0.3
    assert result.next_item.persona > result.next_item.no_persona + 0.15
    people = result.entities["people"]
    assert people.chance == pytest.approx(1.0)  # 4 directors: any top 10 holds them all
    assert people.persona == pytest.approx(1.0)


def test_random_personas_do_not_beat_chance_by_much() -> None:
    snapshot, groups, validation = planted_snapshot()
    noise = np.random.default_rng(2).normal(size=(len(groups), 8))
    result = probe_personas(snapshot, noise, validation)
    assert result.next_item.persona < result.next_item.chance + 0.08


def test_anisotropy_and_effective_rank() -> None:
    same = np.tile([[1.0, 2.0, 3.0]], (5, 1))
    assert anisotropy(same) == pytest.approx(1.0)
    assert effective_rank(same) == pytest.approx(1.0)
    assert anisotropy(np.eye(4)) == pytest.approx(0.0)
    assert effective_rank(np.eye(4)) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="two vectors"):
        anisotropy(same[:1])


def test_personas_must_match_the_snapshot_users() -> None:
    snapshot, _, validation = planted_snapshot()
    with pytest.raises(ValueError, match="personas for the snapshot"):
        probe_personas(snapshot, np.zeros((3, 4)), validation)
