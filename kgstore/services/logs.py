"""The tail of a service's log files, once or following them (`kgctl services logs`).

The files are those the services' ManagedProcess objects write to; the caller names
them, this module only reads. Lines are written as they are (bytes decoded with
replacement), never through rich, so a `[INFO]` in a log is not taken for markup.
"""

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

BLOCK = 64 * 1024
POLL_S = 0.25


@dataclass(frozen=True)
class LogSource:
    label: str
    path: Path


def tail_lines(path: Path, lines: int) -> list[str]:
    """The last `lines` lines of a file, read from its end (logs can be large)."""
    if lines <= 0:
        return []
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        position = handle.tell()
        data = b""
        while position > 0 and data.count(b"\n") <= lines:
            step = min(BLOCK, position)
            position -= step
            handle.seek(position)
            data = handle.read(step) + data
    text = data.decode("utf-8", errors="replace")
    return text.splitlines()[-lines:]


def show_logs(
    sources: Sequence[LogSource],
    lines: int,
    follow: bool,
    out: TextIO = sys.stdout,
    keep_going: Callable[[], bool] = lambda: True,
) -> None:
    """Print a header and the last `lines` lines of each file; with `follow`, then print
    what is appended (each line prefixed with its label when there are several files)
    until interrupted or `keep_going` returns False. A file cut short or replaced is
    read again from its start; one that does not exist yet is waited for."""
    offsets: dict[Path, tuple[int, int] | None] = {}
    for source in sources:
        out.write(f"==> {source.label}: {source.path} <==\n")
        try:
            for line in tail_lines(source.path, lines):
                out.write(line + "\n")
            stat = source.path.stat()
            offsets[source.path] = (stat.st_ino, stat.st_size)
        except FileNotFoundError:
            out.write("(no log yet: the service has not run with this state directory)\n")
            offsets[source.path] = None
    out.flush()
    if not follow:
        return
    prefix = len(sources) > 1
    pending = {source.path: b"" for source in sources}
    try:
        while keep_going():
            for source in sources:
                _follow_once(source, offsets, pending, out, prefix)
            out.flush()
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        pass


def _follow_once(
    source: LogSource,
    offsets: dict[Path, tuple[int, int] | None],
    pending: dict[Path, bytes],
    out: TextIO,
    prefix: bool,
) -> None:
    try:
        stat = source.path.stat()
    except FileNotFoundError:
        return
    known = offsets[source.path]
    start = 0
    if known is not None and known[0] == stat.st_ino and stat.st_size >= known[1]:
        start = known[1]
    if stat.st_size == start:
        offsets[source.path] = (stat.st_ino, start)
        return
    with source.path.open("rb") as handle:
        handle.seek(start)
        data = handle.read()
    offsets[source.path] = (stat.st_ino, start + len(data))
    *complete, rest = (pending[source.path] + data).split(b"\n")
    pending[source.path] = rest
    for raw in complete:
        line = raw.decode("utf-8", errors="replace")
        out.write(f"[{source.label}] {line}\n" if prefix else line + "\n")
