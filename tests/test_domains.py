"""Two domains in one graph: users shared between them keep every source's provenance,
`kgctl stats` counts Table 1 per domain, and `ingest dbpedia --domain` asks only about
that domain's items."""

from pathlib import Path

import pytest

from kgstore.db import Database
from kgstore.errors import DomainConflict
from kgstore.graph.mapping import BY_DBPEDIA_PREDICATE, Domain
from kgstore.ingest.session import IngestOptions
from kgstore.ingest.sources.dbpedia_file import ingest_dbpedia_file
from kgstore.ingest.sources.interactions import ingest_interactions
from kgstore.ingest.write.graph_writer import GraphWriter
from kgstore.ingest.write.writer import Provenance
from kgstore.stats import Table1, graph_stats

DBR = "http://dbpedia.org/resource/"
DBO = "http://dbpedia.org/ontology/"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_shared_users_keep_both_sources_and_table1_is_counted_per_domain(
    empty_graph: Database, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    movies = write(tmp_path / "movies.seq", "u1 m1 m2\nu2 m2\n")
    books = write(tmp_path / "books.seq", "u1 b1\nu3 b1 b2 b3\n")
    first = ingest_interactions(empty_graph, movies, Domain.MOVIES, options=ingest_options)
    second = ingest_interactions(empty_graph, books, Domain.BOOKS, options=ingest_options)
    with GraphWriter(empty_graph, Provenance("tests", "facts")) as writer:
        writer.relationship(BY_DBPEDIA_PREDICATE[DBO + "director"], "m1", DBR + "Someone")
        writer.relationship(BY_DBPEDIA_PREDICATE[DBO + "author"], "b1", DBR + "Someone")
        writer.relationship(BY_DBPEDIA_PREDICATE[DBO + "author"], "b2", DBR + "Writer")

    [shared] = empty_graph.query("MATCH (u:User {id: 'u1'}) RETURN u.ingestRuns AS runs")
    assert shared["runs"] == [first.run, second.run]

    stats = graph_stats(empty_graph)
    assert stats.domains == {
        Domain.MOVIES: Table1(users=2, items=2, interactions=3, entities=1, triples=1),
        Domain.BOOKS: Table1(users=2, items=3, interactions=4, entities=2, triples=2),
    }
    assert (stats.users, stats.items, stats.interactions) == (3, 5, 7)
    assert (stats.entities, stats.triples) == (2, 3)


def test_dbpedia_domain_asks_only_about_that_domains_items(
    empty_graph: Database, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    facts = write(
        tmp_path / "facts.nt",
        f"<{DBR}Film> <{DBO}director> <{DBR}Director> .\n"
        f"<{DBR}Novel> <{DBO}author> <{DBR}Author> .\n",
    )
    with GraphWriter(empty_graph, Provenance("tests", "items")) as writer:
        writer.item("m1", Domain.MOVIES.label, {"uri": DBR + "Film"})
        writer.item("b1", Domain.BOOKS.label, {"uri": DBR + "Novel"})

    report = ingest_dbpedia_file(empty_graph, facts, ingest_options, Domain.BOOKS)

    assert report.relationships == {"AUTHORED_BY": 1}
    rows = empty_graph.query("MATCH (i:Item)-[r]->(e:Entity) RETURN i.id AS item, e.uri AS e")
    assert rows == [{"item": "b1", "e": DBR + "Author"}]


def test_a_file_ingested_with_the_wrong_domain_is_refused_before_any_write(
    empty_graph: Database, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    books = write(tmp_path / "books.seq", "u1 b1 b2\n")
    ingest_interactions(empty_graph, books, Domain.BOOKS, options=ingest_options)
    before = empty_graph.query("MATCH (n) WHERE NOT n:Run RETURN count(n) AS c")
    more_books = write(tmp_path / "more-books.seq", "u2 b3 b2\n")

    with pytest.raises(DomainConflict, match=r"under another domain, e\.g\. b2 \(Book\)"):
        ingest_interactions(empty_graph, more_books, Domain.MOVIES, options=ingest_options)

    assert empty_graph.query("MATCH (n) WHERE NOT n:Run RETURN count(n) AS c") == before
    assert empty_graph.query("MATCH (i:Movie) RETURN count(i) AS c") == [{"c": 0}]
