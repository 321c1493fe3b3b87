"""The leave-one-out split of the evaluation protocol (docs/evaluation.md §1), one object
for every stage: persona learning (the export) sees only `train`, the recommender trains on
`train`, selects on `validation` and reports on `test`.

Per user, in sequence order: the last item is the test item, the one before it the
validation item, the rest train. A user with fewer than `MIN_EVALUATED` interactions keeps
them all in training and is not evaluated (there is nothing left to train on otherwise) —
the split counts them so reports can say so.

`holdout_users` picks the users left out of persona learning entirely (their nodes and
edges never reach the export) so that personas inferred for anonymous sessions can be
evaluated honestly. The pick is a hash of (seed, user id), so it does not depend on the
order users were read in and the recommender recovers the same set.
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from kgstore.graph.sequences import Sequences

MIN_EVALUATED = 3


def training_lengths(lengths: np.ndarray) -> np.ndarray:
    """How many leading items of sequences of `lengths` are training: the rule itself,
    vectorised, so the export (which reads positions in columns) and `LeaveOneOut` (which
    slices lists) cannot disagree."""
    lengths = np.asarray(lengths)
    return np.where(lengths < MIN_EVALUATED, lengths, lengths - 2)


@dataclass(frozen=True)
class LeaveOneOut:
    """Each user's training items (in order) and their validation and test items."""

    train: dict[str, list[str]]
    validation: dict[str, str]
    test: dict[str, str]
    order_assumed: bool
    too_short: int = 0
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, sequences: Sequences) -> "LeaveOneOut":
        train: dict[str, list[str]] = {}
        validation: dict[str, str] = {}
        test: dict[str, str] = {}
        too_short = 0
        for user, records in sequences.by_user.items():
            items = [record.item for record in records]
            cut = int(training_lengths(len(items)))
            train[user] = items[:cut]
            if cut == len(items):
                too_short += 1
                continue
            validation[user], test[user] = items[cut], items[cut + 1]
        notes = list(sequences.notes)
        if sequences.order_assumed:
            notes.append("order assumed: the source had no timestamps, file order was kept")
        if too_short:
            notes.append(
                f"{too_short} users with fewer than {MIN_EVALUATED} interactions: "
                "training only, not evaluated"
            )
        return cls(train, validation, test, sequences.order_assumed, too_short, notes)

    @property
    def evaluated_users(self) -> list[str]:
        return sorted(self.test)

    def training_pairs(
        self, exclude_users: frozenset[str] = frozenset()
    ) -> Iterator[tuple[str, str]]:
        """Distinct (user, item) training interactions, users in id order."""
        for user in sorted(self.train):
            if user in exclude_users:
                continue
            for item in dict.fromkeys(self.train[user]):
                yield user, item

    def held_out_pairs(self) -> set[tuple[str, str]]:
        """(user, item) of every validation and test interaction that is not also a
        training interaction of that user: what must never reach persona learning."""
        pairs = set()
        for held in (self.validation, self.test):
            for user, item in held.items():
                if item not in self.train[user]:
                    pairs.add((user, item))
        return pairs


def holdout_users(users: list[str], fraction: float, seed: int) -> frozenset[str]:
    """About `fraction` of `users`, chosen by a hash of (seed, id): stable across runs and
    read orders."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"holdout fraction must be in [0, 1), not {fraction}")
    threshold = int(fraction * 2**64)
    return frozenset(user for user in users if _hash64(seed, user) < threshold)


def _hash64(seed: int, user: str) -> int:
    digest = hashlib.blake2b(f"{seed}\0{user}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")
