"""A live status line while an ingest runs: records read, relationships written, rate.

Drawn from a thread twice a second from the session's counters, so the reading loops
and the writer carry no display code; the CLI turns it on for a terminal only.
"""

import sys
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Self

from tqdm import tqdm

if TYPE_CHECKING:
    from kgstore.ingest.session import IngestSession

REDRAW_S = 0.5


class IngestProgress:
    """Context manager around one ingest session; does nothing unless `enabled`."""

    def __init__(self, session: "IngestSession", enabled: bool) -> None:
        self._session = session
        self._enabled = enabled
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar: tqdm | None = None

    def __enter__(self) -> Self:
        if self._enabled:
            source = self._session.writer.provenance.source
            self._bar = tqdm(desc=f"ingest {source}", unit=" rel", file=sys.stderr, leave=False)
            self._thread = threading.Thread(target=self._redraw, daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._thread is not None and self._bar is not None:
            self._stop.set()
            self._thread.join()
            self._draw()
            self._bar.close()

    def _redraw(self) -> None:
        while not self._stop.wait(REDRAW_S):
            self._draw()

    def _draw(self) -> None:
        assert self._bar is not None
        quarantine = self._session.quarantine
        self._bar.update(self._session.writer.counts.written - self._bar.n)
        self._bar.set_postfix_str(
            f"{quarantine.records_read:,} records read, {len(quarantine.rejects):,} rejected",
            refresh=True,
        )
