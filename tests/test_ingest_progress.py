"""The live progress line of an ingest: it shows what the session has read and written."""

import sys
from pathlib import Path

import pytest

from kgstore.graph.mapping import BY_TYPE
from kgstore.ingest.progress import IngestProgress
from kgstore.ingest.quarantine import Quarantine
from kgstore.ingest.session import IngestSession
from kgstore.ingest.write.bulk_writer import BulkGraph, BulkWriter
from kgstore.ingest.write.writer import Provenance


def session_writing(count: int, tmp_path: Path) -> IngestSession:
    writer = BulkWriter(BulkGraph(), Provenance("progress-test", "file"))
    session = IngestSession(writer, Quarantine(tmp_path / "q.jsonl"))
    for n in range(count):
        writer.item(f"i{n}", "Movie", {})
        writer.relationship(BY_TYPE["ALSO_BUY"], f"i{n}", "i0")
    session.quarantine.accepted(count)
    return session


def progress_of(count: int, tmp_path: Path, enabled: bool = True) -> None:
    """Write `count` relationships under an ingest progress (what it says goes to stderr)."""
    session = session_writing(count, tmp_path)
    with IngestProgress(session, enabled):
        session.writer.flush()


def test_progress_on_a_terminal_draws_records_read_and_relationships_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    progress_of(7, tmp_path)
    drawn = capsys.readouterr().err
    assert "ingest progress-test" in drawn
    assert "7 rel" in drawn and "7 records read, 0 rejected" in drawn


def test_progress_off_a_terminal_says_plain_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    progress_of(7, tmp_path)
    said = capsys.readouterr().err.splitlines()
    assert said[0] == "ingest progress-test: started"
    assert said[-1].startswith("ingest progress-test: finished after ")
    assert said[-1].endswith("relationships written 7, records read 7, rejected 0")


def test_progress_disabled_draws_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    progress_of(3, tmp_path, enabled=False)
    assert capsys.readouterr().err == ""
