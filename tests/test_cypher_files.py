"""Every query file under cypher/ parses, declares exactly the parameters it uses and is
valid against the real Neo4j (EXPLAIN plans it); the inspection queries return the shape
their header promises on a small graph; `kgctl query` binds parameters and refuses writes.

The library on the films demo with personas: tests/test_query_library.py."""

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from kgstore.db import Database
from kgstore.query.library import (
    QueryFileError,
    QueryParam,
    find_query,
    header_notes,
    library_files,
    query_name,
    read_query,
    statement_params,
)
from kgstore.query.run import QueryInputError, bind_params, run_query
from kgstore.settings import Settings
from tests.ingest_checks import run_kgctl

LIBRARY_FILES = library_files()
DUMMY = {"string": "x", "int": 1, "float": 0.5, "bool": True}

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
    """The rows of a library file, checked to come in the columns its header promises."""
    query = find_query(name)
    result = run_query(db, query, {**query.defaults(), **params})
    assert result.columns == list(query.columns)
    return result.rows


def dummy_value(param: QueryParam) -> Any:
    if param.type.startswith("list<"):
        return [DUMMY[param.type[5:-1]]]
    return DUMMY[param.type]


@pytest.fixture
def small_graph(empty_graph: Database) -> Database:
    empty_graph.query(SMALL_GRAPH, raters=RATERS_OF_HEAT)
    return empty_graph


def test_the_library_holds_every_kind_of_query() -> None:
    names = {query_name(path) for path in LIBRARY_FILES}
    assert {
        "inspect/graph_overview",
        "inspect/table1",
        "inspect/item_neighbourhood",
        "inspect/user_history",
        "personas/similar_users",
        "personas/profile",
        "items/similar_items",
        "recommend/session_paths",
        "runs/vectors",
        "runs/hdgi_attention",
    } <= names


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=query_name)
def test_library_file_declares_its_parameters_and_plans(path: Path, db: Database) -> None:
    """The header's `@param` lines are exactly the statement's parameters (a file cannot
    drift from its documentation), and Neo4j plans the statement with values of the
    declared types."""
    query = read_query(path, query_name(path))
    assert set(statement_params(query.statement)) == {p.name for p in query.params}
    assert query.description and query.columns
    params = {p.name: dummy_value(p) for p in query.params}
    db.driver.execute_query(f"EXPLAIN {query.statement}", params, database_=db.name)


def test_item_neighbourhood_lists_facts_then_items_then_one_raters_row(
    small_graph: Database,
) -> None:
    """Facts come first even for an item with more raters than any LIMIT, and the raters
    are summed up in one row instead of one row each."""
    rows = run_inspection(small_graph, "item_neighbourhood", itemId="heat")

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
    rows = run_inspection(small_graph, "graph_overview")

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
    rows = run_inspection(small_graph, "shared_entities", itemA="heat", itemB="ronin")

    assert [
        (row["entity"], set(row["labels"]), row["relationsA"], row["relationsB"]) for row in rows
    ] == [
        ("Ann", {"Entity", "Person"}, ["DIRECTED_BY"], ["DIRECTED_BY", "STARRING"]),
        ("Crime", {"Entity", "Genre"}, ["HAS_GENRE"], ["HAS_GENRE"]),
    ]


def test_user_history_filters_by_domain_and_gives_iso_times(small_graph: Database) -> None:
    """Seconds since the epoch (whole or not) come out as ISO 8601 times in UTC; a rating
    without a time (ronin's) has none."""
    small_graph.query(
        "MATCH (u:User {id: 'fan'}) "
        "CREATE (u)-[:RATED {rating: 4, pos: 0, ts: 1546300800}]->"
        "(:Item:Book {id: 'novel', title: 'Novel'}), "
        "(u)-[:RATED {rating: 2, pos: 1, ts: 1546387261.5}]->(:Item:Book {id: 'saga'})"
    )
    both = run_inspection(small_graph, "user_history", userId="fan")
    assert [(row["domain"], row["item"], row["position"], row["timestamp"]) for row in both] == [
        ("books", "novel", 0, "2019-01-01T00:00:00+00:00"),
        ("books", "saga", 1, "2019-01-02T00:01:01.500000+00:00"),
        ("movies", "ronin", 0, None),
    ]
    books = run_inspection(small_graph, "user_history", userId="fan", domain="books")
    assert [row["item"] for row in books] == ["novel", "saga"]


def graph_size(db: Database) -> tuple[int, int]:
    row = db.query("RETURN COUNT { (n) } AS n, COUNT { ()-->() } AS r")[0]
    return row["n"], row["r"]


@pytest.mark.parametrize(
    "hostile",
    ["fan' OR true //", "x'}) DETACH DELETE n //", 'fan"}) MATCH (m) DETACH DELETE m //'],
)
def test_a_hostile_value_is_a_value_not_query_text(small_graph: Database, hostile: str) -> None:
    before = graph_size(small_graph)
    query = find_query("inspect/user_history")
    rows = run_query(small_graph, query, bind_params(query, [f"userId={hostile}"])).rows
    assert rows == []
    assert graph_size(small_graph) == before


def scratch_query(tmp_path: Path, body: str, header: str = "") -> Path:
    path = tmp_path / "scratch.cypher"
    path.write_text(
        "// A scratch query of the tests.\n"
        + header
        + "// @param id string: the scratch node's id\n// @returns id\n"
        + body
    )
    return path


def test_a_query_that_writes_is_refused_without_write(
    empty_graph: Database, tmp_path: Path
) -> None:
    path = scratch_query(tmp_path, "CREATE (n:Scratch {id: $id}) RETURN n.id AS id;")
    query = find_query(str(path))
    with pytest.raises(QueryInputError, match="--write"):
        run_query(empty_graph, query, {"id": "a"})
    assert graph_size(empty_graph) == (0, 0)
    assert run_query(empty_graph, query, {"id": "a"}, write=True).rows == [{"id": "a"}]
    assert graph_size(empty_graph) == (1, 0)


def test_a_broken_or_unreadable_file_is_a_clear_error(
    empty_graph: Database, tmp_path: Path
) -> None:
    broken = scratch_query(tmp_path, "MATCH (n RETURN n.id AS id;")
    with pytest.raises(QueryInputError, match=r"scratch.cypher\): Invalid input"):
        run_query(empty_graph, find_query(str(broken)), {"id": "a"})
    binary = tmp_path / "binary.cypher"
    binary.write_bytes(b"\xff\xfe// not UTF-8\n")
    with pytest.raises(QueryFileError, match=r"binary\.cypher: cannot read it as UTF-8"):
        find_query(str(binary))


HEADERLESS_FIX = (
    "MATCH (i:Item {id: $id}) SET i.fixed = true RETURN i.id AS item, i.fixed AS fixed;\n"
)
"""A user's one-off fix: no header at all."""


def test_a_file_without_a_header_runs_with_the_results_columns(
    small_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    """Any .cypher file runs: columns from the result, the statement's parameters as text,
    and a note on what the header adds. The library's own files still need `@returns`, and
    a header that disagrees with the result is refused before the query writes."""
    path = tmp_path / "my_fix.cypher"
    path.write_text(HEADERLESS_FIX)
    query = find_query(str(path))
    assert query.columns is None and [(p.name, p.type) for p in query.params] == [("id", "string")]
    result = run_query(small_graph, query, bind_params(query, ["id=heat"]), write=True)
    assert (result.columns, result.rows) == (["item", "fixed"], [{"item": "heat", "fixed": True}])

    log = tmp_path / "kgctl.log"
    code = run_kgctl(settings, "query", str(path), "-p", "id=ronin", "--write", output=log)
    out = log.read_text()
    assert code == 0, out
    assert "ronin" in out and "has no `// @returns col1, col2, ...` header line" in out
    assert "the library checks the result against it" in out and "(id) are sent as text" in out
    [fixed] = small_graph.query("MATCH (i:Item) WHERE i.fixed RETURN collect(i.id) AS ids")
    assert sorted(fixed["ids"]) == ["heat", "ronin"]

    library = tmp_path / "library"
    library.mkdir()
    (library / "my_fix.cypher").write_text(HEADERLESS_FIX)
    with pytest.raises(QueryFileError, match=r"my_fix\.cypher: the header has no `// @returns`"):
        find_query("my_fix", root=library)

    drifted = scratch_query(
        tmp_path, "MATCH (i:Item {id: $id}) SET i.drift = 1 RETURN i.id AS item;"
    )
    query = find_query(str(drifted))
    assert header_notes(query) == []
    with pytest.raises(QueryInputError, match=r"returns item but its `// @returns` header says id"):
        run_query(small_graph, query, {"id": "heat"}, write=True)
    assert small_graph.query("MATCH (i:Item) WHERE i.drift IS NOT NULL RETURN i") == []


def test_parameters_are_checked_against_the_header(tmp_path: Path) -> None:
    query = find_query("personas/similar_users")
    assert bind_params(query, ["userId=u1"]) == {"userId": "u1", "domain": None, "k": 10}
    assert bind_params(query, ["userId=u1", "k=3"])["k"] == 3
    with pytest.raises(QueryInputError) as problem:
        bind_params(query, ["k=three", "colour=red", "nonsense"])
    message = str(problem.value)
    for part in (
        "similar_users.cypher",
        "k (int)",
        "unknown parameter 'colour'",
        "'nonsense'",
        "missing parameter 'userId'",
    ):
        assert part in message
    paths = find_query("recommend/session_paths")
    assert bind_params(paths, ["items=a, b,c", "target=t"])["items"] == ["a", "b", "c"]


def test_a_malformed_header_names_the_file_and_line(tmp_path: Path) -> None:
    path = scratch_query(tmp_path, "RETURN $id AS id;", header="// @param k integer: bad\n")
    with pytest.raises(QueryFileError, match=r"scratch.cypher:2: .*string, int"):
        find_query(str(path))
    with pytest.raises(QueryFileError, match=r"no query 'nope'.*--list"):
        find_query("nope")


def test_kgctl_query_prints_json_csv_and_refuses_bad_input(
    small_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    log = tmp_path / "kgctl.log"

    def kgctl_query(*args: str) -> tuple[int, str]:
        log.write_text("")
        code = run_kgctl(settings, "query", *args, output=log)
        return code, log.read_text()

    code, out = kgctl_query("user_history", "-p", "userId=fan", "--format", "json")
    assert code == 0, out
    assert [row["item"] for row in json.loads(out)] == ["ronin"]
    code, out = kgctl_query(
        "inspect/shared_entities", "-p", "itemA=heat", "-p", "itemB=ronin", "-f", "csv"
    )
    assert code == 0, out
    table = list(csv.reader(io.StringIO(out)))
    assert table[0] == ["entity", "labels", "relationsA", "relationsB"]
    assert [row[0] for row in table[1:]] == ["Ann", "Crime"]
    code, out = kgctl_query("user_history")
    assert code == 2 and "missing parameter 'userId'" in out and "user_history.cypher" in out
    write = scratch_query(tmp_path, "CREATE (n:Scratch {id: $id}) RETURN n.id AS id;")
    before = graph_size(small_graph)
    code, out = kgctl_query(str(write), "-p", "id=a")
    assert code == 2 and "--write" in out and graph_size(small_graph) == before
    code, out = kgctl_query(str(write), "-p", "id=a", "--write", "-f", "json")
    assert code == 0 and json.loads(out) == [{"id": "a"}]
    code, out = kgctl_query("--list")
    assert code == 0 and "personas/similar_users" in out and "recommend/session_paths" in out


def test_kgctl_query_csv_keeps_every_digit_and_table_counts_rows(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    """CSV: numbers as computed (not rounded for the eye), `\\n` line ends unless --crlf;
    the table's count in the singular for one row."""
    third = scratch_query(tmp_path, "RETURN $id AS id, 1.0 / 3 AS third;").read_text()
    path = tmp_path / "third.cypher"
    path.write_text(third.replace("// @returns id\n", "// @returns id, third\n"))
    log = tmp_path / "kgctl.log"
    runs = {
        "csv": ["-f", "csv"],
        "crlf": ["-f", "csv", "--crlf"],
        "table": [],
    }
    out = {}
    for name, args in runs.items():
        log.write_bytes(b"")
        assert run_kgctl(settings, "query", str(path), "-p", "id=a", *args, output=log) == 0
        out[name] = log.read_bytes()
    assert out["csv"] == b"id,third\na,0.3333333333333333\n"
    assert out["crlf"] == b"id,third\r\na,0.3333333333333333\r\n"
    assert out["table"].decode().splitlines()[-1] == "1 row"
    assert b"0.3333 " in out["table"]  # the table still rounds for the eye
