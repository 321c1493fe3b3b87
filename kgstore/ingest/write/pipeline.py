"""Write batches on one background thread, so the caller reads and parses its input
while the server commits the previous batch (measured gain: BENCHMARKS.md)."""

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor


class WritePipeline:
    """Runs write batches one after another, in the order they were handed over, with
    `depth` batches in flight. A failed batch stops every later one; its error is raised
    to the caller at the next hand-off or at `drain`, and any later use raises again."""

    def __init__(self, depth: int = 1) -> None:
        self._depth = depth
        self._executor: ThreadPoolExecutor | None = None
        self._in_flight: deque[Future[None]] = deque()
        self._failed = threading.Event()
        self._stopped_by: BaseException | None = None

    def submit(self, work: Callable[[], None]) -> None:
        self._check()
        while self._in_flight and (self._in_flight[0].done() or len(self._in_flight) > self._depth):
            self._result(self._in_flight.popleft())
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="graph-writer")
        self._in_flight.append(self._executor.submit(self._guarded, work))

    def drain(self) -> None:
        """Wait until every batch handed over is committed; raise the first failure."""
        self._check()
        while self._in_flight:
            self._result(self._in_flight.popleft())
        self._shutdown()

    def abandon(self, reason: BaseException) -> None:
        """Write nothing more: drop waiting batches and wait for the running one."""
        self._stopped_by = reason
        self._failed.set()
        self._in_flight.clear()
        self._shutdown()

    def _check(self) -> None:
        if self._stopped_by is not None:
            raise RuntimeError("this writer stopped after an error") from self._stopped_by

    def _guarded(self, work: Callable[[], None]) -> None:
        if self._failed.is_set():
            return
        try:
            work()
        except BaseException:
            self._failed.set()
            raise

    def _result(self, future: Future[None]) -> None:
        try:
            future.result()
        except BaseException as exc:
            self.abandon(exc)
            raise

    def _shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
