"""The grid's preparation said step by step through its progress callback: on real data,
reading sequences, item texts, personas and keywords takes minutes, and a user who sees
nothing for that long cannot tell a slow read from a hang.

Each update is `{"stage": "prepare", "step", "status" ("started" or "finished"), "counts",
"lines"}`, where `lines` holds every line said so far (a handful; `carrying_lines` adds
them to the trainings' updates too): a follower that only polls the latest state (the CLI
following a Celery task) prints the lines it has not printed yet and so misses none.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

PREPARE = "prepare"

Counts = dict[str, int | str]
"""What a step read: `{"users": 1234, "run": "abc"}` (ints are counts)."""


def counts_text(counts: Counts) -> str:
    """`1,234 users, run abc`."""
    return ", ".join(
        f"{value:,} {key}" if isinstance(value, int) else f"{key} {value}"
        for key, value in counts.items()
    )


class PrepareSteps:
    """Says each preparation step as it starts and as it ends, with what it read."""

    def __init__(self, progress: Callable[[dict[str, Any]], None] | None) -> None:
        self._say = progress or (lambda _update: None)
        self.lines: list[str] = []

    def _update(self, step: str, status: str, counts: Counts, line: str) -> None:
        self.lines.append(line)
        self._say(
            {
                "stage": PREPARE,
                "step": step,
                "status": status,
                "counts": dict(counts),
                "lines": list(self.lines),
            }
        )

    @contextmanager
    def step(self, name: str) -> Iterator[Counts]:
        """Say `name` started; the caller fills the yielded dict with what the step read,
        said when it ends (a step that raises is not said to end: the error is)."""
        self._update(name, "started", {}, f"{name}: reading")
        counts: Counts = {}
        started = time.perf_counter()
        yield counts
        seconds = time.perf_counter() - started
        self._update(name, "finished", counts, f"{name}: {counts_text(counts)} ({seconds:.1f} s)")


def carrying_lines(
    progress: Callable[[dict[str, Any]], None] | None,
) -> Callable[[dict[str, Any]], None] | None:
    """`progress` with the preparation's lines added to every later update too (the
    trainings' included): a follower that polls only after a fast preparation has ended
    still finds every line."""
    if progress is None:
        return None
    said: list[str] = []

    def forward(update: dict[str, Any]) -> None:
        said[:] = update.get("lines", said)
        progress({**update, "lines": list(said)})

    return forward
