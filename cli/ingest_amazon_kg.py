"""`kgctl ingest amazon-kg`: the DBpedia-linked Amazon-KG (RecBole) files
(kgstore.ingest.sources.amazon_kg)."""

from pathlib import Path
from typing import Annotated

import typer

from cli.ingest_options import DomainOption, Reported, ingest_command, input_file, run_ingest
from kgstore.ingest.session import IngestOptions
from kgstore.ingest.sources.amazon_kg import AmazonKgFiles, ingest_amazon_kg


@ingest_command()
def amazon_kg(
    domain: DomainOption,
    options: IngestOptions,
    kcore: int,
    inter: Annotated[
        Path | None, input_file("RecBole .inter: user_id, item_id, rating[, timestamp].")
    ] = None,
    kg: Annotated[Path | None, input_file("RecBole .kg: head_id, relation_id, tail_id.")] = None,
    link: Annotated[
        Path | None, input_file("RecBole .link: item_id, entity_id (res:/cat: names).")
    ] = None,
    items: Annotated[Path | None, input_file("Item table: iid, title (as a pattern), uri.")] = None,
    item_metadata: Annotated[
        Path | None, input_file("Item metadata table: iid, then cat:/res: tokens.")
    ] = None,
) -> Reported:
    """Amazon-KG (DBpedia-linked Amazon items): interactions, item links, titles,
    subjects and DBpedia facts of the linked items."""
    files = AmazonKgFiles(inter, kg, link, items, item_metadata)
    if not files.given():
        raise typer.BadParameter(
            "give at least one of --inter, --kg, --link, --items, --item-metadata"
        )
    return run_ingest(lambda db: ingest_amazon_kg(db, files, domain, kcore, options), options)


def register(ingest_app: typer.Typer) -> None:
    ingest_app.command("amazon-kg")(amazon_kg)
