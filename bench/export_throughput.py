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
(`bench/embed_throughput.py`), so `kgctl embed`'s own pipeline (`embed_nodes`, which
also keeps each range as a vector chunk in the artifact store) runs with a stand-in
encoder: 384 pseudo-random floats seeded by each text's sha256 (model `random
(benchmark)`). The vectors' values do not change what either side reads.

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

The wire (issue 22's target: the export at >= 0.3 of it): a bare `collect()` of the same
relationships' two integer columns (`u.idx, i.idx` of the domain's RATED, `i.idx, t.idx`
of every relationship from its items), one range query after another, no keys, no
properties, no vectors — what INFRA.md measures as Neo4j's transfer rate. Its ratio is
time against time over the same relationships. The export also runs once with its
vectors read from the graph (no artifact store), to show what the chunks bring.
"""

import argparse
import hashlib
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database, open_database
from kgstore.embeddings.base import Embedder
from kgstore.embeddings.pipeline import EmbedTarget, embed_nodes
from kgstore.export.config import ExportConfig
from kgstore.export.reader import collect_ranges, export_snapshot
from kgstore.export.snapshot import GraphSnapshot
from kgstore.graph.mapping import BY_TYPE, Domain, cypher_label
from kgstore.graph.split import holdout_users, training_lengths
from kgstore.settings import load_settings

MODEL = "random (benchmark)"
DIMENSION = 384
MIN_RELATIONSHIPS = 1_000_000


class StandInEncoder(Embedder):
    """A stand-in for MiniLM in this benchmark only: 384 pseudo-random floats seeded by the
    text's sha256, so the same text gets the same vector and a rerun encodes nothing."""

    model_name = MODEL

    @property
    def dimension(self) -> int:
        return DIMENSION

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = np.empty((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            rows[row] = np.random.default_rng(seed).random(DIMENSION, dtype=np.float32)
        return rows


def embed_stand_in(db: Database, store: ArtifactStore) -> int:
    """`kgctl embed items` and `entities` with the stand-in encoder; returns how many nodes
    it encoded (0 on a rerun)."""
    encoder = StandInEncoder()
    return sum(embed_nodes(db, encoder, target, store=store).encoded for target in EmbedTarget)


def bare_collect(db: Database, domain: Domain) -> tuple[int, float]:
    """(relationships, seconds) of the wire: the same relationships as two integer columns."""
    label = cypher_label(domain.label)
    started = time.perf_counter()
    rated = collect_ranges(
        db,
        "User",
        f"MATCH (u:User)-[:RATED]->(i:Item:{label}) WHERE u.idx >= $low AND u.idx < $high "
        "RETURN collect(u.idx) AS u, collect(i.idx) AS i",
    )
    facts = collect_ranges(
        db,
        f"Item:{label}",
        f"MATCH (i:Item:{label})-[]->(t) WHERE i.idx >= $low AND i.idx < $high "
        "RETURN collect(i.idx) AS i, collect(t.idx) AS t",
    )
    return len(rated["u"]) + len(facts["i"]), time.perf_counter() - started


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


def columns(
    db: Database, domain: Domain, config: ExportConfig, store: ArtifactStore | None
) -> tuple[GraphSnapshot, float]:
    """The export and its seconds."""
    started = time.perf_counter()
    snapshot = export_snapshot(db, domain, config, store=store)
    return snapshot, time.perf_counter() - started


def same_graph(a: KeyedGraph, b: KeyedGraph) -> None:
    """AssertionError naming the first difference of two readers' graphs."""
    assert a.rated == b.rated, f"RATED differs: {len(a.rated ^ b.rated):,} pairs"
    assert a.relations == b.relations, f"facts differ: {len(a.relations ^ b.relations):,}"
    for name, x, y in (("items", a.x_item, b.x_item), ("entities", a.x_entity, b.x_entity)):
        assert x.keys() == y.keys(), f"{name} differ"
        assert all(np.array_equal(x[k], y[k]) for k in x), f"{name}' features differ"


@dataclass
class Medians:
    """Seconds of every timed run of one reader."""

    runs: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def __str__(self) -> str:
        return f"{self.median:.2f} s (runs: {', '.join(f'{s:.2f}' for s in self.runs)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--domain", type=Domain, default=Domain.BOOKS)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each reader")
    args = parser.parse_args()
    config = ExportConfig()
    label = cypher_label(args.domain.label)
    settings = load_settings()
    store = ArtifactStore.from_settings(settings)
    with open_database(settings) as db:
        started = time.perf_counter()
        encoded = embed_stand_in(db, store)
        print(
            f"stand-in {DIMENSION}-d vectors (model {MODEL!r}) encoded for {encoded:,} nodes "
            f"by `embed_nodes` in {time.perf_counter() - started:.0f} s (0: all there already)"
        )
        read = db.columns(
            f"MATCH (:Item:{label})<-[r:RATED]-() WITH count(r) AS rated "
            f"MATCH (:Item:{label})-[f]->() RETURN rated, count(f) AS facts"
        )
        total = read["rated"] + read["facts"]
        print(f"graph: {read['rated']:,} RATED + {read['facts']:,} item facts = {total:,}")
        if total < MIN_RELATIONSHIPS:
            print(f"WARNING: fewer than {MIN_RELATIONSHIPS:,} relationships: not issue 9's size")
        snapshot, warm_s = columns(db, args.domain, config, store)
        reference = KeyedGraph.of(snapshot)
        edges = snapshot.edge_count
        print(
            f"snapshot: {edges:,} edges ({snapshot.rated.shape[1]:,} training interactions of "
            f"{len(snapshot.users):,} users, {edges - snapshot.rated.shape[1]:,} facts), "
            f"{len(snapshot.items):,} items, {len(snapshot.entities):,} entities; "
            f"warm-up export {warm_s:.1f} s; vectors: {snapshot.vector_sources}"
        )
        baseline: list[Timed] = []
        wire, export, from_graph = Medians([]), Medians([]), Medians([])
        for _ in range(args.runs):
            run = record_by_record(db, args.domain, config)
            same_graph(reference, run.graph)
            baseline.append(run)
            relationships, seconds = bare_collect(db, args.domain)
            assert relationships == total, f"the wire read {relationships:,} of {total:,}"
            wire.runs.append(seconds)
            for reader, store_or_none in ((export, store), (from_graph, None)):
                again, seconds = columns(db, args.domain, config, store_or_none)
                same_graph(reference, KeyedGraph.of(again))
                reader.runs.append(seconds)
    print("same edge sets and features from every reader: checked")
    base = statistics.median(run.seconds for run in baseline)
    base_rel = statistics.median(run.relationships_s for run in baseline)
    for run in baseline:
        print(
            f"  baseline run: {run.seconds:.1f} s ({run.relationships_s:.1f} s relationships, "
            f"{run.features_s:.1f} s features, {run.records:,} records)"
        )
    print(f"wire, bare collect() of {total:,} relationships: {wire}, {total / wire.median:,.0f}/s")
    print(f"export_snapshot, vectors from the embed chunks: {export}")
    print(f"export_snapshot, vectors from the graph: {from_graph}")
    print(
        f"baseline, record by record (median of {args.runs}): {edges / base:,.0f} edges/s "
        f"({base:.1f} s); its relationships alone: {edges / base_rel:,.0f} edges/s"
    )
    print(f"export_snapshot (median of {args.runs}): {edges / export.median:,.0f} edges/s")
    print(
        f"ratio export / wire (same relationships, time against time): "
        f"{wire.median / export.median:.2f} (vectors from the graph: "
        f"{wire.median / from_graph.median:.2f})"
    )
    print(
        f"ratio export / baseline: {base / export.median:.1f}x "
        f"(against the baseline's relationships alone: {base_rel / export.median:.1f}x)"
    )


if __name__ == "__main__":
    main()
