"""`kgctl ingest interactions`: generic user-item files (kgstore.ingest.sources.interactions)."""

from pathlib import Path
from typing import Annotated

import typer

from cli.ingest_options import DomainOption, Reported, ingest_command, run_ingest
from kgstore.ingest.session import IngestOptions
from kgstore.ingest.sources.interactions import InteractionFormat, ingest_interactions


@ingest_command()
def interactions(
    path: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="The file (.gz too)."),
    ],
    domain: DomainOption,
    options: IngestOptions,
    kcore: int,
    fmt: Annotated[
        InteractionFormat,
        typer.Option(
            "--format",
            help="csv / tsv (user, item[, rating][, timestamp]; header optional), sequence "
            "(`user item item …` lines in time order), or auto: by extension, else by the "
            "first line.",
        ),
    ] = InteractionFormat.AUTO,
) -> Reported:
    """Generic user-item interactions: a CSV/TSV file or a sequence file."""
    return run_ingest(
        lambda db: ingest_interactions(db, path, domain, fmt, kcore, options), options
    )


def register(ingest_app: typer.Typer) -> None:
    ingest_app.command("interactions")(interactions)
