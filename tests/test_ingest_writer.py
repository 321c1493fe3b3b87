"""`GraphWriter` against the real Neo4j: relationships found by id across writers and
batches, several items behind one uri, dangling counts, provenance, and failures."""

import pytest
from neo4j.exceptions import Neo4jError

from kgstore.db import Database
from kgstore.graph.mapping import BY_TYPE
from kgstore.ingest.write.graph_writer import GraphWriter
from kgstore.ingest.write.writer import Provenance
from kgstore.settings import Settings
from tests.ingest_checks import count

DBR = "http://dbpedia.org/resource/"
STARRING, RATED, ALSO_BUY = BY_TYPE["STARRING"], BY_TYPE["RATED"], BY_TYPE["ALSO_BUY"]


def triples(db: Database) -> set[tuple[str, str, str]]:
    rows = db.query(
        "MATCH (s)-[r]->(t) RETURN coalesce(s.id, s.uri) AS s, type(r) AS r, "
        "coalesce(t.id, t.uri) AS t",
    )
    return {(row["s"], row["r"], row["t"]) for row in rows}


def properties(db: Database, query: str) -> dict:
    """The properties of the one node or relationship `query` returns."""
    records, _, _ = db.driver.execute_query(query, database_=db.name)
    return dict(records[0][0])


def test_relationships_reach_nodes_of_earlier_writers_and_every_item_of_a_uri(
    empty_graph: Database, settings: Settings
) -> None:
    with GraphWriter(empty_graph, Provenance("tests", "items"), batch_size=2) as first:
        for item, uri in (("dvd", "Alien"), ("bluray", "Alien"), ("book", "Dune")):
            first.item(item, "Movie", {"uri": DBR + uri})
        first.node("User", "u1")

    with GraphWriter(empty_graph, Provenance("tests", "facts"), batch_size=2) as second:
        second.relationship(STARRING, DBR + "Alien", DBR + "Sigourney_Weaver", source_key="uri")
        second.relationship(STARRING, DBR + "Dune", DBR + "Sigourney_Weaver", source_key="uri")
        second.relationship(STARRING, DBR + "Nope", DBR + "Nobody", source_key="uri")
        second.relationship(RATED, "u1", "dvd", {"rating": 5, "ts": 10, "pos": 0})
        second.relationship(RATED, "u1", "missing", {"rating": 1, "ts": 11, "pos": 1})
        second.relationship(RATED, "ghost", "book", {"rating": 1, "ts": 12, "pos": 2})
        second.relationship(ALSO_BUY, "dvd", "bluray")

    assert triples(empty_graph) == {
        ("dvd", "STARRING", DBR + "Sigourney_Weaver"),
        ("bluray", "STARRING", DBR + "Sigourney_Weaver"),
        ("book", "STARRING", DBR + "Sigourney_Weaver"),
        ("u1", "RATED", "dvd"),
        ("dvd", "ALSO_BUY", "bluray"),
    }
    assert second.counts.relationships == {"STARRING": 3, "RATED": 1, "ALSO_BUY": 1}
    assert second.counts.dangling == {"STARRING": 1, "RATED": 2, "ALSO_BUY": 0}
    assert count(empty_graph, "MATCH (e:Entity) RETURN count(e) AS c") == 1


def test_an_entity_gets_every_type_label_it_is_reached_by(
    empty_graph: Database, settings: Settings
) -> None:
    with GraphWriter(empty_graph, Provenance("tests", "labels")) as writer:
        writer.item("film", "Movie", {})
        writer.relationship(STARRING, "film", DBR + "Clint_Eastwood", name="Clint Eastwood")
        writer.flush()
        writer.relationship(BY_TYPE["DIRECTED_BY"], "film", DBR + "Clint_Eastwood")
    labels = empty_graph.query("MATCH (e:Entity) RETURN labels(e) AS labels, e.name AS name")
    assert [(sorted(row["labels"]), row["name"]) for row in labels] == [
        (["Entity", "Person"], "Clint Eastwood")
    ]
    assert count(empty_graph, "MATCH (:Item)-[r]->(:Person) RETURN count(r) AS c") == 2


def test_rerun_changes_nothing_and_provenance_names_the_run(
    empty_graph: Database, settings: Settings
) -> None:
    runs = []
    for run in range(2):
        provenance = Provenance("tests", f"run{run}")
        runs.append(provenance.run_id)
        with GraphWriter(empty_graph, provenance, batch_size=3) as writer:
            for n in range(10):
                writer.item(f"i{n}", "Movie", {"title": f"Film {n}"})
                writer.relationship(STARRING, f"i{n}", DBR + f"Actor_{n % 3}")
    assert count(empty_graph, "MATCH (i:Item) RETURN count(i) AS c") == 10
    assert count(empty_graph, "MATCH ()-[r]->() RETURN count(r) AS c") == 10
    node = properties(empty_graph, "MATCH (n:Item {id: 'i0'}) RETURN n")
    assert (node["source"], node["sourceFile"], node["ingestRun"]) == (
        "tests",
        "run1",
        provenance.run_id,
    )
    relationship = properties(empty_graph, "MATCH ()-[r]->() RETURN r LIMIT 1")
    assert relationship == {"ingestRun": provenance.run_id}
    # The first run is not overwritten: every run that wrote a node is listed on it.
    assert node["ingestRuns"] == runs
    entity = properties(empty_graph, "MATCH (e:Entity) RETURN e LIMIT 1")
    assert entity["ingestRuns"] == runs
    assert entity["ingestRun"] == runs[0]  # the entity's creator


def test_repeated_relationships_stay_single_whether_their_nodes_are_new_or_not(
    empty_graph: Database, settings: Settings
) -> None:
    """New endpoints take the CREATE path; a repeat in the same batch, in a later batch,
    or of a relationship an earlier writer made must still end as one relationship with
    the last row's properties."""
    with GraphWriter(empty_graph, Provenance("tests", "old")) as earlier:
        earlier.item("old", "Movie", {})
        earlier.node("User", "u-old")
        earlier.relationship(RATED, "u-old", "old", {"rating": 1})
        earlier.relationship(STARRING, "old", DBR + "Kept_Actor")

    with GraphWriter(empty_graph, Provenance("tests", "new"), batch_size=3) as writer:
        for user in ("u-old", "u-new"):
            writer.node("User", user)
        writer.item("new", "Movie", {})
        for user in ("u-old", "u-new"):
            for item in ("old", "new"):
                for rating in (2, 3, 4, 5):  # repeats in the same batch and in later ones
                    writer.relationship(RATED, user, item, {"rating": rating})
        for actor in ("Kept_Actor", "New_Actor", "Kept_Actor", "New_Actor"):
            for item in ("old", "new"):
                writer.relationship(STARRING, item, DBR + actor)

    ratings = empty_graph.query(
        "MATCH (u:User)-[r:RATED]->(i:Item) RETURN u.id AS u, i.id AS i, "
        "collect(r.rating) AS ratings",
    )
    assert {(row["u"], row["i"]): row["ratings"] for row in ratings} == {
        ("u-old", "old"): [5],
        ("u-old", "new"): [5],
        ("u-new", "old"): [5],
        ("u-new", "new"): [5],
    }
    assert count(empty_graph, "MATCH ()-[r:STARRING]->() RETURN count(r) AS c") == 4
    assert writer.counts.relationships == {"RATED": 16, "STARRING": 8}
    assert writer.counts.dangling == {"RATED": 0, "STARRING": 0}


def test_a_failed_batch_stops_the_writer_and_its_error_reaches_the_caller(
    empty_graph: Database, settings: Settings
) -> None:
    writer = GraphWriter(empty_graph, Provenance("tests", "bad"), batch_size=2)
    writer.item("good", "Movie", {})
    writer.item("bad", "Movie", {"nested": {"maps": "are not property values"}})
    with pytest.raises(Neo4jError):
        writer.flush()
    with pytest.raises(RuntimeError, match="stopped after an error"):
        writer.item("later", "Movie", {})
        writer.item("later2", "Movie", {})
    assert count(empty_graph, "MATCH (i:Item) RETURN count(i) AS c") == 0
