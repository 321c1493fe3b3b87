"""The thread behind the progress bar's redraw and the plain progress lines."""

import threading

from kgstore.ticker import Ticker


def test_ticks_until_stopped_and_not_after() -> None:
    ticked = threading.Event()
    calls: list[int] = []

    def tick() -> None:
        calls.append(1)
        if len(calls) >= 3:
            ticked.set()

    ticker = Ticker(0.01, tick)
    ticker.start()
    assert ticked.wait(5), "three ticks within 5 s at a 10 ms interval"
    ticker.stop()
    assert not ticker.running
    stopped_at = len(calls)
    threading.Event().wait(0.05)
    assert len(calls) == stopped_at


def test_stop_without_start_does_nothing() -> None:
    ticker = Ticker(0.01, lambda: None)
    assert not ticker.running
    ticker.stop()
