"""The live progress line of an ingest: it shows what the session has read and written."""

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


def test_progress_shows_records_read_and_relationships_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = session_writing(7, tmp_path)
    with IngestProgress(session, enabled=True):
        session.writer.flush()
    drawn = capsys.readouterr().err
    assert "ingest progress-test" in drawn
    assert "7 rel" in drawn and "7 records read, 0 rejected" in drawn


def test_progress_disabled_draws_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = session_writing(3, tmp_path)
    with IngestProgress(session, enabled=False):
        session.writer.flush()
    assert capsys.readouterr().err == ""
