"""Line-oriented reading of plain or gzipped text files that never gives up on the whole
file for one bad line: undecodable lines and a truncated gzip stream become rejects with
their line number, and every line before them is still read."""

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

from kgstore.errors import SourceFileError
from kgstore.ingest.quarantine import Quarantine


def open_binary(path: Path):
    if not path.exists():
        raise SourceFileError(f"{path}: no such file")
    if not path.is_file():
        raise SourceFileError(f"{path}: not a regular file")
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def numbered_lines(path: Path, quarantine: Quarantine) -> Iterator[tuple[int, str]]:
    """(line number, text without newline) for every line that decodes as UTF-8; blank
    lines are skipped. Decode errors and a truncated/corrupt gzip are quarantined."""
    line_no = 0
    with open_binary(path) as handle:
        try:
            for line_no, raw in enumerate(handle, start=1):
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
        except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
            quarantine.reject(path, line_no + 1, f"truncated or corrupt gzip stream: {exc}")
