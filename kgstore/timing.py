"""Wall-clock seconds per named step, for the reports of multi-step commands."""

import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def timed(seconds: dict[str, float], step: str) -> Iterator[None]:
    """Add the time spent inside the block to `seconds[step]`."""
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds[step] = seconds.get(step, 0.0) + time.perf_counter() - started
