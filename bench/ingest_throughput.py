"""Benchmark: online ingest throughput of `GraphWriter` against a naive writer.

Data: the bundled DBpedia films graph (data/demo/films.nt.gz, 3,084 films, 34,941 facts)
scaled up to at least `--min-relationships` (default 200,000): copy c of every film is a
distinct Item (`id` bench-c-n, `uri` the IRI with #c), and copy c links to the entities
of pool c mod `--entity-pools` (IRI with #p), so the real degree distribution is kept and
entities are shared between copies. Default: 6 copies, 2 pools -> 18,504 items, 26,404
entities, 209,646 relationships of 8 types — close to the paper's Movies KG (209,630
triples, 45,528 entities).

Batched: every item then every fact through one `GraphWriter` (default batch size),
timed from the first row to the last commit; the figure is relationships / seconds
(node writes included in the time). The server's JVM is warmed with one untimed run on
a quarter of the data, then `--runs` timed runs on an emptied database; the median is
reported. Naive: one auto-commit statement per node and per relationship (`MERGE` by
key, as the writer did before batching) on the first `--naive-items` items and their
relationships only — printed exactly — as the full data would take a quarter of an hour.

Bulk (`--bulk`, on by default when the server is the local one): the same rows through
`BulkWriter` into memory, then `bulk_load` (write CSV files, stop Neo4j,
`neo4j-admin database import full`, start Neo4j, schema, dense `idx`), once; the rate is
relationships / seconds of the whole path, and of the import step alone.

Memory: this process's peak RSS (getrusage), and the Neo4j JVM's RSS and peak RSS
(VmHWM, since the server started) when the server is the local one `kgctl services up`
started.

The database named by the settings is emptied before every run: the benchmark refuses
to start on a non-empty database unless `--clear` is given.

    .venv/bin/python bench/ingest_throughput.py [--runs 5] [--clear]
"""

import argparse
import math
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import neo4j
from procfs import mib, status_fields
from tqdm import tqdm

from kgstore.db import Database, open_database
from kgstore.demo.films import DEMO_FILMS, films_from_triples
from kgstore.graph.clear import clear_graph
from kgstore.graph.item_names import name_from_iri
from kgstore.graph.mapping import BY_TYPE, Relation, cypher_label, cypher_rel_type
from kgstore.ingest.bulk_load import BulkLoadReport, bulk_load
from kgstore.ingest.quarantine import Quarantine
from kgstore.ingest.sources.dbpedia_file import read_rdf
from kgstore.ingest.write.bulk_writer import BulkGraph, BulkWriter
from kgstore.ingest.write.graph_writer import GraphWriter
from kgstore.ingest.write.writer import DEFAULT_BATCH_SIZE, Provenance, Writer
from kgstore.schema import apply_schema
from kgstore.services.neo4j_server import Neo4jServer
from kgstore.settings import Settings, load_settings


@dataclass(frozen=True)
class Fact:
    relation: Relation
    target: str
    name: str


@dataclass(frozen=True)
class BenchItem:
    id: str
    uri: str
    title: str
    facts: tuple[Fact, ...]


@dataclass(frozen=True)
class BenchGraph:
    items: list[BenchItem]
    copies: int


def scaled_films(path: Path, min_relationships: int, entity_pools: int) -> BenchGraph:
    """The demo's films copied until they hold `min_relationships` facts (see the module
    docstring), item by item: each item with all its facts."""
    triples, _ = read_rdf(path, Quarantine(Path(os.devnull)))
    films = films_from_triples(triples)
    copies = math.ceil(min_relationships / sum(len(film.facts) for film in films))
    items = [
        BenchItem(
            id=f"bench-{copy}-{n}",
            uri=f"{film.uri}#{copy}",
            title=film.title,
            facts=tuple(
                Fact(BY_TYPE[rel_type], f"{target}#{copy % entity_pools}", name_from_iri(target))
                for rel_type, target in film.facts
            ),
        )
        for copy in range(copies)
        for n, film in enumerate(films)
    ]
    return BenchGraph(items, copies)


def relationship_count(items: list[BenchItem]) -> int:
    return sum(len(item.facts) for item in items)


def empty_database(db: Database) -> None:
    clear_graph(db)
    apply_schema(db)


@dataclass(frozen=True)
class Timing:
    """One timed run: wall seconds, CPU seconds of this process and of the local Neo4j
    (None when the server is not local), and the 1-minute load average at its end —
    other work on the machine shows there."""

    seconds: float
    client_cpu: float
    server_cpu: float | None
    load: float

    def line(self, relationships: int) -> str:
        server = "n/a" if self.server_cpu is None else f"{self.server_cpu:.1f}"
        return (
            f"{self.seconds:6.2f} s {relationships / self.seconds:>9,.0f} rel/s "
            f"(server CPU {server} s, client CPU {self.client_cpu:.1f} s, load {self.load:.2f})"
        )


class LocalNeo4j:
    """The Neo4j JVM `kgctl services up` started for these settings, read from /proc."""

    def __init__(self, settings: Settings) -> None:
        self.pid = Neo4jServer(settings).pid()

    def cpu_seconds(self) -> float | None:
        if self.pid is None:
            return None
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory_mib(self) -> tuple[float, float] | None:
        """(RSS, peak RSS since the server started) in MiB."""
        if self.pid is None:
            return None
        fields = status_fields(self.pid)
        return mib(fields, "VmRSS"), mib(fields, "VmHWM")


def timed(server: LocalNeo4j, work: Callable[[], None]) -> Timing:
    server_before, client_before = server.cpu_seconds(), time.process_time()
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    server_after = server.cpu_seconds()
    return Timing(
        seconds,
        time.process_time() - client_before,
        None if server_after is None or server_before is None else server_after - server_before,
        os.getloadavg()[0],
    )


def write_items(writer: Writer, items: list[BenchItem]) -> None:
    """Every item and its facts through `writer`, which must write every relationship."""
    with writer:
        for item in items:
            writer.item(item.id, "Movie", {"uri": item.uri, "title": item.title})
            for fact in item.facts:
                writer.relationship(fact.relation, item.id, fact.target, name=fact.name)
    written = sum(writer.counts.relationships.values())
    if written != relationship_count(items) or sum(writer.counts.dangling.values()):
        name = type(writer).__name__
        sys.exit(f"{name} wrote {written} of {relationship_count(items)} relationships")


def batched_ingest(db: Database, items: list[BenchItem], batch_size: int) -> None:
    provenance = Provenance("bench", DEMO_FILMS.name)
    write_items(GraphWriter(db, provenance, batch_size), items)


def bulk_ingest(db: Database, settings: Settings, items: list[BenchItem]) -> BulkLoadReport:
    """The same rows through the bulk path into the emptied database."""
    graph = BulkGraph()
    write_items(BulkWriter(graph, Provenance("bench-bulk", DEMO_FILMS.name)), items)
    return bulk_load(db, settings, graph)


def naive_ingest(db: Database, items: list[BenchItem]) -> None:
    """The same rows, one auto-commit statement per node and per relationship."""
    prov = Provenance("bench-naive", DEMO_FILMS.name).as_props()
    with db.session() as session:
        for item in tqdm(items, desc="naive writer", unit="item", leave=False):
            session.run(
                "MERGE (n:Item {id: $id}) SET n.uri = $uri, n.title = $title, n += $prov "
                "SET n:Movie",
                id=item.id,
                uri=item.uri,
                title=item.title,
                prov=prov,
            ).consume()
            for fact in item.facts:
                session.run(
                    f"MATCH (s:Item {{id: $source}}) MERGE (t:Entity {{uri: $target}}) "
                    f"ON CREATE SET t += $prov, t.name = $name "
                    f"SET t:{cypher_label(fact.relation.target_label)} "
                    f"MERGE (s)-[r:{cypher_rel_type(fact.relation.rel_type)}]->(t) SET r += $prov",
                    source=item.id,
                    target=fact.target,
                    name=fact.name,
                    prov=prov,
                ).consume()


def describe_machine(db: Database, settings: Settings) -> str:
    version = db.query(
        "CALL dbms.components() YIELD versions, edition RETURN versions[0] + ' ' + edition AS v",
    )[0]["v"]
    rust = "with" if find_spec("neo4j._rust") else "without"
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"neo4j driver {neo4j.__version__} {rust} neo4j-rust-ext, "
        f"Neo4j {version} at {settings.neo4j_uri} (NEO4J_HEAP={settings.neo4j_heap}, "
        f"NEO4J_PAGECACHE={settings.neo4j_pagecache} if started by kgctl)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-relationships", type=int, default=200_000)
    parser.add_argument("--entity-pools", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--runs", type=int, default=3, help="timed runs (median reported)")
    parser.add_argument("--naive-items", type=int, default=400)
    parser.add_argument("--clear", action="store_true", help="empty a non-empty database")
    parser.add_argument(
        "--no-bulk", action="store_true", help="skip the bulk path (it restarts the server)"
    )
    args = parser.parse_args()

    settings = load_settings()
    server = LocalNeo4j(settings)
    graph = scaled_films(DEMO_FILMS, args.min_relationships, args.entity_pools)
    items = graph.items
    total = relationship_count(items)
    entities = len({fact.target for item in items for fact in item.facts})
    with open_database(settings) as db:
        used = db.query("MATCH (n) RETURN count(n) > 0 AS used")[0]["used"]
        if used and not args.clear:
            sys.exit(f"{settings.neo4j_uri} holds data; --clear empties it for the benchmark")
        print(describe_machine(db, settings))
        print(
            f"data: {len(items):,} items, {entities:,} entities, {total:,} relationships "
            f"(films x{graph.copies}, {args.entity_pools} entity pools), "
            f"batch size {args.batch_size:,}"
        )

        warmup = items[: len(items) // 4]
        empty_database(db)
        batched_ingest(db, warmup, args.batch_size)
        print(f"warm-up (untimed): {len(warmup):,} items, {relationship_count(warmup):,} rels")

        runs = []
        for run in tqdm(range(args.runs), desc="GraphWriter runs", leave=False):
            empty_database(db)
            runs.append(timed(server, lambda: batched_ingest(db, items, args.batch_size)))
            tqdm.write(f"GraphWriter run {run + 1}: {runs[-1].line(total)}")
        memory = server.memory_mib()

        naive_items = items[: args.naive_items]
        naive_rels = relationship_count(naive_items)
        empty_database(db)
        naive = timed(server, lambda: naive_ingest(db, naive_items))
        clear_graph(db)

        bulk: tuple[float, BulkLoadReport] | None = None
        if not args.no_bulk and server.pid is not None:
            started = time.perf_counter()
            report = bulk_ingest(db, settings, items)
            bulk = time.perf_counter() - started, report
    with open_database(settings) as db:  # the bulk import replaced the store
        empty_database(db)

    rates = sorted(total / run.seconds for run in runs)
    batched = statistics.median(rates)
    print(
        f"GraphWriter: median {batched:,.0f} rel/s over {args.runs} runs "
        f"(min {rates[0]:,.0f}, max {rates[-1]:,.0f}); nodes written in the same time"
    )
    print(
        f"naive (one auto-commit MERGE per node and per relationship) on the first "
        f"{len(naive_items):,} items and their {naive_rels:,} relationships: "
        f"{naive.line(naive_rels)}"
    )
    print(f"ratio GraphWriter / naive: {batched / (naive_rels / naive.seconds):.1f}x")
    if bulk is None:
        print("bulk path: not run (--no-bulk, or the server is not the local one)")
    else:
        seconds, report = bulk
        steps = ", ".join(f"{step} {took:.1f} s" for step, took in report.seconds.items())
        import_s = report.seconds["neo4j-admin import"]
        print(
            f"bulk path: {seconds:.1f} s in all, {total / seconds:,.0f} rel/s "
            f"({total / import_s:,.0f} rel/s for the import step alone; {steps})"
        )
        print(f"ratio bulk path (all of it) / GraphWriter: {total / seconds / batched:.2f}x")
    client_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"client peak RSS (getrusage, whole benchmark): {client_peak:,.0f} MiB")
    if memory is None:
        print("Neo4j RSS: n/a (the server is not one `kgctl services up` started here)")
    else:
        print(
            f"Neo4j RSS after the GraphWriter runs: {memory[0]:,.0f} MiB "
            f"(peak since the server started: {memory[1]:,.0f} MiB)"
        )


if __name__ == "__main__":
    main()
