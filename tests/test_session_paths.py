"""Which KG paths explain a recommended item (cypher/recommend/session_paths.cypher, run by
`kgctl recommend` through `kg_paths`), on the real DBpedia films of the demo: the most
specific shared entities come first, as the file's header says."""

import re

import pytest

from kgstore.db import Database
from kgstore.query.library import find_query
from kgstore.query.run import run_query
from kgstore.recsys.recommend import kg_paths
from tests.demo_data import films_graph

pytestmark = pytest.mark.slow  # about 20 s to ingest the demo when the graph lacks it

KUBRICK_SESSION = ("A Clockwork Orange", "Barry Lyndon", "Full Metal Jacket")
"""Films Stanley Kubrick directed and produced (and wrote, two of them)."""


@pytest.fixture(scope="module")
def films(db: Database, tmp_path_factory: pytest.TempPathFactory) -> Database:
    return films_graph(db, tmp_path_factory.mktemp("quarantine"))


def directed_by(db: Database, director: str) -> dict[str, str]:
    """Title -> item id of the films `director` directed."""
    rows = db.query(
        "MATCH (i:Item)-[:DIRECTED_BY]->(:Entity {name: $name}) RETURN i.title AS t, i.id AS id",
        name=director,
    )
    return {row["t"]: row["id"] for row in rows}


def kubrick_session(db: Database) -> list[str]:
    kubrick = directed_by(db, "Stanley Kubrick")
    return [kubrick[title] for title in KUBRICK_SESSION]


def test_a_directors_films_explain_his_other_films_through_the_director(films: Database) -> None:
    """Each other film Kubrick directed is explained first by DIRECTED_BY on both sides of
    Kubrick: not by his producer or writer credits on the same node (Eyes Wide Shut was
    explained by `DIRECTED_BY -> Kubrick <- PRODUCED_BY`), nor by a shared distributor."""
    kubrick = directed_by(films, "Stanley Kubrick")
    session = kubrick_session(films)
    others = sorted(set(kubrick) - set(KUBRICK_SESSION))
    assert "Eyes Wide Shut" in others and len(others) >= 5
    query = find_query("recommend/session_paths")
    starts = "|".join(re.escape(title) for title in KUBRICK_SESSION)
    for title in others:
        first = kg_paths(films, query, session, kubrick[title])[0]
        shared_director = rf"(?:{starts}) -\[DIRECTED_BY\]-> Stanley Kubrick <-\[DIRECTED_BY\]- "
        assert re.fullmatch(shared_director + re.escape(title), first), first


def test_a_chain_runs_through_rare_entities_before_a_distributor(films: Database) -> None:
    """Philadelphia shares no entity with the Kubrick session, so its paths are 4-hop
    chains. The first runs through nodes with the fewest KG relationships, not through
    Warner Bros. or Columbia Pictures (hundreds of films), and the rows come in the order
    the header gives: fewer hops, then same relationship type at both ends, then degree."""
    [philadelphia] = films.query("MATCH (i:Item {title: 'Philadelphia'}) RETURN i.id AS id")
    rows = run_query(
        films,
        find_query("recommend/session_paths"),
        {"items": kubrick_session(films), "target": philadelphia["id"]},
    ).rows
    assert len(rows) > 3 and {row["hops"] for row in rows} == {4}
    assert "DISTRIBUTED_BY" not in rows[0]["path"], rows[0]["path"]
    assert rows[0]["degree"] == min(row["degree"] for row in rows)
    distributors = films.query(
        "MATCH ()-[:DISTRIBUTED_BY]->(e:Entity) WHERE e.name IN ['Warner Bros.', "
        "'Columbia Pictures'] RETURN DISTINCT e.name AS name, COUNT { (e)--() } AS links"
    )
    assert len(distributors) == 2
    assert rows[0]["degree"] < min(row["links"] for row in distributors)
