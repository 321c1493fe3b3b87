"""Export throughput: `export_snapshot` (columns) against a record-by-record fetch.

Run against a private stack holding a generated graph of at least 1,000,000
relationships, e.g. eight Books shapes (1,560,000: 920,000 interactions, 640,000 facts):

    source /work/stack2/env.sh
    kgctl db clear --yes
    kgctl ingest demo-scale --users 84000 --items 66400 --interactions 920000 \\
        --triples 640000 --bulk
    python bench/export_throughput.py

The export needs a `textEmbedding` on every item and linked entity. Encoding 100,000
texts with MiniLM would take a quarter of an hour here and is measured elsewhere
(`bench/embed_throughput.py`), so nodes without one get a random 384-d vector written by
Cypher on the server (`[x IN range(1, 384) | rand()]`, model `random (benchmark)`); the
output says how many. The vectors' values do not change what either side reads.

The baseline is the straightforward client: one query per relationship kind, iterated one
record at a time (`u.id, i.id, r.pos`; `i.id, type(r), t.uri`), node ids mapped to rows
with Python dicts, the leave-one-out training split and the held-out users applied in
Python by the export's own rules, and the features read the same way (one record per
node). Both must give the same graph: the edge sets (by key) and every feature vector
are compared before any figure is printed. One untimed export warms the server's caches
(and gives the result both are checked against); then the baseline and the export are
timed alternately. Rates are snapshot edges (training interactions kept + item facts)
per second; the baseline's relationship phase alone is also printed, as the ratio
against it is the one that cannot flatter the export.
"""

import argparse
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from kgstore.db import Database, open_database
from kgstore.export.config import ExportConfig
from kgstore.export.reader import export_snapshot
from kgstore.export.snapshot import GraphSnapshot
from kgstore.graph.mapping import BY_TYPE, Domain, cypher_label
from kgstore.graph.split import holdout_users, training_lengths
from kgstore.settings import load_settings

MODEL = "random (benchmark)"
DIMENSION = 384
EMBED_RANGE = 10_000
"""Nodes per write transaction of the random vectors (about 30 MB of doubles)."""
MIN_RELATIONSHIPS = 1_000_000


def ensure_embeddings(db: Database, labels: str) -> int:
    """Give every node with `labels` but no `textEmbedding` a random one; returns how many."""
    bounds = db.columns(f"MATCH (n:{labels}) RETURN min(n.idx) AS low, max(n.idx) AS high")
    if bounds["low"] is None:
        return 0
    written = 0
    for low in range(bounds["low"], bounds["high"] + 1, EMBED_RANGE):
        row = db.columns(
            f"MATCH (n:{labels}) WHERE n.idx >= $low AND n.idx < $high "
            "AND n.textEmbedding IS NULL "
            f"SET n.textEmbedding = [x IN range(1, {DIMENSION}) | rand()], "
            "n.textEmbeddingModel = $model RETURN count(n) AS n",
            low=low,
            high=low + EMBED_RANGE,
            model=MODEL,
        )
        written += row["n"]
    return written


@dataclass
class KeyedGraph:
    """A persona graph by node keys, to compare two readers whatever their row order."""

    rated: set[tuple[str, str]]
    relations: set[tuple[str, str, str]]
    x_item: dict[str, np.ndarray]
    x_entity: dict[str, np.ndarray]

    @property
    def edge_count(self) -> int:
        return len(self.rated) + len(self.relations)

    @classmethod
    def of(cls, snapshot: GraphSnapshot) -> "KeyedGraph":
        targets = {"Entity": snapshot.entities, "Item": snapshot.items}
        return cls(
            rated={(snapshot.users[u], snapshot.items[i]) for u, i in snapshot.rated.T},
            relations={
                (rel, snapshot.items[s], targets[snapshot.relation_targets[rel]][t])
                for rel, edges in snapshot.relations.items()
                for s, t in edges.T
            },
            x_item=dict(zip(snapshot.items, snapshot.x_item, strict=True)),
            x_entity=dict(zip(snapshot.entities, snapshot.x_entity, strict=True)),
        )


@dataclass
class Timed:
    graph: KeyedGraph
    relationships_s: float
    features_s: float
    records: int

    @property
    def seconds(self) -> float:
        return self.relationships_s + self.features_s


class Rows(dict[str, int]):
    """Key → row, a new row for every new key: the Python-dict mapping of the baseline."""

    def row(self, key: str) -> int:
        found = self.get(key)
        if found is None:
            found = self[key] = len(self)
        return found

    def keys_by_row(self) -> list[str]:
        return list(self)


def record_by_record(db: Database, domain: Domain, config: ExportConfig) -> Timed:
    """The baseline reader: every relationship and node feature as its own record."""
    label = cypher_label(domain.label)
    started = time.perf_counter()
    users, items, entities = Rows(), Rows(), Rows()
    sequences: dict[int, list[tuple[int, int]]] = defaultdict(list)
    records = 0
    with db.session() as session:
        for record in session.run(
            f"MATCH (u:User)-[r:RATED]->(i:Item:{label}) RETURN u.id AS u, i.id AS i, r.pos AS pos"
        ):
            sequences[users.row(record["u"])].append((record["pos"], items.row(record["i"])))
            records += 1
        relations: list[tuple[str, int, str, int]] = []
        for record in session.run(
            f"MATCH (i:Item:{label})-[r]->(t) WHERE (t:Entity OR t:{label}) "
            "AND type(r) IN $types RETURN i.id AS i, type(r) AS rel, t:Entity AS entity, "
            "CASE WHEN t:Entity THEN t.uri ELSE t.id END AS t",
            types=[rel for rel, relation in BY_TYPE.items() if relation.source_label == "Item"],
        ):
            target = (entities if record["entity"] else items).row(record["t"])
            kind = "Entity" if record["entity"] else "Item"
            relations.append((record["rel"], items.row(record["i"]), kind, target))
            records += 1
    user_keys, item_keys, entity_list = (rows.keys_by_row() for rows in (users, items, entities))
    held_out = holdout_users(user_keys, config.holdout_fraction, config.holdout_seed)
    rated = set()
    for user, steps in sequences.items():
        steps.sort()
        if user_keys[user] in held_out:
            continue
        keep = int(training_lengths(np.array([len(steps)]))[0])
        rated.update((user_keys[user], item_keys[item]) for _, item in steps[:keep])
    keyed_relations = {
        (rel, item_keys[s], (entity_list if kind == "Entity" else item_keys)[t])
        for rel, s, kind, t in relations
    }
    relationships_s = time.perf_counter() - started
    started = time.perf_counter()
    x_item = _vectors(db, f"MATCH (n:Item:{label}) RETURN n.id AS key, n.textEmbedding AS x")
    x_entity = _vectors(db, "MATCH (n:Entity) RETURN n.uri AS key, n.textEmbedding AS x")
    x_entity = {key: x_entity[key] for key in entity_list}
    features_s = time.perf_counter() - started
    records += len(x_item) + len(x_entity)
    graph = KeyedGraph(rated, keyed_relations, x_item, x_entity)
    return Timed(graph, relationships_s, features_s, records)


def _vectors(db: Database, query: str) -> dict[str, np.ndarray]:
    """key → float32 vector, one record at a time."""
    with db.session() as session:
        return {r["key"]: np.asarray(r["x"], dtype=np.float32) for r in session.run(query)}


STAGES = ("items", "interactions", "relationships", "entities")
"""`export_snapshot`'s progress stages: item features, RATED, item facts, entity features."""


def columns(
    db: Database, domain: Domain, config: ExportConfig
) -> tuple[GraphSnapshot, float, dict[str, float]]:
    """The export, its seconds and the seconds of each stage (from its progress calls)."""
    marks: list[float] = []
    started = time.perf_counter()
    snapshot = export_snapshot(db, domain, config, lambda _stage: marks.append(time.perf_counter()))
    marks.append(time.perf_counter())
    return snapshot, marks[-1] - started, dict(zip(STAGES, np.diff(marks).tolist(), strict=True))


def same_graph(a: KeyedGraph, b: KeyedGraph) -> None:
    """AssertionError naming the first difference of two readers' graphs."""
    assert a.rated == b.rated, f"RATED differs: {len(a.rated ^ b.rated):,} pairs"
    assert a.relations == b.relations, f"facts differ: {len(a.relations ^ b.relations):,}"
    for name, x, y in (("items", a.x_item, b.x_item), ("entities", a.x_entity, b.x_entity)):
        assert x.keys() == y.keys(), f"{name} differ"
        assert all(np.array_equal(x[k], y[k]) for k in x), f"{name}' features differ"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--domain", type=Domain, default=Domain.BOOKS)
    parser.add_argument("--runs", type=int, default=2, help="timed runs of each reader")
    args = parser.parse_args()
    config = ExportConfig()
    label = cypher_label(args.domain.label)
    with open_database(load_settings()) as db:
        written = sum(ensure_embeddings(db, labels) for labels in (f"Item:{label}", "Entity"))
        print(
            f"random {DIMENSION}-d textEmbedding (model {MODEL!r}) written to {written:,} "
            "nodes that had none, by Cypher instead of MiniLM"
        )
        read = db.columns(
            f"MATCH (:Item:{label})<-[r:RATED]-() WITH count(r) AS rated "
            f"MATCH (:Item:{label})-[f]->() RETURN rated, count(f) AS facts"
        )
        total = read["rated"] + read["facts"]
        print(f"graph: {read['rated']:,} RATED + {read['facts']:,} item facts = {total:,}")
        if total < MIN_RELATIONSHIPS:
            print(f"WARNING: fewer than {MIN_RELATIONSHIPS:,} relationships: not issue 9's size")
        snapshot, warm_s, _ = columns(db, args.domain, config)
        reference = KeyedGraph.of(snapshot)
        edges = snapshot.edge_count
        print(
            f"snapshot: {edges:,} edges ({snapshot.rated.shape[1]:,} training interactions of "
            f"{len(snapshot.users):,} users, {edges - snapshot.rated.shape[1]:,} facts), "
            f"{len(snapshot.items):,} items, {len(snapshot.entities):,} entities; "
            f"warm-up export {warm_s:.1f} s"
        )
        baseline: list[Timed] = []
        export_s: list[float] = []
        stages: list[dict[str, float]] = []
        for _ in range(args.runs):
            run = record_by_record(db, args.domain, config)
            same_graph(reference, run.graph)
            baseline.append(run)
            again, seconds, stage_s = columns(db, args.domain, config)
            same_graph(reference, KeyedGraph.of(again))
            export_s.append(seconds)
            stages.append(stage_s)
    print("same edge sets and features from both readers: checked")
    base = statistics.median(run.seconds for run in baseline)
    base_rel = statistics.median(run.relationships_s for run in baseline)
    ours = statistics.median(export_s)
    for run in baseline:
        print(
            f"  baseline run: {run.seconds:.1f} s ({run.relationships_s:.1f} s relationships, "
            f"{run.features_s:.1f} s features, {run.records:,} records)"
        )
    for seconds, stage_s in zip(export_s, stages, strict=True):
        parts = ", ".join(f"{name} {stage_s[name]:.1f} s" for name in STAGES)
        print(f"  export run: {seconds:.1f} s ({parts})")
    edge_s = statistics.median(s["interactions"] + s["relationships"] for s in stages)
    print(
        f"baseline, record by record (median of {args.runs}): {edges / base:,.0f} edges/s "
        f"({base:.1f} s); its relationships alone: {edges / base_rel:,.0f} edges/s"
    )
    print(f"export_snapshot, columns (median of {args.runs}): {edges / ours:,.0f} edges/s")
    print(
        f"ratio export / baseline: {base / ours:.1f}x "
        f"(against the baseline's relationships alone: {base_rel / ours:.1f}x)"
    )
    print(
        f"edges alone (export's interactions + relationships stages, median {edge_s:.1f} s): "
        f"{edges / edge_s:,.0f} edges/s, {base_rel / edge_s:.1f}x the baseline's relationships"
    )


if __name__ == "__main__":
    main()
