"""Every .cypher file under cypher/ is valid against the real Neo4j (EXPLAIN plans it), and
the inspection queries return the shape their leading comment promises."""

import re
from pathlib import Path
from typing import Any

import pytest

from kgstore.db import Database
from kgstore.paths import CYPHER_DIR
from kgstore.schema import read_statements

INSPECTION_DIR = CYPHER_DIR / "inspect"
INSPECTION_FILES = sorted(INSPECTION_DIR.glob("*.cypher"))

RATERS_OF_HEAT = 250
"""More than the old query's LIMIT 200, so one row per rater would crowd out the facts."""

SMALL_GRAPH = """
CREATE (heat:Item:Movie {id: 'heat'}),
       (ronin:Item:Movie {id: 'ronin'}),
       (tape:Item:Movie {id: 'tape'}),
       (ann:Entity:Person {uri: 'dbr:Ann', name: 'Ann'}),
       (bob:Entity:Person {uri: 'dbr:Bob', name: 'Bob'}),
       (crime:Entity:Genre {uri: 'dbr:Crime', name: 'Crime'}),
       (heat)-[:DIRECTED_BY]->(ann),
       (heat)-[:STARRING]->(bob),
       (heat)-[:HAS_GENRE]->(crime),
       (ronin)-[:DIRECTED_BY]->(ann),
       (ronin)-[:STARRING]->(ann),
       (ronin)-[:HAS_GENRE]->(crime),
       (heat)-[:ALSO_BUY]->(ronin),
       (tape)-[:ALSO_BUY]->(heat),
       (:User {id: 'fan'})-[:RATED {rating: 1, pos: 0}]->(ronin)
WITH heat
UNWIND range(0, $raters - 1) AS k
CREATE (:User {id: 'u' + k})-[:RATED {rating: 1 + k % 5, pos: 0}]->(heat)
"""
"""Three movies, three entities, 251 users. Ann is shared by heat and ronin through two
relationship types on ronin's side; Bob belongs to heat alone. heat's ratings are 1..5,
each equally often, so their mean is 3.0."""


def run_inspection(db: Database, name: str, **params: Any) -> list[dict[str, Any]]:
    """The rows of an inspection file, which must hold exactly one statement."""
    [statement] = read_statements(INSPECTION_DIR / name)
    return db.query(statement, **params)


@pytest.fixture
def small_graph(empty_graph: Database) -> Database:
    empty_graph.query(SMALL_GRAPH, raters=RATERS_OF_HEAT)
    return empty_graph


def test_inspection_queries_exist() -> None:
    assert len(INSPECTION_FILES) >= 4


@pytest.mark.parametrize("path", INSPECTION_FILES, ids=lambda path: path.name)
def test_inspection_query_plans(path: Path, db: Database) -> None:
    for statement in read_statements(path):
        params = {name: "x" for name in re.findall(r"\$(\w+)", statement)}
        db.driver.execute_query(f"EXPLAIN {statement}", params, database_=db.name)


def test_item_neighbourhood_lists_facts_then_items_then_one_raters_row(
    small_graph: Database,
) -> None:
    """Facts come first even for an item with more raters than any LIMIT, and the raters
    are summed up in one row instead of one row each."""
    rows = run_inspection(small_graph, "item_neighbourhood.cypher", itemId="heat")

    assert list(rows[0]) == [
        "kind",
        "relation",
        "direction",
        "name",
        "labels",
        "raters",
        "averageRating",
    ]
    assert [row["kind"] for row in rows] == ["fact"] * 3 + ["item"] * 2 + ["raters"]
    assert [(row["relation"], row["name"], set(row["labels"])) for row in rows[:3]] == [
        ("DIRECTED_BY", "Ann", {"Entity", "Person"}),
        ("HAS_GENRE", "Crime", {"Entity", "Genre"}),
        ("STARRING", "Bob", {"Entity", "Person"}),
    ]
    assert {(row["relation"], row["direction"], row["name"]) for row in rows[3:5]} == {
        ("ALSO_BUY", "out", "ronin"),
        ("ALSO_BUY", "in", "tape"),
    }
    raters = rows[5]
    assert (raters["relation"], raters["raters"], raters["averageRating"]) == (
        "RATED",
        RATERS_OF_HEAT,
        pytest.approx(3.0),
    )


def test_graph_overview_counts_labels_and_relationship_types(small_graph: Database) -> None:
    """Both halves of the promise: nodes per label and relationships per type, labels first
    and each kind largest first."""
    rows = run_inspection(small_graph, "graph_overview.cypher")

    assert {(row["kind"], row["name"]): row["count"] for row in rows} == {
        ("label", "User"): RATERS_OF_HEAT + 1,
        ("label", "Item"): 3,
        ("label", "Movie"): 3,
        ("label", "Entity"): 3,
        ("label", "Person"): 2,
        ("label", "Genre"): 1,
        ("relationship type", "RATED"): RATERS_OF_HEAT + 1,
        ("relationship type", "DIRECTED_BY"): 2,
        ("relationship type", "STARRING"): 2,
        ("relationship type", "HAS_GENRE"): 2,
        ("relationship type", "ALSO_BUY"): 2,
    }
    order = [(row["kind"] != "label", -row["count"]) for row in rows]
    assert order == sorted(order)


def test_shared_entities_gives_one_row_per_entity_with_both_relation_lists(
    small_graph: Database,
) -> None:
    """Ann is reached from ronin through two relationship types, yet is listed once."""
    rows = run_inspection(small_graph, "shared_entities.cypher", itemA="heat", itemB="ronin")

    assert [
        (row["entity"], set(row["labels"]), row["relationsA"], row["relationsB"]) for row in rows
    ] == [
        ("Ann", {"Entity", "Person"}, ["DIRECTED_BY"], ["DIRECTED_BY", "STARRING"]),
        ("Crime", {"Entity", "Genre"}, ["HAS_GENRE"], ["HAS_GENRE"]),
    ]
