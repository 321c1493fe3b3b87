"""Shared rich consoles and the settings loader used by every command."""

from rich.console import Console

from kgstore.settings import Settings, load_settings

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def settings() -> Settings:
    return load_settings()
