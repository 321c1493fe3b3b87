"""User sequences, the one definition ingest writes and training reads.

A sequence is stored as `(:User)-[:RATED {pos, orderAssumed, rating?, ts?}]->(:Item)`:
`pos` is the 0-based place of the item in the user's sequence, `orderAssumed` says the
source had no timestamps (file order was kept). `write_sequences` queues exactly that,
and `read_sequences` returns exactly what it wrote; the leave-one-out split of the
evaluation protocol depends on both agreeing.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from kgstore.db import Database
from kgstore.errors import SequenceReadError
from kgstore.graph.mapping import BY_TYPE, Domain, Relation, cypher_label

RATED = BY_TYPE["RATED"]


@dataclass(frozen=True, slots=True)
class Interaction:
    """One user-item record; `ts` is None when the source has no time."""

    user: str
    item: str
    rating: float | None = None
    ts: int | float | None = None


@dataclass
class Sequences:
    """Each user's interactions in sequence order (list index = `pos`)."""

    by_user: dict[str, list[Interaction]]
    order_assumed: bool
    notes: list[str] = field(default_factory=list)

    @property
    def items(self) -> set[str]:
        return {record.item for records in self.by_user.values() for record in records}

    @property
    def interactions(self) -> int:
        return sum(len(records) for records in self.by_user.values())


class SequenceSink(Protocol):
    """What `write_sequences` needs of an ingest writer."""

    def node(self, label: str, key: str, props: Mapping[str, Any] | None = None) -> None: ...

    def relationship(
        self, relation: Relation, source: str, target: str, props: Mapping[str, Any] | None = None
    ) -> None: ...


def write_sequences(
    writer: SequenceSink,
    sequences: Sequences,
    user_props: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Queue the users (with their `user_props`, if any) and their RATED relationships.
    Queue the items before calling this: a RATED batch only finds items written before it."""
    props_of = user_props or {}
    for user in sequences.by_user:
        writer.node("User", user, props_of.get(user))
    for user, records in sequences.by_user.items():
        for pos, record in enumerate(records):
            props: dict[str, object] = {"pos": pos, "orderAssumed": sequences.order_assumed}
            if record.rating is not None:
                props["rating"] = record.rating
            if record.ts is not None:
                props["ts"] = record.ts
            writer.relationship(RATED, user, record.item, props)


def read_sequences(db: Database, domain: Domain | None = None) -> Sequences:
    """Every user's RATED items by `pos` (users in id order), of one domain's items or
    of all. One record per user, so a large graph is read in few round trips."""
    label = cypher_label(domain.label) if domain is not None else "Item"
    rows = db.query(
        f"MATCH (u:User)-[r:RATED]->(i:{label}) "
        "WITH u, r, i ORDER BY r.pos "
        "WITH u.id AS user, collect([r.pos, i.id, r.rating, r.ts]) AS records, "
        "sum(CASE WHEN r.orderAssumed THEN 1 ELSE 0 END) AS assumed "
        "RETURN user, records, assumed ORDER BY user"
    )
    by_user: dict[str, list[Interaction]] = {}
    order_assumed = False
    for row in rows:
        user, records = row["user"], row["records"]
        positions = [record[0] for record in records]
        if positions != list(range(len(records))):
            raise SequenceReadError(
                f"user {user!r}: RATED positions {positions[:10]} are not 0, 1, 2, …"
                + ("" if domain else "; with several domains in the graph, give the domain")
            )
        by_user[user] = [Interaction(user, item, rating, ts) for _, item, rating, ts in records]
        order_assumed = order_assumed or row["assumed"] > 0
    return Sequences(by_user, order_assumed)
