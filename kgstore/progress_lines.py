"""Plain progress lines for a long command whose stderr is not a terminal.

A progress bar only draws on a terminal; in `make demo > log`, in CI or under nohup a grid
would be silent for an hour and could not be told from a hang. Off a terminal a long
command instead says, at a steady interval (KGSTORE_PROGRESS_INTERVAL seconds), where it
is: the latest state its progress callback reported, how long it has run and, where it
counts towards a known total, an estimate of the time left. It also says when it starts
and how it ends. The lines come from a thread, so a step that reports nothing for minutes
(an epoch on real data) is still seen to be running.
"""

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self, TextIO

from kgstore.errors import stopped_by_user
from kgstore.ticker import Ticker


def duration(seconds: float) -> str:
    """`12 s`, `3 min 05 s`, `2 h 07 min`."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def ending(exc: BaseException | None) -> str:
    """How a command's block ended, for its last line."""
    if exc is None:
        return "finished"
    if stopped_by_user(exc):
        return "interrupted"
    return "stopped by an error"


class ProgressLines:
    """Says `name`'s progress as plain lines on `out` while the `with` block runs; does
    nothing unless `enabled` (on a terminal the bars say it instead).

    `update(done=, total=, **status)` records the latest state: `status` is printed as
    `key value` pairs in the order given; `done`/`total` as `done/total unit`, with the
    time left estimated from the rate since the first counted update."""

    def __init__(
        self,
        name: str,
        interval: float,
        *,
        unit: str = "",
        enabled: bool = True,
        out: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.unit = unit
        self.enabled = enabled
        self._out = out
        self._clock = clock
        self._started = clock()
        self._status: dict[str, object] = {}
        self._done: int | None = None
        self._total: int | None = None
        self._first_count: tuple[float, int] | None = None
        self._ticker = Ticker(interval, lambda: self.say(self.line()))

    def update(self, done: int | None = None, total: int | None = None, **status: object) -> None:
        """The latest state; values of None are left out of the line."""
        self._status = {key: value for key, value in status.items() if value is not None}
        if total is not None:
            self._total = total
        if done is not None:
            self._done = done
            if self._first_count is None:
                self._first_count = (self._clock(), done)

    def line(self) -> str:
        """`grid: 12 min 30 s elapsed; 4/20 models, row kg/description; about 45 min left`."""
        left = self._left()
        estimate = [f"about {duration(left)} left"] if left is not None else []
        elapsed = f"{self.name}: {self._elapsed()} elapsed"
        return "; ".join([elapsed, *self._state(), *estimate])

    def _elapsed(self) -> str:
        return duration(self._clock() - self._started)

    def _state(self) -> list[str]:
        """The latest state as one text, or none before the first update."""
        parts = []
        if self._done is not None:
            counted = f"{self._done:,}/{self._total:,}" if self._total else f"{self._done:,}"
            parts.append(f"{counted} {self.unit}".rstrip())
        parts += [f"{key} {_shown(value)}" for key, value in self._status.items()]
        return [", ".join(parts)] if parts else []

    def _left(self) -> float | None:
        if self._first_count is None or self._done is None or not self._total:
            return None
        since, first = self._first_count
        counted = self._done - first
        if counted <= 0:
            return None
        return (self._clock() - since) / counted * (self._total - self._done)

    def say(self, text: str) -> None:
        if self.enabled:
            print(text, file=self._out or sys.stderr, flush=True)

    def __enter__(self) -> Self:
        self._started = self._clock()
        if self.enabled:
            self.say(f"{self.name}: started")
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
        said = [f"{self.name}: {ending(exc)} after {self._elapsed()}", *self._state()]
        self.say("; ".join(said))


def _shown(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)
