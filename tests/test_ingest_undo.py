"""Undoing an ingest run (`kgctl runs undo`, and a run over its reject threshold), on a
graph that holds earlier data: what the run added goes, what it changed comes back, and
what cannot be put back exactly is refused by name."""

import random
from dataclasses import replace
from pathlib import Path

import pytest

from kgstore.db import Database
from kgstore.errors import TooManyRejects, UndoRefused
from kgstore.graph.mapping import DBR, Domain
from kgstore.ingest.bulk_load import bulk_load
from kgstore.ingest.session import IngestOptions
from kgstore.ingest.sources.amazon_kg import AmazonKgFiles, ingest_amazon_kg
from kgstore.ingest.sources.interactions import ingest_interactions
from kgstore.ingest.write.bulk_writer import BulkGraph
from kgstore.ingest.write.undo import undo_ingest_run
from kgstore.settings import Settings
from tests.amazon_files import tsv, write
from tests.ingest_checks import full_snapshot, run_kgctl


def garbage(path: Path) -> Path:
    """The issue's file: random bytes, then `hello world`, then a line of two fields
    (the seed makes the random lines rejects and the last line the one good record)."""
    path.write_bytes(
        random.Random(9292).randbytes(312) + b"\nhello world\nthis,is,not\tan inter file\n"
    )
    return path


def run_status(db: Database, run_id: str) -> str:
    return db.query("MATCH (r:Run {id: $id}) RETURN r.status AS s", id=run_id)[0]["s"]


@pytest.fixture
def earlier(empty_graph: Database, ingest_options: IngestOptions, tmp_path: Path) -> Database:
    """Two earlier runs: books rated by u1 and u2, then b1 linked to DBpedia with its
    author, Jane (an Entity:Person)."""
    ratings = write(
        tmp_path / "earlier.csv",
        "user,item,rating,timestamp",
        "u1,b1,5,10",
        "u1,b2,4,20",
        "u2,b2,3,15",
        "u2,b3,2,30",
    )
    ingest_interactions(empty_graph, ratings, Domain.BOOKS, options=ingest_options)
    link = write(
        tmp_path / "earlier.link",
        tsv("item_id:token", "entity_id:token"),
        tsv("b1", "res:Book_One"),
    )
    kg = write(
        tmp_path / "earlier.kg",
        tsv("head_id:token", "relation_id:token", "tail_id:token"),
        tsv("res:Book_One", "author", "res:Jane"),
    )
    ingest_amazon_kg(
        empty_graph, AmazonKgFiles(link=link, kg=kg), Domain.BOOKS, options=ingest_options
    )
    return empty_graph


def test_a_garbage_file_over_the_threshold_leaves_the_graph_as_it_was(
    earlier: Database, settings: Settings, tmp_path: Path
) -> None:
    before = full_snapshot(earlier)
    output = tmp_path / "kgctl.log"
    inter = garbage(tmp_path / "garbage.inter")

    code = run_kgctl(
        settings, "ingest", "amazon-kg", "--domain", "books", "--inter", str(inter), output=output
    )

    log = output.read_text()
    assert code == 3, log
    assert "nothing of this input was kept (1 good record written, then removed again" in log
    assert "quarantine" in log and ".jsonl" in log
    assert full_snapshot(earlier) == before
    assert earlier.query("MATCH (u:User {id: 'this,is,not'}) RETURN u") == []
    [run] = earlier.query(
        "MATCH (r:Run {sourceFile: 'garbage.inter'}) RETURN r.status AS status, r.undo AS undo"
    )
    assert run["status"] == "undone" and "rejects over the threshold" in run["undo"]


def test_a_bulk_collection_over_the_threshold_imports_nothing(
    earlier: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    before = full_snapshot(earlier)
    graph = BulkGraph()
    inter = garbage(tmp_path / "garbage.inter")
    ingest_amazon_kg(
        earlier,
        AmazonKgFiles(inter=inter),
        Domain.BOOKS,
        options=replace(ingest_options, bulk=graph),
    )

    with pytest.raises(TooManyRejects, match="nothing was imported"):
        bulk_load(earlier, settings, graph)
    assert full_snapshot(earlier) == before


def changing_run(db: Database, options: IngestOptions, tmp_path: Path) -> str:
    """A run that creates nodes and relationships (u3, b4, New_Author, their links) and
    changes earlier ones: a rating and timestamp of u1->b1, b1's title and uri, b2's uri,
    a Genre label on Jane."""
    inter = write(
        tmp_path / "more.inter",
        tsv("user_id:token", "item_id:token", "rating:float", "timestamp:float"),
        tsv("u1", "b1", "2", "50"),
        tsv("u1", "b4", "3", "60"),
        tsv("u3", "b2", "4", "5"),
        tsv("u3", "b4", "5", "6"),
    )
    items = write(
        tmp_path / "items.csv",
        tsv("iid", "title", "uri"),
        tsv("b1", "Book.*One", DBR + "Book_One_Reprint"),
        tsv("b4", "Book.*Four", DBR + "Book_Four"),
    )
    link = write(
        tmp_path / "more.link", tsv("item_id:token", "entity_id:token"), tsv("b2", "res:Book_Two")
    )
    kg = write(
        tmp_path / "more.kg",
        tsv("head_id:token", "relation_id:token", "tail_id:token"),
        tsv("res:Book_Two", "genre_is", "res:Jane"),
        tsv("res:Book_Two", "author", "res:New_Author"),
    )
    files = AmazonKgFiles(inter=inter, items=items, link=link, kg=kg)
    return ingest_amazon_kg(db, files, Domain.BOOKS, options=options).run


def test_runs_undo_restores_the_graph_from_before_the_run(
    earlier: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    before = full_snapshot(earlier)
    run = changing_run(earlier, ingest_options, tmp_path)
    [changed] = earlier.query(
        "MATCH (u:User {id: 'u1'})-[r:RATED]->(b:Item {id: 'b1'}), (j:Entity {uri: $jane}) "
        "RETURN r.rating AS rating, b.title AS title, b.uri AS uri, labels(j) AS labels, "
        "EXISTS { (:Item {id: 'b4'}) } AS b4",
        jane=DBR + "Jane",
    )
    assert {**changed, "labels": sorted(changed["labels"])} == {
        "rating": 2.0,
        "title": "Book One",
        "uri": DBR + "Book_One_Reprint",
        "labels": ["Entity", "Genre", "Person"],
        "b4": True,
    }

    output = tmp_path / "undo.log"
    assert run_kgctl(settings, "runs", "undo", run, output=output) == 0, output.read_text()

    assert f"run {run} undone" in output.read_text()
    assert full_snapshot(earlier) == before
    assert run_status(earlier, run) == "undone"
    listing = tmp_path / "runs.log"
    assert run_kgctl(settings, "runs", "--kind", "ingest", output=listing) == 0
    assert any(run in line and "undone" in line for line in listing.read_text().splitlines())


def titles(path: Path, title: str) -> AmazonKgFiles:
    return AmazonKgFiles(items=write(path, tsv("iid", "title", "uri"), tsv("b1", title, "")))


def test_undo_is_refused_naming_what_a_later_run_wrote_over(
    earlier: Database, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    before = full_snapshot(earlier)
    first = ingest_amazon_kg(
        earlier, titles(tmp_path / "first.csv", "First"), Domain.BOOKS, options=ingest_options
    ).run
    after_first = full_snapshot(earlier)
    second = ingest_amazon_kg(
        earlier, titles(tmp_path / "second.csv", "Second"), Domain.BOOKS, options=ingest_options
    ).run
    after_second = full_snapshot(earlier)

    with pytest.raises(UndoRefused) as refused:
        undo_ingest_run(earlier, first)

    message = str(refused.value)
    assert f"run {second} later wrote over what this run wrote: Item b1 (title, " in message
    assert "nothing was changed" in message
    assert full_snapshot(earlier) == after_second
    assert run_status(earlier, first) == "finished"
    # Newest first, each undo is exact.
    undo_ingest_run(earlier, second)
    assert full_snapshot(earlier) == after_first
    undo_ingest_run(earlier, first)
    assert full_snapshot(earlier) == before


def test_undo_is_refused_naming_later_links_and_numbering(
    earlier: Database, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    new_book = write(tmp_path / "new.csv", "user,item", "u9,b9")
    first = ingest_interactions(earlier, new_book, Domain.BOOKS, options=ingest_options).run
    later = write(tmp_path / "later.csv", "user,item", "u8,b9")
    second = ingest_interactions(earlier, later, Domain.BOOKS, options=ingest_options).run
    after_second = full_snapshot(earlier)

    with pytest.raises(UndoRefused) as refused:
        undo_ingest_run(earlier, first)

    message = str(refused.value)
    assert f"1 relationship written by run {second} end at Item nodes" in message
    assert "RATED u8->b9" in message
    assert f"1 User node of later runs ({second}) come after the ones this run created" in message
    assert full_snapshot(earlier) == after_second
    undo_ingest_run(earlier, second)
    with pytest.raises(UndoRefused, match="already undone"):
        undo_ingest_run(earlier, second)
    undo_ingest_run(earlier, first)


def test_undo_is_refused_for_a_run_that_kept_no_records(
    earlier: Database, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    """As for a run ingested before undo records were kept."""
    ratings = write(tmp_path / "old.csv", "user,item", "u1,b7")
    run = ingest_interactions(earlier, ratings, Domain.BOOKS, options=ingest_options).run
    earlier.query("MATCH (r:Run {id: $id}) REMOVE r.undoRecords", id=run)
    before = full_snapshot(earlier)

    with pytest.raises(UndoRefused, match=f"run {run} kept no undo records"):
        undo_ingest_run(earlier, run)
    assert full_snapshot(earlier) == before
