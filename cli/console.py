"""Shared rich consoles, the settings loader and the database every command opens."""

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

from kgstore.db import Database, open_database
from kgstore.settings import Settings, load_settings

PIPE_WIDTH = 1_000
"""Off a terminal rich would assume 80 columns: lines would wrap mid-path and table cells
be cut. Piped output gets room for whole lines instead."""


def _console(stderr: bool = False) -> Console:
    terminal = Console(stderr=stderr).is_terminal
    return Console(
        stderr=stderr, highlight=False, soft_wrap=True, width=None if terminal else PIPE_WIDTH
    )


console = _console()
err_console = _console(stderr=True)


def settings() -> Settings:
    return load_settings()


@contextmanager
def database() -> Iterator[Database]:
    """The database the settings name (a clear error when it does not answer)."""
    with open_database(settings()) as db:
        yield db
