"""What a long command says when Ctrl-C stops it, and its exit code (130, as a shell's).

The run the command recorded is closed as `interrupted` by the library (a Ctrl-C in a
command that follows a worker also stops the task there: cli.worker_task). Whether a
second run resumes depends on the command, so each long command says which is true.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from cli.console import err_console
from kgstore.errors import KgstoreError, stopped_by_user

RESUMES = "interrupted; what was written is kept; run the same command again to resume"
STARTS_OVER = (
    "interrupted; the run is recorded as interrupted and nothing it trained is used "
    "(a training does not resume); run the same command again to start over"
)


class Interrupted(KgstoreError):
    """A Ctrl-C, with what the command it stopped says about it. Not a KeyboardInterrupt:
    Typer would turn that into a silent exit."""

    exit_code = 130


@contextmanager
def interruptible(message: str) -> Iterator[None]:
    """Turn a Ctrl-C inside the block (or an error raised while handling one) into
    `Interrupted(message)`."""
    try:
        yield
    except BaseException as exc:
        if stopped_by_user(exc):
            raise Interrupted(message) from exc
        raise


def exit_interrupted(exc: Interrupted) -> NoReturn:
    """Say that the command was interrupted (and what that left), then exit 130."""
    err_console.print(str(exc), highlight=False)
    sys.exit(exc.exit_code)
