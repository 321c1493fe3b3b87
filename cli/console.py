"""Shared rich consoles, the settings loader and the database every command opens."""

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

from kgstore.db import Database, open_database
from kgstore.settings import Settings, load_settings

# soft_wrap: off a terminal rich would wrap at 80 columns and split paths and URLs.
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def settings() -> Settings:
    return load_settings()


@contextmanager
def database() -> Iterator[Database]:
    """The database the settings name (a clear error when it does not answer)."""
    with open_database(settings()) as db:
        yield db
