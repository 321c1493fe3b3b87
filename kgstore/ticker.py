"""A call repeated on a thread at a steady interval until stopped.

Progress displays read their state from counters a busy loop updates; the loop itself
carries no display code, and a step that reports nothing for minutes is still shown to be
running. One small thread class serves the terminal bar's redraw and the plain lines.
"""

import threading
from collections.abc import Callable


class Ticker:
    """Calls `tick()` every `interval` seconds between `start()` and `stop()`."""

    def __init__(self, interval: float, tick: Callable[[], None]) -> None:
        self._interval = interval
        self._tick = tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops the calls and waits for one in progress to end; a no-op if never started."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._tick()
