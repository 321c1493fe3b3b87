"""Line-oriented reading of plain or gzipped text files. One bad line never stops a file:
an undecodable line becomes a reject with its line number. A cut or corrupt file does:
a broken gzip stream raises `CorruptSource` naming the last complete line, and the last
line is marked when it has no newline, so a record cut short there fails the ingest
(`Quarantine.reject`) instead of being counted as one bad record."""

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

from kgstore.errors import CorruptSource, SourceFileError
from kgstore.ingest.quarantine import Quarantine


def open_binary(path: Path):
    if not path.exists():
        raise SourceFileError(f"{path}: no such file")
    if not path.is_file():
        raise SourceFileError(f"{path}: not a regular file")
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)


def corrupt_stream(path: Path, last_line: int | None, exc: BaseException) -> CorruptSource:
    """The error for a file that cannot be read past `last_line` complete lines (None:
    not known, as for a whole-file parser)."""
    compressed = path.suffix == ".gz"
    what = "the compressed stream is cut or corrupt" if compressed else "the file cannot be read"
    where = f" after line {last_line}, the last complete line" if last_line is not None else ""
    check = " (`gzip -t FILE` checks one)" if compressed else ""
    return CorruptSource(
        f"{path}: {what}{where} ({exc.__class__.__name__}: {exc}). The ingest stopped; "
        f"what it had already stored is kept. Get a complete copy of the file{check} and "
        "run the same command again: it resumes."
    )


def numbered_lines(path: Path, quarantine: Quarantine) -> Iterator[tuple[int, str]]:
    """(line number, text without newline) for every line that decodes as UTF-8; blank
    lines are skipped. Decode errors are quarantined; a broken gzip stream raises."""
    line_no = 0
    with open_binary(path) as handle:
        try:
            for line_no, raw in enumerate(handle, start=1):
                if not raw.endswith(b"\n"):
                    quarantine.unterminated = (str(path), line_no)
                try:
                    text = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError as exc:
                    quarantine.reject(
                        path,
                        line_no,
                        f"not UTF-8: {exc.reason} at byte {exc.start}",
                        raw.decode("utf-8", errors="replace"),
                    )
                    continue
                if text.strip():
                    yield line_no, text
        except (*GZIP_ERRORS, OSError) as exc:
            raise corrupt_stream(path, line_no, exc) from None
