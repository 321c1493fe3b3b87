"""User sequences from interaction records: the rules every interaction source (Amazon
reviews, Amazon-KG `.inter`, generic files) shares, kept in one place because the
evaluation protocol (leave-one-out on `pos`) depends on them. `kgstore.graph.sequences`
stores the result.

- A user's sequence is ordered by timestamp; ties keep file order (a stable sort).
- A source without timestamps keeps file order and says so: a note in the report and
  `orderAssumed: true` on every RATED relationship of that ingest.
- A (user, item) pair is one RATED relationship (the graph merges on the pair, so a later
  copy would overwrite `pos`): a repeated pair keeps its first occurrence in time order.
- The optional k-core then repeatedly drops users and items with fewer than k
  interactions, until every remaining user and item has at least k.
- `pos` is the 0-based position in what remains.
"""

import math
from collections import Counter
from collections.abc import Iterable

from kgstore.graph.sequences import Interaction, Sequences


def parse_number(value: object, what: str) -> float:
    """A finite number from a JSON number or a numeric string, else ValueError naming
    `what` (the message ends up in the quarantine file)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{what} {value!r} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} {value!r} is not a finite number")
    return number


def parse_timestamp(value: object) -> int | float:
    """Seconds since the epoch; whole numbers are stored as integers."""
    number = parse_number(value, "timestamp")
    return int(number) if number.is_integer() else number


def _first_of_each_item(records: list[Interaction]) -> list[Interaction]:
    seen: set[str] = set()
    first = []
    for record in records:
        if record.item not in seen:
            seen.add(record.item)
            first.append(record)
    return first


def k_core(by_user: dict[str, list[Interaction]], k: int) -> dict[str, list[Interaction]]:
    """Drop users and items with fewer than `k` interactions until none is left (dropping
    a user can push an item under `k`, and the other way round). Order is kept."""
    while True:
        item_counts = Counter(record.item for records in by_user.values() for record in records)
        kept: dict[str, list[Interaction]] = {}
        for user, records in by_user.items():
            if len(records) >= k:
                remaining = [record for record in records if item_counts[record.item] >= k]
                if remaining:
                    kept[user] = remaining
        if sum(map(len, kept.values())) == sum(map(len, by_user.values())):
            return kept
        by_user = kept


def _sequence(records: list[Interaction], order_assumed: bool) -> list[Interaction]:
    ordered = records if order_assumed else sorted(records, key=lambda r: r.ts)
    return _first_of_each_item(ordered)


def build_sequences(interactions: Iterable[Interaction], kcore: int = 0) -> Sequences:
    """Group records by user (first-appearance order) and apply the rules above."""
    grouped: dict[str, list[Interaction]] = {}
    for record in interactions:
        grouped.setdefault(record.user, []).append(record)
    read = sum(map(len, grouped.values()))
    order_assumed = any(record.ts is None for records in grouped.values() for record in records)
    sequences = Sequences(
        {user: _sequence(records, order_assumed) for user, records in grouped.items()},
        order_assumed,
    )
    distinct = sequences.interactions
    if distinct < read:
        sequences.notes.append(
            f"{read - distinct} repeated (user, item) interactions dropped "
            "(the first in time order is kept)"
        )
    if kcore > 1:
        users, items = len(sequences.by_user), len(sequences.items)
        sequences.by_user = k_core(sequences.by_user, kcore)
        sequences.notes.append(
            f"{kcore}-core: {distinct} -> {sequences.interactions} interactions, "
            f"{users} -> {len(sequences.by_user)} users, {items} -> {len(sequences.items)} items"
        )
    if order_assumed:
        sequences.notes.append(
            "no timestamps: each user's sequence is the file order, recorded as assumed "
            "(RATED.orderAssumed = true)"
        )
    return sequences
