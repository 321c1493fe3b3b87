"""`kgctl ingest amazon`: Amazon Reviews 2018 / 2014 files (kgstore.ingest.sources.amazon)."""

from pathlib import Path
from typing import Annotated

import typer

from cli.ingest_options import DomainOption, Reported, ingest_command, input_file, run_ingest
from kgstore.ingest.session import IngestOptions
from kgstore.ingest.sources.amazon import ingest_amazon


@ingest_command()
def amazon(
    domain: DomainOption,
    options: IngestOptions,
    kcore: int,
    reviews: Annotated[
        Path | None,
        input_file("Reviews: <Category>_5.json.gz (2018) or reviews_*.json.gz (2014)."),
    ] = None,
    meta: Annotated[
        Path | None, input_file("Metadata: meta_<Category>.json.gz (2018 or 2014).")
    ] = None,
) -> Reported:
    """Amazon Reviews (2018 or 2014): users, items, RATED in time order, categories,
    brands and also-buy / also-view relations."""
    if reviews is None and meta is None:
        raise typer.BadParameter("give --reviews, --meta or both")
    return run_ingest(lambda db: ingest_amazon(db, domain, reviews, meta, kcore, options), options)


def register(ingest_app: typer.Typer) -> None:
    ingest_app.command("amazon")(amazon)
