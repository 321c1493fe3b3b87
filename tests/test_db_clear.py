"""`kgctl db clear`: refuses without --yes when nobody can be asked, empties the graph
keeping the schema, and removes one domain leaving the other intact."""

from pathlib import Path

from kgstore.db import Database
from kgstore.graph.clear import clear_domain
from kgstore.graph.mapping import BY_DBPEDIA_PREDICATE, Domain
from kgstore.graph.sequences import read_sequences
from kgstore.ingest.session import IngestOptions
from kgstore.ingest.sources.interactions import ingest_interactions
from kgstore.ingest.write.graph_writer import GraphWriter
from kgstore.ingest.write.writer import Provenance
from kgstore.schema import describe_schema
from kgstore.settings import Settings
from tests.ingest_checks import count, graph_state, run_kgctl

DBR = "http://dbpedia.org/resource/"
DIRECTOR = BY_DBPEDIA_PREDICATE["http://dbpedia.org/ontology/director"]
AUTHOR = BY_DBPEDIA_PREDICATE["http://dbpedia.org/ontology/author"]


def two_domains(db: Database, options: IngestOptions, tmp_path: Path) -> None:
    """Movies and books sharing user u1 and one entity (Shared)."""
    movies = tmp_path / "movies.seq"
    movies.write_text("u1 m1 m2\nu2 m2\n", encoding="utf-8")
    books = tmp_path / "books.seq"
    books.write_text("u1 b1\nu3 b1 b2\n", encoding="utf-8")
    ingest_interactions(db, movies, Domain.MOVIES, options=options)
    ingest_interactions(db, books, Domain.BOOKS, options=options)
    with GraphWriter(db, Provenance("tests", "facts")) as writer:
        writer.relationship(DIRECTOR, "m1", DBR + "Shared")
        writer.relationship(DIRECTOR, "m2", DBR + "Only_movies")
        writer.relationship(AUTHOR, "b1", DBR + "Shared")


def test_clear_without_yes_and_nobody_to_ask_is_refused_and_deletes_nothing(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    two_domains(empty_graph, ingest_options, tmp_path)
    before = graph_state(empty_graph)
    log = tmp_path / "kgctl.log"
    assert run_kgctl(settings, "db", "clear", output=log) == 2
    assert run_kgctl(settings, "db", "clear", "--domain", "movies", output=log) == 2
    assert "add --yes to confirm (nothing deleted)" in log.read_text()
    assert "Traceback" not in log.read_text()
    assert graph_state(empty_graph) == before


def test_clear_yes_empties_the_graph_and_keeps_the_schema(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    two_domains(empty_graph, ingest_options, tmp_path)
    schema = describe_schema(empty_graph)
    log = tmp_path / "kgctl.log"
    assert run_kgctl(settings, "db", "clear", "--yes", output=log) == 0, log.read_text()
    assert count(empty_graph, "MATCH (n) RETURN count(n) AS c") == 0
    assert describe_schema(empty_graph) == schema


def test_clear_one_domain_leaves_the_other_intact(
    empty_graph: Database, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    two_domains(empty_graph, ingest_options, tmp_path)
    books = read_sequences(empty_graph, Domain.BOOKS)

    cleared = clear_domain(empty_graph, Domain.MOVIES)

    assert read_sequences(empty_graph, Domain.BOOKS) == books
    assert read_sequences(empty_graph) == books  # nothing of the movies is left
    users = empty_graph.query("MATCH (u:User) RETURN u.id AS id ORDER BY id")
    assert [row["id"] for row in users] == ["u1", "u3"]  # u2 rated only movies
    entities = empty_graph.query("MATCH (e:Entity) RETURN e.uri AS uri")
    assert entities == [{"uri": DBR + "Shared"}]  # still used by b1
    assert count(empty_graph, "MATCH (i:Item) RETURN count(i) AS c") == 2
    # m1, m2, u2, Only_movies; 3 RATED to movies and 2 facts of movies.
    assert (cleared.nodes, cleared.relationships) == (4, 5)
