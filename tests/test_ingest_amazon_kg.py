"""`ingest amazon-kg`: Amazon-KG's RecBole atomic files and item tables into the real
Neo4j. The data set may not be redistributed: every file here is written by the test."""

import gzip
import random
from dataclasses import replace
from pathlib import Path

import pytest

from kgstore.db import Database
from kgstore.embeddings.pipeline import EmbedTarget, embed_nodes
from kgstore.embeddings.sentence_transformers import SentenceTransformerEmbedder
from kgstore.errors import CorruptSource, TooManyRejects
from kgstore.export.reader import export_snapshot
from kgstore.graph.mapping import DBR, Domain
from kgstore.ingest.session import IngestOptions
from kgstore.ingest.sources.amazon_kg import AmazonKgFiles, ingest_amazon_kg, title_from_pattern
from kgstore.ingest.write.bulk_writer import BulkGraph
from kgstore.settings import Settings
from tests.amazon_files import tsv, write
from tests.ingest_checks import (
    check_resume_after_kill,
    count,
    graph_state,
    quarantined,
    rated,
    sequences_of,
)

HOSTILE = "x'\"`]->() DETACH DELETE n //"
FILM = "res:The_Film_(1999)"


def dataset(tmp_path: Path) -> AmazonKgFiles:
    inter = write(
        tmp_path / "Amazon-KG-5core-Movies_and_TV.inter",
        tsv("user_id:token", "item_id:token", "rating:float"),
        tsv("U1", "M2", "1"),
        tsv("U1", "M1", "1"),
        tsv("U2", "M1", "1"),
        tsv("U2", "M3", "1"),
        tsv("U2", "M5", "1"),
    )
    link = write(
        tmp_path / "Amazon-KG-5core-Movies_and_TV.link",
        tsv("item_id:token", "entity_id:token"),
        tsv("M1", FILM),
        tsv("M2", "res:Madam,_Will_You_Talk%3F"),
        tsv("M404", "res:Ghost"),
    )
    items = write(
        tmp_path / "items_Movies_and_TV.csv",
        tsv("iid", "title", "uri"),
        tsv("M1", "The.*Film", DBR + "The_Film_(1999)"),
        tsv("M2", "Madam,.*Will.*You.*Talk\\?", DBR + "Madam,_Will_You_Talk%3F"),
        tsv("M3", "Open\\:.*An.*Autobiography", DBR + "Open:_An_Autobiography"),
        tsv("M4", "Not.*Rated", DBR + "Not_Rated"),
        tsv("M5", "Solo", DBR + "Solo_(A)"),
        tsv("M5", "Solo", DBR + "Solo_(B)"),
    )
    metadata = write(
        tmp_path / "item_metadata_Movies_and_TV.csv",
        tsv("iid", "metadata"),
        tsv("M1", "cat:1999_films", "cat:Films_about_X", "res:Some_Director", ""),
        tsv("M3", "cat:Autobiographies", "res:Andre_Agassi", ""),
        tsv("M4", "cat:Ignored", ""),
    )
    kg = write(
        tmp_path / "Amazon-KG-5core-Movies_and_TV.kg",
        tsv("head_id:token", "relation_id:token", "tail_id:token"),
        tsv(FILM, "directed_by", "res:Jane_Doe"),
        tsv(FILM, "starring", "res:John_Roe"),
        tsv(FILM, "dbo:musicComposer", "res:Hans_Z"),
        tsv(FILM, "subject_is", "cat:1999_films"),
        tsv("res:Madam,_Will_You_Talk%3F", "genre_is", "res:Mystery"),
        tsv("res:Open:_An_Autobiography", "author", "res:Andre_Agassi"),
        tsv(FILM, "weird_relation", "res:X"),
        tsv("res:Not_Linked", "starring", "res:John_Roe"),
        tsv(FILM, "starring"),
        tsv(FILM, "starring", '"a literal"'),
        tsv(FILM, "also_view_product", "res:Madam,_Will_You_Talk%3F"),
        tsv(FILM, "also_buy_product", "res:Unlinked_Work"),
        tsv(FILM, "rated", "res:X"),
    )
    return AmazonKgFiles(inter=inter, kg=kg, link=link, items=items, item_metadata=metadata)


def test_all_files_give_sequences_links_titles_subjects_and_facts(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    files = dataset(tmp_path)
    options = replace(ingest_options, max_reject_fraction=0.5)
    report = ingest_amazon_kg(empty_graph, files, Domain.MOVIES, options=options)

    assert rated(empty_graph) == {
        "U1": [
            {"item": "M2", "pos": 0, "rating": 1.0, "ts": None, "assumed": True},
            {"item": "M1", "pos": 1, "rating": 1.0, "ts": None, "assumed": True},
        ],
        "U2": [
            {"item": "M1", "pos": 0, "rating": 1.0, "ts": None, "assumed": True},
            {"item": "M3", "pos": 1, "rating": 1.0, "ts": None, "assumed": True},
            {"item": "M5", "pos": 2, "rating": 1.0, "ts": None, "assumed": True},
        ],
    }
    assert any("no timestamps" in note for note in report.notes)
    items = empty_graph.query("MATCH (i:Movie) RETURN i.id AS id, i.title AS title, i.uri AS uri")
    assert {row["id"]: (row["title"], row["uri"]) for row in items} == {
        "M1": ("The Film", DBR + "The_Film_(1999)"),
        "M2": ("Madam, Will You Talk?", DBR + "Madam,_Will_You_Talk%3F"),
        "M3": ("Open: An Autobiography", DBR + "Open:_An_Autobiography"),
        "M5": ("Solo", None),
    }
    state = graph_state(empty_graph)
    category = DBR + "Category:"
    assert state.triples - {t for t in state.triples if t[1] == "RATED"} == {
        ("M1", "HAS_SUBJECT", category + "1999_films"),
        ("M1", "HAS_SUBJECT", category + "Films_about_X"),
        ("M3", "HAS_SUBJECT", category + "Autobiographies"),
        ("M1", "DIRECTED_BY", DBR + "Jane_Doe"),
        ("M1", "STARRING", DBR + "John_Roe"),
        ("M1", "MUSIC_BY", DBR + "Hans_Z"),
        ("M2", "HAS_GENRE", DBR + "Mystery"),
        ("M3", "AUTHORED_BY", DBR + "Andre_Agassi"),
        ("M1", "ALSO_VIEW", "M2"),
    }
    assert (state.labels["Entity"], state.labels["Subject"], state.labels["Person"]) == (8, 3, 4)
    names = empty_graph.query("MATCH (e:Entity) RETURN e.uri AS uri, e.name AS n")
    names_by_uri = {row["uri"]: row["n"] for row in names}
    assert names_by_uri[category + "1999_films"] == "1999 films"
    assert names_by_uri[DBR + "Jane_Doe"] == "Jane Doe"
    assert report.unmapped == {
        "item metadata res: token (relation unknown)": 2,
        "kg relation weird_relation": 1,
        "(kg head is not a linked item)": 1,
        "(kg item-item tail is not a linked item)": 1,
        "kg relation rated (not an item fact)": 1,
    }
    rejects = {(r["file"], r["line"]): r["reason"] for r in quarantined(options.quarantine_dir)}
    assert rejects.keys() == {(str(files.kg), 10), (str(files.kg), 11)}
    assert report.skipped == {".link lines of items not in the data": 1}  # M404, line 4
    assert "expected 3 columns, found 2" in rejects[(str(files.kg), 10)]
    assert "'\"a literal\"' is neither an IRI" in rejects[(str(files.kg), 11)]
    assert "1 items have several candidate IRIs and no .link line: no uri" in report.notes
    assert "1 items of the item table or .link are not ingested items" in report.notes
    assert "1 item metadata lines of items not ingested skipped" in report.notes


WARTS: dict[str, tuple[tuple[str, ...], list[tuple[str, ...]]]] = {
    "inter": (
        ("user_id:token", "item_id:token", "rating:float"),
        [(user, item, "1") for user in ("U1", "U2", "U3") for item in ("M1", "M6", "M7")]
        + [(user, "M8", "1") for user in ("U2", "U3")],
    ),
    "link": (
        ("item_id:token", "entity_id:token"),
        [("M1", FILM), ("M6", "res:The_Prophet_(book)")],
    ),
    "items": (
        ("iid", "title", "uri"),
        [("M1", "The.*Film", DBR + "The_Film_(1999)")]
        + [("M9", "Solo", DBR + f"Solo_({which})") for which in "AB"],
    ),
    "item_metadata": (("iid", "metadata"), [("M7", "cat:Memoirs")]),
    "kg": (
        ("head_id:token", "relation_id:token", "tail_id:token"),
        [(FILM, "directed_by", "res:Jane_Doe")],
    ),
}
"""Items as real Amazon-KG has them: M1 named by the item table, M6 only linked, M7 with
nothing but a subject category, M8 with nothing at all; M9 ambiguous and not rated."""


def warts(tmp_path: Path) -> AmazonKgFiles:
    return AmazonKgFiles(
        **{
            kind: write(tmp_path / f"warts.{kind}", tsv(*header), *(tsv(*row) for row in rows))
            for kind, (header, rows) in WARTS.items()
        }
    )


def titles(db: Database) -> dict[str, tuple[str | None, str | None]]:
    rows = db.query("MATCH (i:Item) RETURN i.id AS id, i.title AS t, i.titleSource AS s")
    return {row["id"]: (row["t"], row["s"]) for row in rows}


EXPECTED_TITLES = {
    "M1": ("The Film", "item table"),
    "M6": ("The Prophet (book)", "dbpedia uri"),
    "M7": (None, None),
    "M8": (None, None),
}


def test_an_item_the_item_table_does_not_name_is_titled_by_its_dbpedia_resource(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    files = warts(tmp_path)
    report = ingest_amazon_kg(empty_graph, files, Domain.MOVIES, options=ingest_options)

    assert titles(empty_graph) == EXPECTED_TITLES
    assert (
        "1 items the item table does not name are titled by their DBpedia resource's name "
        "(titleSource 'dbpedia uri')" in report.notes
    )

    # A later ingest of the .link alone keeps the item table's title of M1.
    relink = AmazonKgFiles(link=files.link)
    ingest_amazon_kg(empty_graph, relink, Domain.MOVIES, options=ingest_options)
    assert titles(empty_graph) == EXPECTED_TITLES


def test_only_ingested_items_count_as_ambiguous(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    only = replace(warts(tmp_path), link=None, item_metadata=None, kg=None)
    report = ingest_amazon_kg(empty_graph, only, Domain.MOVIES, options=ingest_options)

    # M9 has two candidate IRIs but is in no interaction: it is not an ingested item.
    assert not any("several candidate IRIs" in note for note in report.notes)
    assert "1 items of the item table or .link are not ingested items" in report.notes


def test_the_bulk_path_titles_items_by_their_dbpedia_resource_as_online(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    files = warts(tmp_path)
    graph = BulkGraph()
    bulk = replace(ingest_options, bulk=graph)
    ingest_amazon_kg(empty_graph, files, Domain.MOVIES, options=bulk)
    ingest_amazon_kg(empty_graph, AmazonKgFiles(link=files.link), Domain.MOVIES, options=bulk)

    collected = {
        key: (node.props.get("title"), node.props.get("titleSource"))
        for (base, key), node in graph.nodes.items()
        if base == "Item"
    }
    assert collected == EXPECTED_TITLES


def test_items_without_title_uri_or_facts_are_all_embedded_and_exported(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    ingest_amazon_kg(empty_graph, warts(tmp_path), Domain.MOVIES, options=ingest_options)
    embedder = SentenceTransformerEmbedder()
    items = embed_nodes(empty_graph, embedder, EmbedTarget.ITEMS)
    embed_nodes(empty_graph, embedder, EmbedTarget.ENTITIES)

    assert items.sources == {"title": 1, "uri": 1, "facts": 1, "placeholder": 1}
    # What `kgctl train hdgi` reads first: it refused while an item had no vector.
    snapshot = export_snapshot(empty_graph, Domain.MOVIES)
    assert sorted(snapshot.items) == ["M1", "M6", "M7", "M8"]
    assert snapshot.x_item.shape == (4, 384)


def test_link_naming_an_item_not_in_the_data_is_skipped_not_rejected(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    files = dataset(tmp_path)
    only = AmazonKgFiles(inter=files.inter, link=files.link)
    report = ingest_amazon_kg(empty_graph, only, Domain.MOVIES, options=ingest_options)

    # M404 (line 4 of the .link) is in no interaction: skipped, counted, not a reject.
    assert report.skipped == {".link lines of items not in the data": 1}
    assert (report.rejected, report.quarantine) == (0, None)
    assert quarantined(ingest_options.quarantine_dir) == []
    uris = empty_graph.query("MATCH (i:Item) RETURN i.id AS id, i.uri AS uri")
    assert {row["id"]: row["uri"] for row in uris} == {
        "M1": DBR + "The_Film_(1999)",
        "M2": DBR + "Madam,_Will_You_Talk%3F",
        "M3": None,
        "M5": None,
    }


def test_links_and_facts_enrich_items_already_in_the_graph(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    files = dataset(tmp_path)
    ingest_amazon_kg(
        empty_graph,
        AmazonKgFiles(inter=files.inter),
        Domain.MOVIES,
        options=ingest_options,
    )
    enrich = AmazonKgFiles(kg=files.kg, link=files.link, items=files.items)
    report = ingest_amazon_kg(
        empty_graph,
        enrich,
        Domain.MOVIES,
        options=replace(ingest_options, max_reject_fraction=0.5),
    )

    state = graph_state(empty_graph)
    assert state.labels["Item"] == 4
    assert state.rel_types["STARRING"] == 1
    assert state.rel_types["HAS_SUBJECT"] == 1
    assert report.relationships["DIRECTED_BY"] == 1


def test_inter_with_timestamps_orders_by_time(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    inter = write(
        tmp_path / "timed.inter",
        tsv("user_id:token", "item_id:token", "rating:float", "timestamp:float"),
        tsv("U1", "M2", "4", "200.0"),
        tsv("U1", "M1", "5", "100.5"),
    )
    report = ingest_amazon_kg(
        empty_graph, AmazonKgFiles(inter=inter), Domain.BOOKS, options=ingest_options
    )

    assert rated(empty_graph) == {
        "U1": [
            {"item": "M1", "pos": 0, "rating": 5.0, "ts": 100.5, "assumed": False},
            {"item": "M2", "pos": 1, "rating": 4.0, "ts": 200, "assumed": False},
        ]
    }
    assert not any("no timestamps" in note for note in report.notes)


def test_bad_inter_lines_are_quarantined_and_over_the_threshold_nothing_kept(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    inter = tmp_path / "bad.inter"
    inter.write_bytes(
        b"user_id:token\titem_id:token\trating:float\n"
        b"U1\tM1\t5\n"
        b"U1\tM2\n"
        b"U1\tM3\tgreat\n"
        b"U1\t\xffM4\t4\n"
        b"U2\tM1\t3\n"
    )
    with pytest.raises(TooManyRejects):
        ingest_amazon_kg(
            empty_graph, AmazonKgFiles(inter=inter), Domain.MOVIES, options=ingest_options
        )

    rejects = {r["line"]: r["reason"] for r in quarantined(ingest_options.quarantine_dir)}
    assert rejects.keys() == {3, 4, 5}
    assert "expected 3 columns, found 2" in rejects[3]
    assert "rating 'great' is not a number" in rejects[4]
    assert "not UTF-8" in rejects[5]
    assert sequences_of(empty_graph) == {}


def test_truncated_inter_gzip_fails_and_stores_no_shortened_sequence(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    rng = random.Random(9)
    lines = [tsv("user_id:token", "item_id:token", "rating:float")]
    lines += [tsv(f"U{rng.randrange(10**6)}", f"M{n}", "1") for n in range(3000)]
    blob = gzip.compress("".join(line + "\n" for line in lines).encode())
    inter = tmp_path / "cut.inter.gz"
    inter.write_bytes(blob[: len(blob) // 2])

    with pytest.raises(CorruptSource, match=r"cut\.inter\.gz: the compressed stream is cut"):
        ingest_amazon_kg(
            empty_graph, AmazonKgFiles(inter=inter), Domain.MOVIES, options=ingest_options
        )
    # Sequences are written only once the whole file is read: none is half there.
    assert count(empty_graph, "MATCH ()-[r:RATED]->() RETURN count(r) AS c") == 0


def test_hostile_ids_and_relation_tokens_are_data_only(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    empty_graph.query("CREATE (:Sentinel {name: 'still here'})")
    files = AmazonKgFiles(
        inter=write(
            tmp_path / "h.inter",
            tsv("user_id:token", "item_id:token", "rating:float"),
            tsv(HOSTILE, HOSTILE, "1"),
            tsv("U2", HOSTILE, "1"),
        ),
        link=write(
            tmp_path / "h.link",
            tsv("item_id:token", "entity_id:token"),
            tsv(HOSTILE, "res:" + HOSTILE),
        ),
        kg=write(
            tmp_path / "h.kg",
            tsv("head_id:token", "relation_id:token", "tail_id:token"),
            tsv("res:" + HOSTILE, HOSTILE, "res:Other"),
            tsv("res:" + HOSTILE, "starring", "res:" + HOSTILE),
        ),
    )
    report = ingest_amazon_kg(empty_graph, files, Domain.MOVIES, options=ingest_options)

    assert sequences_of(empty_graph) == {HOSTILE: [HOSTILE], "U2": [HOSTILE]}
    state = graph_state(empty_graph)
    assert state.labels == {
        "Sentinel": 1,
        "User": 2,
        "Item": 1,
        "Movie": 1,
        "Entity": 1,
        "Person": 1,
    }
    assert state.triples - {t for t in state.triples if t[1] == "RATED"} == {
        (HOSTILE, "STARRING", DBR + HOSTILE)
    }
    [person] = empty_graph.query("MATCH (p:Person) RETURN p.name AS name")
    assert person["name"] == "x'\"`]->() DETACH DELETE n"  # the display name: no trailing /
    assert report.unmapped == {f"kg relation {HOSTILE}": 1}


def test_ingesting_twice_changes_nothing(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    files = dataset(tmp_path)
    options = replace(ingest_options, max_reject_fraction=0.5)
    first_report = ingest_amazon_kg(empty_graph, files, Domain.MOVIES, options=options)
    first = graph_state(empty_graph)
    second_report = ingest_amazon_kg(empty_graph, files, Domain.MOVIES, options=options)

    assert graph_state(empty_graph) == first
    assert sum(first.rel_types.values()) == 14
    for part in ("nodes", "relationships", "dangling", "unmapped"):
        assert getattr(first_report, part) == getattr(second_report, part)


@pytest.mark.parametrize(
    ("pattern", "title"),
    [
        ("The.*Prophet", "The Prophet"),
        ("Mister.*B..*Gone", "Mister B. Gone"),
        ("Night.*Watch.*\\(Discworld\\)", "Night Watch (Discworld)"),
        ("Arab\\-Jewish.*Conflict", "Arab-Jewish Conflict"),
    ],
)
def test_item_table_titles_lose_their_regular_expression_syntax(pattern: str, title: str) -> None:
    assert title_from_pattern(pattern) == title


def test_killed_ingest_resumes_to_the_graph_of_an_uninterrupted_one(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    rng = random.Random(13)
    lines = [tsv("user_id:token", "item_id:token", "rating:float")]
    lines += [
        tsv(f"U{user}", f"M{item}", "1")
        for user in range(300)
        for item in rng.sample(range(400), 20)
    ]
    inter = write(tmp_path / "big.inter", *lines)
    link = write(
        tmp_path / "big.link",
        tsv("item_id:token", "entity_id:token"),
        *(tsv(f"M{n}", f"res:Work_{n}") for n in range(400)),
    )
    kg = write(
        tmp_path / "big.kg",
        tsv("head_id:token", "relation_id:token", "tail_id:token"),
        *(tsv(f"res:Work_{n}", "starring", f"res:Actor_{n % 50}") for n in range(400)),
    )
    args = ["ingest", "amazon-kg", "--inter", str(inter), "--link", str(link), "--kg", str(kg)]
    args += ["--domain", "movies", "--batch-size", "20", "--quarantine-dir", str(tmp_path / "q")]
    check_resume_after_kill(empty_graph, settings, args, total_rated=6000, tmp_path=tmp_path)
