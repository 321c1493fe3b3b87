"""The import files of the bulk path, without Neo4j: one type per column, values that
survive CSV quoting, and clear refusals (what the import does with them is tested on a
private stack in test_ingest_private_stack.py)."""

import csv
from pathlib import Path

import pytest

from kgstore.errors import BulkImportError
from kgstore.graph.mapping import BY_TYPE
from kgstore.ingest.write.bulk_files import write_import_files
from kgstore.ingest.write.bulk_writer import BulkGraph, BulkWriter
from kgstore.ingest.write.writer import Provenance


def written(tmp_path: Path, items: dict[str, dict]) -> dict[str, dict[str, str]]:
    """Write items through a BulkWriter; the Item file as {id: {column header: field}}."""
    graph = BulkGraph()
    with BulkWriter(graph, Provenance("tests", "bulk")) as writer:
        for key, props in items.items():
            writer.item(key, "Movie", props)
    files = write_import_files(graph, tmp_path)
    with files.nodes[0].open(encoding="utf-8", newline="") as handle:
        return {row["id:ID(Item)"]: row for row in csv.DictReader(handle)}


def test_text_with_quotes_commas_and_newlines_survives(tmp_path: Path) -> None:
    title = 'He said "no", then\nleft; twice'
    rows = written(tmp_path, {"a": {"title": title, "genres": ["x;y", 'q"'], "year": 1999}})
    assert rows["a"]["title:string"] == title
    assert rows["a"]["genres:string[]"].split("\x1f") == ["x;y", 'q"']
    assert rows["a"][":LABEL"].split("\x1f") == ["Item", "Movie"]


def test_integers_and_floats_in_one_property_become_floats(tmp_path: Path) -> None:
    rows = written(tmp_path, {"a": {"score": 4}, "b": {"score": 4.5}, "c": {}})
    assert (rows["a"]["score:double"], rows["b"]["score:double"]) == ("4", "4.5")
    assert rows["c"]["score:double"] == ""  # no property, not an empty string


def test_a_property_with_two_types_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(BulkImportError, match=r"Item\.year holds values of several types"):
        written(tmp_path, {"a": {"year": 1999}, "b": {"year": "1999"}})


def test_a_value_with_the_array_delimiter_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BulkImportError, match="U\\+001F"):
        written(tmp_path, {"a": {"title": "bad\x1fvalue"}})


def test_relationships_repeat_once_and_dangling_ones_are_counted(tmp_path: Path) -> None:
    graph = BulkGraph()
    rated = BY_TYPE["RATED"]
    with BulkWriter(graph, Provenance("tests", "bulk")) as writer:
        writer.node("User", "u")
        writer.item("i", "Movie", {})
        writer.relationship(rated, "u", "i", {"rating": 1, "ts": 7})
        writer.relationship(rated, "u", "i", {"rating": 5, "ts": None})
        writer.relationship(rated, "u", "missing", {"rating": 2})
        writer.relationship(rated, "ghost", "i", {"rating": 2})
    assert writer.counts.relationships == {"RATED": 2}
    assert writer.counts.dangling == {"RATED": 2}
    ((key, props),) = graph.relationships.items()
    assert key == ("RATED", ("User", "u"), ("Item", "i"))
    assert props["rating"] == 5
    files = write_import_files(graph, tmp_path)
    with files.relationships[0][1].open(encoding="utf-8", newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["rating:long"] == "5"
    assert not any(column.startswith("ts:") for column in row)  # a null removed it, as online


def test_every_run_that_wrote_a_node_is_listed_once_as_online(tmp_path: Path) -> None:
    graph = BulkGraph()
    starring = BY_TYPE["STARRING"]
    first, second = Provenance("tests", "a"), Provenance("tests", "b")
    for provenance in (first, second, second):
        with BulkWriter(graph, provenance) as writer:
            writer.item("i1", "Movie", {})
            writer.relationship(starring, "i1", "http://dbpedia.org/resource/Actor")
    runs = [first.run_id, second.run_id]
    assert graph.nodes[("Item", "i1")].props["ingestRuns"] == runs
    entity = graph.nodes[("Entity", "http://dbpedia.org/resource/Actor")]
    assert entity.props["ingestRuns"] == runs
    assert entity.props["ingestRun"] == first.run_id  # the entity's creator
