"""Every file of the cypher/ library on the films demo with trained HDGI personas: rows of
the documented shape, and answers that mean what the header says (Table 1 equals
`kgctl stats`, persona neighbours share planted groups, paths run through shared
entities, runs account for the vectors they wrote)."""

import json
from collections import Counter
from typing import Any

import pytest

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.graph.mapping import Domain
from kgstore.personas import runner
from kgstore.personas.runner import PersonaReport
from kgstore.query.library import find_query, library_files, query_name
from kgstore.query.run import run_query
from kgstore.serve.graph_queries import title_query
from kgstore.stats import domain_table1
from kgstore.train.hdgi import HDGIConfig
from tests.demo_data import GROUPS, films_demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(db: Database, tmp_path_factory: pytest.TempPathFactory) -> PersonaReport:
    films_demo(db, tmp_path_factory.mktemp("quarantine"))
    store = ArtifactStore(str(tmp_path_factory.mktemp("artifacts")))
    return runner.train_personas(db, store, Domain.MOVIES, HDGIConfig())


def rows_of(db: Database, name: str, **params: Any) -> list[dict[str, Any]]:
    query = find_query(name)
    result = run_query(db, query, {**query.defaults(), **params})
    assert result.columns == list(query.columns)
    return result.rows


def some_users(db: Database, count: int) -> list[str]:
    rows = db.query(
        "MATCH (u:User) WHERE u.persona_movies IS NOT NULL RETURN u.id AS id ORDER BY id LIMIT $n",
        n=count,
    )
    return [row["id"] for row in rows]


def two_items_sharing_an_entity(db: Database) -> tuple[str, str, str]:
    [row] = db.query(
        "MATCH (a:Item)-[:DIRECTED_BY]->(e:Entity)<-[:DIRECTED_BY]-(b:Item) WHERE a.id < b.id "
        "AND NOT (a)--(b) RETURN a.id AS a, b.id AS b, e.name AS name ORDER BY a, b LIMIT 1"
    )
    return row["a"], row["b"], row["name"]


def test_every_library_file_returns_rows_of_its_shape(db: Database, trained: PersonaReport) -> None:
    user = some_users(db, 1)[0]
    item_a, item_b, _ = two_items_sharing_an_entity(db)
    values = {
        "userId": user,
        "itemId": item_a,
        "itemA": item_a,
        "itemB": item_b,
        "items": [item_a],
        "target": item_b,
        "query": title_query(
            db.query("MATCH (i:Item {id: $id}) RETURN i.title AS t", id=item_a)[0]["t"]
        ),
    }
    for path in library_files():
        query = find_query(query_name(path))
        params = {p.name: values[p.name] for p in query.params if p.name in values}
        assert rows_of(db, query.name, **params), f"{query.name} returned nothing"


def test_table1_is_what_kgctl_stats_prints(db: Database, trained: PersonaReport) -> None:
    [row] = rows_of(db, "inspect/table1")
    table = domain_table1(db, Domain.MOVIES)
    assert row == {"domain": "movies", **table.__dict__}
    assert (row["items"], row["interactions"]) == (3_084, 34_927)


def test_persona_neighbours_share_the_planted_group(db: Database, trained: PersonaReport) -> None:
    """The nearest users by persona mostly come from the user's own planted group (chance:
    1 in 8), ordered by score, never the user itself."""
    planted = db.query("MATCH (u:User) RETURN u.id AS id, u.plantedGroup AS g")
    groups = {row["id"]: row["g"] for row in planted}
    same = []
    for user in some_users(db, 40):
        rows = rows_of(db, "personas/similar_users", userId=user, k=10)
        assert len(rows) == 10 and user not in {row["user"] for row in rows}
        assert {(row["domain"], row["personaRun"]) for row in rows} == {("movies", trained.run)}
        scores = [row["score"] for row in rows]
        assert scores == sorted(scores, reverse=True)
        same += [row["plantedGroup"] == groups[user] for row in rows]
    assert sum(same) / len(same) > 2 / GROUPS, sum(same) / len(same)


def test_profile_counts_the_users_items_per_entity(db: Database, trained: PersonaReport) -> None:
    user = some_users(db, 1)[0]
    rows = rows_of(db, "personas/profile", userId=user, minItems=1, limit=1000)
    rated = db.query(
        "MATCH (:User {id: $u})-[:RATED]->(i:Item)-[r]->(e:Entity) "
        "RETURN type(r) AS rel, coalesce(e.name, e.uri) AS entity, count(DISTINCT i) AS n",
        u=user,
    )
    assert Counter({(r["relation"], r["entity"]): r["items"] for r in rows}) == Counter(
        {(r["rel"], r["entity"]): r["n"] for r in rated}
    )
    assert [row["items"] for row in rows] == sorted((row["items"] for row in rows), reverse=True)
    assert {tuple(row["personaRuns"]) for row in rows} == {(f"movies {trained.run}",)}
    shared = rows_of(db, "personas/profile", userId=user, limit=1000)
    assert shared == [row for row in rows if row["items"] >= 2]
    assert shared, "the demo user shares no entity between two items: pick a richer user"


def test_similar_items_by_text_embedding(db: Database, trained: PersonaReport) -> None:
    item_a, _, _ = two_items_sharing_an_entity(db)
    rows = rows_of(db, "items/similar_items", itemId=item_a, k=5)
    assert len(rows) == 5 and item_a not in {row["item"] for row in rows}
    assert all(row["title"] for row in rows)
    assert [row["score"] for row in rows] == sorted((row["score"] for row in rows), reverse=True)


def test_session_paths_run_through_shared_entities(db: Database, trained: PersonaReport) -> None:
    """Two films with a director in common and no direct link: every path found is two
    hops through an entity both link to (inspect/shared_entities), written from the
    session item's title to the target's."""
    item_a, item_b, _ = two_items_sharing_an_entity(db)
    rows = rows_of(db, "recommend/session_paths", items=[item_a, "no-such-item"], target=item_b)
    found = db.query(
        "MATCH (i:Item) WHERE i.id IN $ids RETURN i.id AS id, i.title AS t", ids=[item_a, item_b]
    )
    titles = {row["id"]: row["t"] for row in found}
    shared = {row["entity"] for row in rows_of(db, "shared_entities", itemA=item_a, itemB=item_b)}
    assert len(rows) == 3 and {row["sessionItem"] for row in rows} == {item_a}
    for row in rows:
        assert row["hops"] == 2 and len(row["via"]) == 1 and row["via"][0] in shared
        assert row["path"].startswith(f"{titles[item_a]} -[")
        assert row["path"].endswith(f"]- {titles[item_b]}")
        assert f"]-> {row['via'][0]} <-[" in row["path"]


def test_runs_account_for_the_vectors_they_wrote(db: Database, trained: PersonaReport) -> None:
    rows = {row["run"]: row for row in rows_of(db, "runs/vectors", limit=100)}
    assert rows[trained.run]["personas"] == trained.users
    assert json.loads(rows[trained.run]["metrics"])["run"] == trained.run
    embedded = db.query("MATCH (n:Item) RETURN n.textEmbeddingRun AS run, count(*) AS n")
    for row in embedded:
        assert rows[row["run"]]["items"] == row["n"]


def test_attention_weights_are_the_runs(db: Database, trained: PersonaReport) -> None:
    rows = rows_of(db, "runs/hdgi_attention", run=trained.run)
    assert {row["metapath"]: row["weight"] for row in rows} == pytest.approx(
        trained.semantic_weights
    )
    assert sum(row["weight"] for row in rows) == pytest.approx(1.0, abs=1e-5)
    assert rows_of(db, "runs/hdgi_attention")[0]["run"] == trained.run  # latest by default


def test_user_history_per_domain_in_order(db: Database, trained: PersonaReport) -> None:
    user = some_users(db, 1)[0]
    rows = rows_of(db, "inspect/user_history", userId=user, domain="movies")
    assert [row["position"] for row in rows] == list(range(len(rows)))
    assert rows_of(db, "inspect/user_history", userId=user, domain="books") == []
