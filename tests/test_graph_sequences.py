"""User sequences as one definition: what ingest writes (`write_sequences`) is exactly
what `read_sequences` returns, per domain, against the real Neo4j."""

from pathlib import Path

import pytest

from kgstore.db import Database
from kgstore.errors import SequenceReadError
from kgstore.graph.mapping import Domain
from kgstore.graph.sequences import Interaction, Sequences, read_sequences
from kgstore.ingest.quarantine import Quarantine
from kgstore.ingest.session import IngestOptions
from kgstore.ingest.sources.interactions import ingest_interactions, read_interactions
from kgstore.ingest.sources.sequence_rules import build_sequences

MOVIES_CSV = "user,item,rating,timestamp\nu1,m2,4,300\nu1,m1,5,100\nu2,m1,3,50\nu1,m3,2.5,300\n"
BOOKS_SEQ = "u1 b1 b2\nu3 b2\nu1 b3 b1\n"


def expected(path: Path, tmp_path: Path) -> Sequences:
    """The sequences the ingest rules build from `path`, without the report notes."""
    quarantine = Quarantine(tmp_path / "expected-quarantine.jsonl")
    sequences = build_sequences(read_interactions(path, quarantine))
    return Sequences(sequences.by_user, sequences.order_assumed)


def test_read_sequences_returns_what_ingest_wrote_per_domain(
    empty_graph: Database, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    movies = tmp_path / "movies.csv"
    movies.write_text(MOVIES_CSV, encoding="utf-8")
    books = tmp_path / "books.seq"
    books.write_text(BOOKS_SEQ, encoding="utf-8")
    ingest_interactions(empty_graph, movies, Domain.MOVIES, options=ingest_options)
    ingest_interactions(empty_graph, books, Domain.BOOKS, options=ingest_options)

    stored_movies = read_sequences(empty_graph, Domain.MOVIES)
    assert stored_movies == expected(movies, tmp_path)
    assert stored_movies.by_user["u1"] == [
        Interaction("u1", "m1", 5.0, 100),
        Interaction("u1", "m2", 4.0, 300),
        Interaction("u1", "m3", 2.5, 300),
    ]
    assert not stored_movies.order_assumed

    stored_books = read_sequences(empty_graph, Domain.BOOKS)
    assert stored_books == expected(books, tmp_path)
    assert [record.item for record in stored_books.by_user["u1"]] == ["b1", "b2", "b3"]
    assert stored_books.order_assumed


def test_read_sequences_refuses_positions_that_mix_two_domains(
    empty_graph: Database, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    for name, domain, text in (
        ("m.seq", Domain.MOVIES, "u1 m1 m2\n"),
        ("b.seq", Domain.BOOKS, "u1 b1\n"),
    ):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        ingest_interactions(empty_graph, path, domain, options=ingest_options)

    with pytest.raises(SequenceReadError, match=r"user 'u1'.*give the domain"):
        read_sequences(empty_graph)
    assert [r.item for r in read_sequences(empty_graph, Domain.MOVIES).by_user["u1"]] == [
        "m1",
        "m2",
    ]
