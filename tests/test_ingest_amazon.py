"""`ingest amazon`: Amazon Reviews 2018 and 2014 files into the real Neo4j. Amazon data
may not be redistributed, so every file here is written by the test, in its format."""

import gzip
import json
import random
import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import pytest

from kgstore.db import Database
from kgstore.errors import CorruptSource, TooManyRejects
from kgstore.graph.mapping import Domain
from kgstore.ingest.session import IngestOptions
from kgstore.ingest.sources.amazon import entity_uri, ingest_amazon
from kgstore.settings import Settings
from tests.amazon_files import files_2018, review, write_lines
from tests.ingest_checks import (
    check_resume_after_kill,
    count,
    graph_state,
    keys,
    quarantined,
    rated,
    sequences_of,
)

HOSTILE = "x'\"`]->() DETACH DELETE n //"


def test_2018_files_give_users_items_sequences_entities_and_relations(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    reviews, meta = files_2018(tmp_path)
    report = ingest_amazon(empty_graph, Domain.MOVIES, reviews, meta, options=ingest_options)

    assert rated(empty_graph) == {
        "U1": [
            {"item": "A2", "pos": 0, "rating": 4.0, "ts": 100, "assumed": False},
            {"item": "A3", "pos": 1, "rating": 3.0, "ts": 300, "assumed": False},
            {"item": "A1", "pos": 2, "rating": 5.0, "ts": 300, "assumed": False},
        ],
        "U2": [
            {"item": "A1", "pos": 0, "rating": 2.0, "ts": 50, "assumed": False},
            {"item": "A2", "pos": 1, "rating": 1.0, "ts": 60, "assumed": False},
        ],
    }
    state = graph_state(empty_graph)
    assert state.labels == {
        "User": 2,
        "Item": 3,
        "Movie": 3,
        "Entity": 4,
        "Category": 3,
        "Brand": 1,
    }
    category = "urn:amazon:category:"
    assert state.triples - {t for t in state.triples if t[1] == "RATED"} == {
        ("A1", "ALSO_BUY", "A2"),
        ("A1", "ALSO_VIEW", "A3"),
        ("A2", "ALSO_VIEW", "A1"),
        ("A1", "IN_CATEGORY", category + "Movies%20%26%20TV"),
        ("A1", "IN_CATEGORY", category + "Drama"),
        ("A2", "IN_CATEGORY", category + "Movies%20%26%20TV"),
        ("A2", "IN_CATEGORY", category + "Comedy"),
        ("A3", "IN_CATEGORY", category + "Movies%20%26%20TV"),
        ("A1", "HAS_BRAND", "urn:amazon:brand:Studio%20X"),
    }
    items = {
        row["id"]: (row["title"], row["description"])
        for row in empty_graph.query(
            "MATCH (i:Item) RETURN i.id AS id, i.title AS title, i.description AS description",
        )
    }
    assert items == {
        "A1": ("First", "Para one.\nPara two."),
        "A2": ("Second", None),
        "A3": ("Third", None),
    }
    names = empty_graph.query("MATCH (c:Category) RETURN c.name AS name ORDER BY name")
    assert [row["name"] for row in names] == ["Comedy", "Drama", "Movies & TV"]
    assert report.dangling["ALSO_BUY"] == 1
    assert report.unmapped == {"meta field price": 1, "meta field main_cat": 1}
    assert "1 meta records of items without (k-core) reviews skipped" in report.notes
    assert (report.records, report.rejected) == (9, 0)


def test_2014_files_with_python_literal_meta(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    reviews = write_lines(
        tmp_path / "reviews_Books_5.json.gz",
        [
            json.dumps(
                {
                    "reviewerID": "R1",
                    "asin": "B1",
                    "helpful": [0, 0],
                    "overall": 5.0,
                    "unixReviewTime": 20,
                    "reviewTime": "01 1, 2014",
                }
            ),
            json.dumps({"reviewerID": "R1", "asin": "B2", "overall": 3.0, "unixReviewTime": 10}),
            json.dumps({"reviewerID": "R2", "asin": "B3", "overall": 4.0, "unixReviewTime": 5}),
        ],
    )
    meta = write_lines(
        tmp_path / "meta_Books.json.gz",
        [
            repr(
                {
                    "asin": "B1",
                    "title": 'Bob\'s "Book"',
                    "categories": [["Books", "Fiction"], ["Books", "Mystery"]],
                    "related": {
                        "also_bought": ["B2", "B404"],
                        "also_viewed": ["B3"],
                        "bought_together": ["B2"],
                    },
                    "salesRank": {"Books": 123},
                    "imUrl": "http://example.org/b1.jpg",
                    "brand": "Pub House",
                }
            ),
            repr(
                {
                    "asin": "B2",
                    "description": "A plain 2014 description.",
                    "categories": [["Books"]],
                }
            ),
            repr({"asin": "B3", "title": "Three", "related": {"also_bought": ["B1"]}}),
        ],
    )
    report = ingest_amazon(empty_graph, Domain.BOOKS, reviews, meta, options=ingest_options)

    assert sequences_of(empty_graph) == {"R1": ["B2", "B1"], "R2": ["B3"]}
    state = graph_state(empty_graph)
    assert state.labels["Book"] == 3 and state.labels["Movie"] == 0
    assert state.rel_types == {
        "RATED": 3,
        "IN_CATEGORY": 4,
        "ALSO_BUY": 2,
        "ALSO_VIEW": 1,
        "BOUGHT_TOGETHER": 1,
        "HAS_BRAND": 1,
    }
    assert ("B1", "BOUGHT_TOGETHER", "B2") in state.triples
    assert ("B3", "ALSO_BUY", "B1") in state.triples
    assert ("B1", "IN_CATEGORY", "urn:amazon:category:Mystery") in state.triples
    titles = empty_graph.query("MATCH (i:Item) RETURN i.id AS id, i.title AS t, i.description AS d")
    assert {row["id"]: (row["t"], row["d"]) for row in titles} == {
        "B1": ('Bob\'s "Book"', None),
        "B2": (None, "A plain 2014 description."),
        "B3": ("Three", None),
    }
    assert report.dangling["ALSO_BUY"] == 1
    assert report.unmapped == {"meta field salesRank": 1, "meta field imUrl": 1}


def test_meta_alone_makes_every_record_an_item(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    _, meta = files_2018(tmp_path)
    ingest_amazon(empty_graph, Domain.MOVIES, meta=meta, options=ingest_options)

    state = graph_state(empty_graph)
    assert keys(empty_graph, "Item") == {"A1": 0, "A2": 1, "A3": 2, "A9": 3}
    assert state.labels["User"] == 0
    assert ("A9", "IN_CATEGORY", "urn:amazon:category:Books") in state.triples


def test_kcore_filters_reviews_and_the_meta_of_dropped_items(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    # 2-core: C has one reviewer, so it goes; then U3 has one item left and goes.
    lines = [review("U1", "A", 5, 1), review("U1", "B", 5, 2), review("U2", "A", 4, 1)]
    lines += [review("U2", "B", 4, 2), review("U3", "A", 3, 1), review("U3", "C", 3, 2)]
    reviews = write_lines(tmp_path / "Movies_5.json.gz", lines)
    meta = write_lines(
        tmp_path / "meta_Movies.json.gz",
        [
            json.dumps({"asin": "A", "title": "a", "also_buy": ["B", "C"]}),
            json.dumps({"asin": "B", "title": "b"}),
            json.dumps({"asin": "C", "title": "c", "also_buy": ["A"]}),
        ],
    )
    report = ingest_amazon(
        empty_graph, Domain.MOVIES, reviews, meta, kcore=2, options=ingest_options
    )

    assert sequences_of(empty_graph) == {"U1": ["A", "B"], "U2": ["A", "B"]}
    assert keys(empty_graph, "Item") == {"A": 0, "B": 1}
    state = graph_state(empty_graph)
    assert state.triples - {t for t in state.triples if t[1] == "RATED"} == {("A", "ALSO_BUY", "B")}
    assert report.dangling["ALSO_BUY"] == 1
    assert "2-core: 6 -> 4 interactions, 3 -> 2 users, 3 -> 2 items" in report.notes


BAD_REVIEWS: list[str | bytes] = [
    review("U1", "A1", 5.0, 1),
    '{"reviewerID": "U1", "asin": "A2", "overall": 4.0,',
    json.dumps({"asin": "A2", "overall": 4.0, "unixReviewTime": 2}),
    review("U1", "A3", "five", 3),
    review("U1", "A4", 4.0, "yesterday"),
    b'{"reviewerID": "U1", "asin": "\xff\xfe", "overall": 1, "unixReviewTime": 4}',
    "[1, 2, 3]",
    review("U2", "A1", 3.0, 5),
]
BAD_REVIEW_LINES = {
    2: "neither JSON nor a Python literal",
    3: "reviewerID is missing",
    4: "overall 'five' is not a number",
    5: "timestamp 'yesterday' is not a number",
    6: "not UTF-8",
    7: "expected an object, found list",
}
BAD_META: list[str | bytes] = [
    json.dumps({"asin": "A1", "title": "Bad", "category": 7}),
    json.dumps({"asin": "A1", "title": "One", "category": ["Drama"]}),
    "{'asin': 'A3', 'title': 'unclosed",
    json.dumps({"title": "no asin"}),
]
BAD_META_LINES = {
    1: "category: expected a string or a list, found int",
    3: "neither JSON nor a Python literal",
    4: "asin is missing",
}


def test_bad_records_are_quarantined_with_file_and_line_and_over_the_threshold_nothing_kept(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    reviews = write_lines(tmp_path / "Movies_5.json.gz", BAD_REVIEWS)
    meta = write_lines(tmp_path / "meta_Movies.json.gz", BAD_META)
    with pytest.raises(TooManyRejects) as failure:
        ingest_amazon(empty_graph, Domain.MOVIES, reviews, meta, options=ingest_options)

    assert failure.value.exit_code == 3
    rejects = quarantined(ingest_options.quarantine_dir)
    where = {(reject["file"], reject["line"]): reject["reason"] for reject in rejects}
    expected = {(str(reviews), line): reason for line, reason in BAD_REVIEW_LINES.items()}
    expected |= {(str(meta), line): reason for line, reason in BAD_META_LINES.items()}
    assert where.keys() == expected.keys()
    for place, reason in expected.items():
        assert reason in where[place]
    assert "nothing of this input was kept" in str(failure.value)
    assert count(empty_graph, "MATCH (n) WHERE NOT n:Run RETURN count(n) AS c") == 0


def test_rejects_under_the_threshold_are_reported_without_failing(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    reviews = write_lines(tmp_path / "Movies_5.json.gz", BAD_REVIEWS)
    meta = write_lines(tmp_path / "meta_Movies.json.gz", BAD_META)
    options = replace(ingest_options, max_reject_fraction=0.8)
    report = ingest_amazon(empty_graph, Domain.MOVIES, reviews, meta, options=options)

    assert (report.records, report.rejected) == (3, 9)
    assert sequences_of(empty_graph) == {"U1": ["A1"], "U2": ["A1"]}
    titles = empty_graph.query("MATCH (i:Item) RETURN i.id AS id, i.title AS t")
    assert {row["id"]: row["t"] for row in titles} == {"A1": "One"}


def test_truncated_meta_gzip_fails_the_ingest_naming_the_last_complete_line(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    reviews, meta = files_2018(tmp_path)
    ingest_amazon(empty_graph, Domain.MOVIES, reviews, meta, options=ingest_options)
    before = graph_state(empty_graph)
    rng = random.Random(3)
    records = [
        json.dumps({"asin": f"A{n}", "title": f"T{rng.randrange(10**9)}"}) for n in range(3000)
    ]
    path = write_lines(tmp_path / "meta_Movies.json.gz", records)
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])

    with pytest.raises(CorruptSource, match=r"cut or corrupt after line (\d+), the last") as err:
        ingest_amazon(empty_graph, Domain.MOVIES, meta=path, options=ingest_options)
    last = int(re.search(r"after line (\d+)", str(err.value)).group(1))
    assert 0 < last < len(records)
    assert str(path) in str(err.value)
    # What the earlier ingest stored is all still there; the cut run is marked failed.
    after = graph_state(empty_graph)
    assert before.nodes <= after.nodes and before.relationships <= after.relationships
    runs = empty_graph.query("MATCH (r:Run) RETURN r.status AS s ORDER BY r.startedAt")
    assert [run["s"] for run in runs] == ["finished", "failed"]


def test_hostile_ids_titles_names_and_fields_are_data_only(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    empty_graph.query("CREATE (:Sentinel {name: 'still here'})")
    reviews = write_lines(
        tmp_path / "Movies_5.json.gz",
        [review(HOSTILE, HOSTILE, 5, 1), review(HOSTILE, "A2", 4, 2), review("U2", HOSTILE, 3, 1)],
    )
    meta = write_lines(
        tmp_path / "meta_Movies.json.gz",
        [
            json.dumps(
                {
                    "asin": HOSTILE,
                    "title": HOSTILE,
                    "category": [HOSTILE],
                    "also_buy": ["A2"],
                    HOSTILE: "a field nobody maps",
                }
            ),
            json.dumps({"asin": "A2", "title": "Plain", "brand": HOSTILE, "also_view": [HOSTILE]}),
        ],
    )
    report = ingest_amazon(empty_graph, Domain.MOVIES, reviews, meta, options=ingest_options)

    assert sequences_of(empty_graph) == {HOSTILE: [HOSTILE, "A2"], "U2": [HOSTILE]}
    state = graph_state(empty_graph)
    assert state.labels == {
        "Sentinel": 1,
        "User": 2,
        "Item": 2,
        "Movie": 2,
        "Entity": 2,
        "Category": 1,
        "Brand": 1,
    }
    assert state.triples - {t for t in state.triples if t[1] == "RATED"} == {
        (HOSTILE, "IN_CATEGORY", "urn:amazon:category:" + quote(HOSTILE, safe="")),
        (HOSTILE, "ALSO_BUY", "A2"),
        ("A2", "HAS_BRAND", entity_uri("Brand", HOSTILE)),
        ("A2", "ALSO_VIEW", HOSTILE),
    }
    [item] = empty_graph.query("MATCH (i:Item {id: $id}) RETURN i.title AS t", id=HOSTILE)
    assert item["t"] == HOSTILE
    names = empty_graph.query("MATCH (e:Entity) RETURN e.name AS name")
    assert [row["name"] for row in names] == [HOSTILE, HOSTILE]
    assert report.unmapped == {f"meta field {HOSTILE}": 1}


def test_ingesting_twice_changes_nothing(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    reviews, meta = files_2018(tmp_path)
    first_report = ingest_amazon(empty_graph, Domain.MOVIES, reviews, meta, options=ingest_options)
    first = graph_state(empty_graph)
    second_report = ingest_amazon(empty_graph, Domain.MOVIES, reviews, meta, options=ingest_options)

    assert graph_state(empty_graph) == first
    assert sum(first.rel_types.values()) == 14
    for part in ("nodes", "relationships", "dangling"):
        assert getattr(first_report, part) == getattr(second_report, part)


def test_killed_ingest_resumes_to_the_graph_of_an_uninterrupted_one(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    rng = random.Random(5)
    lines = [
        review(f"U{user}", f"A{item}", rng.randint(1, 5), rng.randrange(10**6))
        for user in range(300)
        for item in rng.sample(range(400), 20)
    ]
    reviews = write_lines(tmp_path / "Movies_5.json.gz", lines)
    meta = write_lines(
        tmp_path / "meta_Movies.json.gz",
        [
            json.dumps(
                {
                    "asin": f"A{n}",
                    "title": f"Title {n}",
                    "category": [f"C{n % 7}"],
                    "also_buy": [f"A{(n * 7) % 400}"],
                    "brand": f"B{n % 3}",
                }
            )
            for n in range(400)
        ],
    )
    args = ["ingest", "amazon", "--reviews", str(reviews), "--meta", str(meta)]
    args += ["--domain", "movies", "--kcore", "5", "--batch-size", "20"]
    args += ["--quarantine-dir", str(tmp_path / "q")]
    check_resume_after_kill(empty_graph, settings, args, total_rated=6000, tmp_path=tmp_path)


def test_report_counts_what_the_graph_holds_once_however_often_rows_repeat(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    meta = write_lines(
        tmp_path / "meta_Movies.json.gz",
        [
            json.dumps({"asin": "A1", "also_buy": ["A2", "A2", "A2"], "category": ["X", "X"]}),
            json.dumps({"asin": "A2", "also_buy": ["A1"]}),
        ],
    )
    report = ingest_amazon(empty_graph, Domain.MOVIES, meta=meta, options=ingest_options)

    stored = graph_state(empty_graph).rel_types
    assert report.relationships == {"ALSO_BUY": 2, "IN_CATEGORY": 1} == dict(stored)
    assert report.nodes == {"Item:Movie": 2, "Entity:Category": 1}


def test_reviews_cut_mid_object_fail_instead_of_losing_the_last_review(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    whole = [review("U1", "A1", 5.0, 100), review("U1", "A2", 4.0, 200)]
    path = tmp_path / "Movies_5.json.gz"
    path.write_bytes(gzip.compress(("\n".join(whole) + "\n" + whole[0][:40]).encode()))

    with pytest.raises(CorruptSource, match=r"Movies_5\.json\.gz:3: the file ends mid-record"):
        ingest_amazon(empty_graph, Domain.MOVIES, path, options=ingest_options)
    assert sequences_of(empty_graph) == {}  # no shortened sequence was written
