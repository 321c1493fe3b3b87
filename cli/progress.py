"""What long commands share to show their progress: a bar on a terminal (tqdm), and off a
terminal the plain lines of kgstore.progress_lines at KGSTORE_PROGRESS_INTERVAL."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm

from cli.console import settings
from kgstore.progress_lines import ProgressLines


def terminal() -> bool:
    """Bars draw only here; elsewhere `lines_off_terminal` says it."""
    return sys.stderr.isatty()


def lines_off_terminal(name: str, unit: str = "") -> ProgressLines:
    """Plain progress lines for `name`, said only off a terminal."""
    interval = settings().kgstore_progress_interval
    return ProgressLines(name, interval, unit=unit, enabled=not terminal())


@contextmanager
def counted(name: str, unit: str) -> Iterator[Callable[[int, int], None]]:
    """A (done, total) progress callback for a counting command (embed, generate): a bar on
    a terminal, lines with the time left elsewhere."""
    with (
        tqdm(desc=name, unit=f" {unit}", leave=False, disable=not terminal()) as bar,
        lines_off_terminal(name, unit) as said,
    ):

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)
            said.update(done, total)

        yield progress
