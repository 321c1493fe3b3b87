"""`kgctl ingest amazon | amazon-kg | interactions`: thin commands over
kgstore.ingest.amazon, .amazon_kg and .interactions."""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from neo4j import Driver

from cli.console import settings
from cli.ingest import (
    BatchSize,
    Bulk,
    MaxRejects,
    QuarantineDir,
    bulk_if_asked,
    ingest_options,
    print_report,
)
from kgstore.db import open_driver
from kgstore.ingest.amazon import ingest_amazon
from kgstore.ingest.amazon_kg import AmazonKgFiles, ingest_amazon_kg
from kgstore.ingest.interactions import InteractionFormat, ingest_interactions
from kgstore.ingest.mapping import Domain
from kgstore.ingest.quarantine import DEFAULT_MAX_REJECT_FRACTION
from kgstore.ingest.session import IngestOptions
from kgstore.ingest.writer import DEFAULT_BATCH_SIZE
from kgstore.settings import Settings

DomainOption = Annotated[
    Domain, typer.Option(help="Item domain: adds the label Movie or Book to every item.")
]
KCore = Annotated[
    int,
    typer.Option(
        "--kcore",
        min=0,
        help="Keep the k-core: drop users and items with fewer than K interactions until "
        "none is left (the paper uses 5; 0 keeps everything).",
    ),
]


def _file(help_text: str) -> Any:
    return typer.Option(exists=True, dir_okay=False, readable=True, help=help_text)


def _run(ingest: Callable[[Driver, Settings], dict], options: IngestOptions) -> None:
    """Open the driver from the settings, ingest (and bulk-load with `--bulk`), print the
    report."""
    cfg = settings()
    with open_driver(cfg) as driver, bulk_if_asked(driver, cfg, options):
        report = ingest(driver, cfg)
    print_report(report)


def amazon(
    domain: DomainOption,
    reviews: Annotated[
        Path | None, _file("Reviews: <Category>_5.json.gz (2018) or reviews_*.json.gz (2014).")
    ] = None,
    meta: Annotated[Path | None, _file("Metadata: meta_<Category>.json.gz (2018 or 2014).")] = None,
    kcore: KCore = 0,
    batch_size: BatchSize = DEFAULT_BATCH_SIZE,
    max_rejects: MaxRejects = DEFAULT_MAX_REJECT_FRACTION,
    quarantine_dir: QuarantineDir = None,
    bulk: Bulk = False,
) -> None:
    """Amazon Reviews (2018 or 2014): users, items, RATED in time order, categories,
    brands and also-buy / also-view relations."""
    if reviews is None and meta is None:
        raise typer.BadParameter("give --reviews, --meta or both")
    options = ingest_options(batch_size, max_rejects, quarantine_dir, bulk)
    _run(
        lambda driver, cfg: ingest_amazon(driver, cfg, domain, reviews, meta, kcore, options),
        options,
    )


def amazon_kg(
    domain: DomainOption,
    inter: Annotated[
        Path | None, _file("RecBole .inter: user_id, item_id, rating[, timestamp].")
    ] = None,
    kg: Annotated[Path | None, _file("RecBole .kg: head_id, relation_id, tail_id.")] = None,
    link: Annotated[
        Path | None, _file("RecBole .link: item_id, entity_id (res:/cat: names).")
    ] = None,
    items: Annotated[Path | None, _file("Item table: iid, title (as a pattern), uri.")] = None,
    item_metadata: Annotated[
        Path | None, _file("Item metadata table: iid, then cat:/res: tokens.")
    ] = None,
    kcore: KCore = 0,
    batch_size: BatchSize = DEFAULT_BATCH_SIZE,
    max_rejects: MaxRejects = DEFAULT_MAX_REJECT_FRACTION,
    quarantine_dir: QuarantineDir = None,
    bulk: Bulk = False,
) -> None:
    """Amazon-KG (DBpedia-linked Amazon items): interactions, item links, titles,
    subjects and DBpedia facts of the linked items."""
    files = AmazonKgFiles(inter, kg, link, items, item_metadata)
    if not files.given():
        raise typer.BadParameter(
            "give at least one of --inter, --kg, --link, --items, --item-metadata"
        )
    options = ingest_options(batch_size, max_rejects, quarantine_dir, bulk)
    _run(lambda driver, cfg: ingest_amazon_kg(driver, cfg, files, domain, kcore, options), options)


def interactions(
    path: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="The file (.gz too)."),
    ],
    domain: DomainOption,
    fmt: Annotated[
        InteractionFormat,
        typer.Option(
            "--format",
            help="csv / tsv (user, item[, rating][, timestamp]; header optional), sequence "
            "(`user item item …` lines in time order), or auto: by extension, else by the "
            "first line.",
        ),
    ] = InteractionFormat.AUTO,
    kcore: KCore = 0,
    batch_size: BatchSize = DEFAULT_BATCH_SIZE,
    max_rejects: MaxRejects = DEFAULT_MAX_REJECT_FRACTION,
    quarantine_dir: QuarantineDir = None,
    bulk: Bulk = False,
) -> None:
    """Generic user-item interactions: a CSV/TSV file or a sequence file."""
    options = ingest_options(batch_size, max_rejects, quarantine_dir, bulk)
    _run(
        lambda driver, cfg: ingest_interactions(driver, cfg, path, domain, fmt, kcore, options),
        options,
    )


def register(app: typer.Typer) -> None:
    app.command("amazon")(amazon)
    app.command("amazon-kg")(amazon_kg)
    app.command("interactions")(interactions)
