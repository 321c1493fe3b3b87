"""`kgctl ingest dbpedia`: `--endpoint` (a real SPARQL endpoint, see tests/sparql.py) and
`--file` store the same facts; labels, the answer cache, retries and quarantine, bad
input files, and hostile IRIs that must not change any query."""

import gzip
import json
import os
import subprocess
import sys
import urllib.parse
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from kgstore.db import Database
from kgstore.errors import CorruptSource, TooManyRejects
from kgstore.graph.clear import clear_graph
from kgstore.graph.mapping import BY_DBPEDIA_PREDICATE
from kgstore.ingest.session import IngestOptions
from kgstore.ingest.sources.dbpedia_file import ingest_dbpedia_file
from kgstore.ingest.sources.dbpedia_sparql import (
    SparqlSource,
    ingest_dbpedia_endpoint,
)
from kgstore.ingest.sources.sparql_client import FetchPolicy
from kgstore.ingest.write.graph_writer import GraphWriter
from kgstore.ingest.write.writer import Provenance
from kgstore.settings import Settings
from tests.sparql import (
    DBR,
    FILMS_SLICE,
    HOSTILE_ENTITY,
    HOSTILE_ITEM_URIS,
    RecordingProxy,
    SilentServer,
)

Snapshot = tuple[set[tuple[str, frozenset[str], str]], set[tuple[str, str, str]]]


def parse_nt(path: Path) -> Graph:
    graph = Graph()
    graph.parse(path, format="nt")
    return graph


def slice_films() -> list[str]:
    """The films of the slice: subjects of its mapped DBpedia facts."""
    graph = parse_nt(FILMS_SLICE)
    return sorted({str(s) for s, p, _ in graph if str(p) in BY_DBPEDIA_PREDICATE})


# Four in five films of the slice are items: facts about the others must not be stored.
ITEMS = [uri for n, uri in enumerate(slice_films()) if n % 5 != 4]


def expected_facts(path: Path = FILMS_SLICE) -> set[tuple[str, str, str]]:
    """(item, relationship type, target) for every mapped fact of an item in the file,
    computed straight from the RDF, independently of the ingest code."""
    return {
        (str(s), BY_DBPEDIA_PREDICATE[str(p)].rel_type, str(o))
        for s, p, o in parse_nt(path)
        if str(s) in ITEMS and str(p) in BY_DBPEDIA_PREDICATE and isinstance(o, URIRef)
    }


def add_items(db: Database, uris: list[str]) -> None:
    with GraphWriter(db, Provenance("tests", "items")) as writer:
        for n, uri in enumerate(uris):
            writer.item(f"film-{n}", "Movie", {"uri": uri})


def snapshot(db: Database) -> Snapshot:
    """Entities (uri, labels, name) and item facts (item uri, type, target uri)."""
    nodes = db.query(
        "MATCH (e:Entity) RETURN e.uri AS uri, labels(e) AS labels, e.name AS name",
    )
    rels = db.query(
        "MATCH (i:Item)-[r]->(e:Entity) RETURN i.uri AS item, type(r) AS type, e.uri AS target",
    )
    return (
        {(n["uri"], frozenset(n["labels"]), n["name"]) for n in nodes},
        {(r["item"], r["type"], r["target"]) for r in rels},
    )


def count_nodes(db: Database) -> dict[str, int]:
    """Nodes by label, the bookkeeping of runs (`Run`, `IngestUndo`) aside."""
    rows = db.query(
        "MATCH (n) WHERE NOT n:Run AND NOT n:IngestUndo "
        "UNWIND labels(n) AS label RETURN label, count(*) AS n",
    )
    return {row["label"]: row["n"] for row in rows}


def source_for(endpoint: str, cache: Path, retries: int = 2, timeout: int = 30) -> SparqlSource:
    """Small batches and pages (so both are exercised), quick retries, no rate limit."""
    policy = FetchPolicy(timeout=timeout, retries=retries, backoff=0.01, min_interval=0)
    return SparqlSource(endpoint, policy, cache, items_per_query=7, page_size=25)


@pytest.fixture
def linked_graph(empty_graph: Database, settings: Settings) -> Database:
    add_items(empty_graph, ITEMS)
    return empty_graph


def test_endpoint_and_file_store_the_same_facts(
    linked_graph: Database,
    settings: Settings,
    sparql_endpoint: str,
    tmp_path: Path,
    ingest_options: IngestOptions,
) -> None:
    source = source_for(sparql_endpoint, tmp_path / "cache")
    report = ingest_dbpedia_endpoint(linked_graph, source, ingest_options)
    via_endpoint = snapshot(linked_graph)

    clear_graph(linked_graph)
    add_items(linked_graph, ITEMS)
    ingest_dbpedia_file(linked_graph, FILMS_SLICE, ingest_options)
    via_file = snapshot(linked_graph)

    assert via_endpoint == via_file
    assert via_endpoint[1] == expected_facts()
    assert report.rejected == 0
    assert report.records == len(ITEMS)
    assert sum(report.relationships.values()) == len(expected_facts())


@pytest.mark.parametrize("via", ["endpoint", "file"])
def test_entity_names_come_from_rdfs_label_else_the_iri(
    via: str,
    linked_graph: Database,
    settings: Settings,
    sparql_endpoint: str,
    tmp_path: Path,
    ingest_options: IngestOptions,
) -> None:
    if via == "endpoint":
        source = source_for(sparql_endpoint, tmp_path / "cache")
        ingest_dbpedia_endpoint(linked_graph, source, ingest_options)
    else:
        ingest_dbpedia_file(linked_graph, FILMS_SLICE, ingest_options)
    names = {uri: name for uri, _, name in snapshot(linked_graph)[0]}
    assert names[DBR + "Mel_Brooks"] == "Mel Brooks (filmmaker)"  # English over German
    assert names[DBR + "Gene_Wilder"] == "Gene Wilder (untagged)"
    assert names[DBR + "Madeline_Kahn"] == "Madeline Kahn"  # only German: the IRI's name
    assert names[DBR + "Warner_Bros."] == "Warner Bros. Pictures"  # en-GB over untagged
    assert names[DBR + "Cleavon_Little"] == "Cleavon Jake Little"  # two English: smallest
    assert names[DBR + "John_Morris_(composer)"] == 'John "Johnny" Morris \u2014 Komponist'
    assert names[DBR + "Richard_Pryor"] == "Richard Pryor, Jr."  # xsd:string is untagged
    assert names[DBR + "Slim_Pickens"] == "Slim Pickens"  # no label: the IRI's name


def kgctl(settings: Settings, state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`kgctl` against the test database, with quick retries and its own state folder."""
    env = {
        **os.environ,
        "NEO4J_URI": settings.neo4j_uri,
        "NEO4J_USER": settings.neo4j_user,
        "NEO4J_PASSWORD": settings.require_neo4j_password(),
        "NEO4J_DATABASE": settings.neo4j_database,
        "KGSTORE_STATE_DIR": str(state_dir),
        "SPARQL_RETRIES": "1",
        "SPARQL_BACKOFF": "0",
        "SPARQL_MIN_INTERVAL": "0",
        "SPARQL_TIMEOUT": "10",
        "SPARQL_ITEMS_PER_QUERY": "7",
    }
    return subprocess.run(
        [sys.executable, "-c", "from cli.app import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_rerun_asks_the_endpoint_nothing_and_changes_nothing(
    linked_graph: Database, settings: Settings, sparql_endpoint: str, tmp_path: Path
) -> None:
    with RecordingProxy(sparql_endpoint) as proxy:
        first = kgctl(settings, tmp_path, "ingest", "dbpedia", "--endpoint", proxy.url)
        assert first.returncode == 0, first.stderr
        asked = len(proxy.queries)
        before = snapshot(linked_graph), count_nodes(linked_graph)

        again = kgctl(settings, tmp_path, "ingest", "dbpedia", "--endpoint", proxy.url)
        assert again.returncode == 0, again.stderr
        assert len(proxy.queries) == asked > 0
        assert f"0 HTTP requests (0 failed), {asked} answers from the cache" in " ".join(
            again.stdout.split()
        )
        assert (snapshot(linked_graph), count_nodes(linked_graph)) == before


def test_refreshed_rerun_asks_again_and_changes_nothing(
    linked_graph: Database,
    settings: Settings,
    sparql_endpoint: str,
    tmp_path: Path,
    ingest_options: IngestOptions,
) -> None:
    with RecordingProxy(sparql_endpoint) as proxy:
        source = source_for(proxy.url, tmp_path / "cache")
        first = ingest_dbpedia_endpoint(linked_graph, source, ingest_options)
        asked = len(proxy.queries)
        before = snapshot(linked_graph), count_nodes(linked_graph)
        refresh = replace(source, refresh=True)
        ingest_dbpedia_endpoint(linked_graph, refresh, ingest_options)
    assert first.relationships
    assert len(proxy.queries) == 2 * asked > 0
    assert (snapshot(linked_graph), count_nodes(linked_graph)) == before


def test_failing_batch_is_retried_quarantined_then_resumed_from_the_cache(
    linked_graph: Database, settings: Settings, sparql_endpoint: str, tmp_path: Path
) -> None:
    victim = DBR + "Blazing_Saddles"
    quarantine_dir = tmp_path / "quarantine"
    options = IngestOptions(batch_size=500, max_reject_fraction=0.0, quarantine_dir=quarantine_dir)
    before = snapshot(linked_graph)
    with RecordingProxy(sparql_endpoint, lambda q: 500 if f"<{victim}>" in q else None) as proxy:
        source = source_for(proxy.url, tmp_path / "cache")
        with pytest.raises(TooManyRejects, match=r"over the threshold.*nothing of this input"):
            ingest_dbpedia_endpoint(linked_graph, source, options)
        failing = [q for q in proxy.queries if f"<{victim}>" in q]

        assert len(failing) == 3 and len(set(failing)) == 1  # one query, 1 + 2 retries
        [quarantine_file] = quarantine_dir.glob("*.jsonl")
        rejects = [json.loads(line) for line in quarantine_file.read_text().splitlines()]
        batch = {item for item in ITEMS if f"<{item}>" in failing[0]}
        assert victim in batch and len(rejects) == len(batch) == 7
        assert {reject["record"] for reject in rejects} == {failing[0]}
        assert all("failed 3 times" in r["reason"] and "500" in r["reason"] for r in rejects)
        # Over the threshold, the facts of the other batches were removed again ...
        assert snapshot(linked_graph) == before

        # ... and come back from the cache once the endpoint is healthy: only the failed
        # batch is asked again.
        proxy.fail_with = lambda _: None
        asked_before = len(proxy.queries)
        ingest_dbpedia_endpoint(linked_graph, source, options)
        resumed = proxy.queries[asked_before:]
    assert resumed and all(f"<{victim}>" in query for query in resumed)
    assert snapshot(linked_graph)[1] == expected_facts()


def test_an_endpoint_failing_query_after_query_is_given_up_on(
    linked_graph: Database, settings: Settings, sparql_endpoint: str, tmp_path: Path
) -> None:
    """After `give_up_after` failed queries the run asks nothing more; every item is
    quarantined, the skipped ones with a reason that says why and how to resume."""
    lenient = IngestOptions(500, 1.0, tmp_path / "quarantine")
    with RecordingProxy(sparql_endpoint, lambda _: 500) as proxy:
        source = source_for(proxy.url, tmp_path / "cache", retries=1)
        source = replace(source, items_per_query=2, policy=replace(source.policy, give_up_after=2))
        report = ingest_dbpedia_endpoint(linked_graph, source, lenient)
    assert len(proxy.queries) == 4  # two queries, each asked twice
    assert report.rejected == len(ITEMS) > 6
    reasons = [
        json.loads(line)["reason"]
        for path in (tmp_path / "quarantine").glob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    assert sum("failed 2 times" in reason for reason in reasons) == 4
    assert all("run again to resume" in reason for reason in reasons[4:])


def test_endpoint_that_answers_404_fails_the_run_with_exit_code_3(
    linked_graph: Database, settings: Settings, sparql_endpoint: str, tmp_path: Path
) -> None:
    missing = urllib.parse.urljoin(sparql_endpoint, "/no-such-sparql-path")
    result = kgctl(
        settings,
        tmp_path / "state",
        "ingest",
        "dbpedia",
        "--endpoint",
        missing,
        "--quarantine-dir",
        str(tmp_path / "q"),
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "over the threshold" in result.stderr
    rejects = [json.loads(line) for f in (tmp_path / "q").glob("*.jsonl") for line in f.open()]
    assert len(rejects) == len(ITEMS)
    assert all(r["file"] == missing and r["record"].startswith("SELECT") for r in rejects)
    asked = [r for r in rejects if "EndPointNotFound" in r["reason"]]
    assert asked and all("failed 2 times" in r["reason"] for r in asked)
    # After SPARQL_GIVE_UP_AFTER failed queries the rest is not asked.
    assert all(r in asked or "not asked" in r["reason"] for r in rejects)


def test_endpoint_that_never_answers_times_out_and_is_quarantined(
    linked_graph: Database, settings: Settings, tmp_path: Path, ingest_options: IngestOptions
) -> None:
    with SilentServer() as silent:
        source = source_for(silent.url, tmp_path / "cache", retries=1, timeout=1)
        source = replace(source, items_per_query=len(ITEMS))
        lenient = IngestOptions(500, 1.0, ingest_options.quarantine_dir)
        report = ingest_dbpedia_endpoint(linked_graph, source, lenient)
    assert silent.connections == 2  # one query, one retry
    assert report.rejected == len(ITEMS)
    assert report.relationships == {}
    [quarantine_file] = ingest_options.quarantine_dir.glob("*.jsonl")
    reason = json.loads(quarantine_file.read_text().splitlines()[0])["reason"]
    assert "failed 2 times" in reason and "timed out" in reason


def test_both_options_at_once_are_refused(settings: Settings, tmp_path: Path) -> None:
    result = kgctl(
        settings, tmp_path, "ingest", "dbpedia", "--endpoint", "http://x/s", "--file", "f.nt"
    )
    assert result.returncode == 2
    assert "not both" in result.stderr


def test_invalid_lines_are_quarantined_by_line_number_and_the_rest_stored(
    linked_graph: Database, settings: Settings, tmp_path: Path, ingest_options: IngestOptions
) -> None:
    lines = FILMS_SLICE.read_text().splitlines()
    lines.insert(2, f"<{DBR}Blazing_Saddles> <http://dbpedia.org/ontology/director> broken .")
    lines.insert(499, '<http://x/a> <http://x/b> "unterminated .')
    damaged = tmp_path / "damaged.nt"
    damaged.write_text("\n".join(lines) + "\n")
    report = ingest_dbpedia_file(linked_graph, damaged, ingest_options)
    assert report.rejected == 2
    [quarantine_file] = ingest_options.quarantine_dir.glob("*.jsonl")
    rejects = [json.loads(line) for line in quarantine_file.read_text().splitlines()]
    assert [r["line"] for r in rejects] == [3, 500]
    assert rejects[0]["record"] == lines[2]
    assert snapshot(linked_graph)[1] == expected_facts()


def test_truncated_gzip_fails_naming_the_last_complete_line_and_stores_no_fact(
    linked_graph: Database, settings: Settings, tmp_path: Path, ingest_options: IngestOptions
) -> None:
    compressed = gzip.compress(FILMS_SLICE.read_bytes())
    cut = compressed[: len(compressed) * 6 // 10]
    truncated = tmp_path / "films.nt.gz"
    truncated.write_bytes(cut)
    readable = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(cut).decode()
    complete_lines = readable[: readable.rindex("\n") + 1].count("\n")

    with pytest.raises(CorruptSource) as err:
        ingest_dbpedia_file(linked_graph, truncated, ingest_options)
    assert f"{truncated}: the compressed stream is cut or corrupt after line" in str(err.value)
    last = int(str(err.value).split("after line ")[1].split(",")[0])
    assert 0 < last <= complete_lines
    assert snapshot(linked_graph)[1] == set()  # facts are written once the file is read


def test_ntriples_cut_mid_triple_fails_instead_of_losing_the_last_fact(
    linked_graph: Database, settings: Settings, tmp_path: Path, ingest_options: IngestOptions
) -> None:
    text = FILMS_SLICE.read_text()
    cut = tmp_path / "cut.nt"
    cut.write_text(text[: text.rindex(" <")], encoding="utf-8")  # the last triple, half
    lines = cut.read_text().count("\n") + 1
    with pytest.raises(CorruptSource, match=rf"cut.nt:{lines}: the file ends mid-record"):
        ingest_dbpedia_file(linked_graph, cut, ingest_options)
    assert snapshot(linked_graph)[1] == set()


def test_turtle_gives_the_same_facts_as_ntriples(
    linked_graph: Database, settings: Settings, tmp_path: Path, ingest_options: IngestOptions
) -> None:
    # The hostile IRIs of the slice are not valid Turtle IRIs; leave them out here.
    plain = [line for line in FILMS_SLICE.read_text().splitlines() if "DETACH" not in line]
    nt = tmp_path / "films.nt"
    nt.write_text("\n".join(plain) + "\n")
    ttl = tmp_path / "films.ttl"
    parse_nt(nt).serialize(ttl, format="turtle")
    assert ttl.read_text() != nt.read_text()

    ingest_dbpedia_file(linked_graph, nt, ingest_options)
    from_nt = snapshot(linked_graph)
    clear_graph(linked_graph)
    add_items(linked_graph, ITEMS)
    report = ingest_dbpedia_file(linked_graph, ttl, ingest_options)
    assert snapshot(linked_graph) == from_nt
    assert from_nt[1] == expected_facts(nt)
    assert report.rejected == 0


def test_hostile_iris_and_labels_change_no_query(
    empty_graph: Database,
    settings: Settings,
    sparql_endpoint: str,
    tmp_path: Path,
    ingest_options: IngestOptions,
) -> None:
    add_items(empty_graph, [*ITEMS, *HOSTILE_ITEM_URIS])
    lenient = IngestOptions(500, 1.0, ingest_options.quarantine_dir)
    with RecordingProxy(sparql_endpoint) as proxy:
        source = source_for(proxy.url, tmp_path / "cache")
        report = ingest_dbpedia_endpoint(empty_graph, source, lenient)
    assert not any("Hostile" in query for query in proxy.queries)
    [quarantine_file] = ingest_options.quarantine_dir.glob("*.jsonl")
    rejects = [json.loads(line) for line in quarantine_file.read_text().splitlines()]
    assert sorted(r["record"] for r in rejects) == sorted(HOSTILE_ITEM_URIS)
    assert report.rejected == len(HOSTILE_ITEM_URIS)

    # Every item is still there, and the hostile entity of the data is stored verbatim.
    assert count_nodes(empty_graph)["Item"] == len(ITEMS) + len(HOSTILE_ITEM_URIS)
    entities, facts = snapshot(empty_graph)
    assert (HOSTILE_ENTITY, frozenset({"Entity", "Person"}), "x'}) DETACH DELETE n //") in entities
    assert (DBR + "Blazing_Saddles", "STARRING", HOSTILE_ENTITY) in facts
    assert facts == expected_facts()

    file_report = ingest_dbpedia_file(empty_graph, FILMS_SLICE, lenient)
    hostile_predicate = "http://dbpedia.org/ontology/starring`]->() DETACH DELETE n //"
    assert file_report.unmapped[hostile_predicate] == 1
    assert snapshot(empty_graph) == (entities, facts)
