"""An ingest's progress: records read, relationships written, rate.

Taken from the session's counters by a thread twice a second, so the reading loops and
the writer carry no display code. On a terminal it is a live status line; elsewhere (a
log, CI) plain lines at KGSTORE_PROGRESS_INTERVAL (kgstore.progress_lines).
"""

import sys
from types import TracebackType
from typing import Protocol, Self

from tqdm import tqdm

from kgstore.ingest.quarantine import Quarantine
from kgstore.ingest.write.writer import Writer
from kgstore.progress_lines import ProgressLines
from kgstore.settings import load_settings
from kgstore.ticker import Ticker

REDRAW_S = 0.5


class Counted(Protocol):
    """What the progress reads of an ingest session (an `ingest.session.IngestSession`;
    named structurally so the session can import this module and not the other way)."""

    writer: Writer
    quarantine: Quarantine


class IngestProgress:
    """Context manager around one ingest session; does nothing unless `enabled`."""

    def __init__(self, session: Counted, enabled: bool) -> None:
        self._session = session
        self._enabled = enabled
        self._ticker = Ticker(REDRAW_S, self._draw)
        self._bar: tqdm | None = None
        self._lines: ProgressLines | None = None

    def __enter__(self) -> Self:
        if self._enabled:
            name = f"ingest {self._session.writer.provenance.source}"
            if sys.stderr.isatty():
                self._bar = tqdm(desc=name, unit=" rel", file=sys.stderr, leave=False)
            else:
                interval = load_settings().kgstore_progress_interval
                self._lines = ProgressLines(name, interval).__enter__()
            self._ticker.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self._ticker.running:
            return
        self._ticker.stop()
        self._draw()
        if self._bar is not None:
            self._bar.close()
        if self._lines is not None:
            self._lines.__exit__(exc_type, exc, traceback)

    def _draw(self) -> None:
        quarantine = self._session.quarantine
        written = self._session.writer.counts.written
        read = f"{quarantine.records_read:,} records read, {len(quarantine.rejects):,} rejected"
        if self._lines is not None:
            said = {
                "relationships written": f"{written:,}",
                "records read": f"{quarantine.records_read:,}",
                "rejected": f"{len(quarantine.rejects):,}",
            }
            self._lines.update(**said)
        if self._bar is not None:
            self._bar.update(written - self._bar.n)
            self._bar.set_postfix_str(read, refresh=True)
