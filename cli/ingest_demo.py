"""`kgctl ingest demo`: the bundled demo data set (real DBpedia films, generated users)."""

from typing import Annotated

import typer

from cli.console import console, settings
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
from kgstore.ingest.demo import DemoConfig
from kgstore.ingest.demo_ingest import ingest_demo
from kgstore.ingest.quarantine import DEFAULT_MAX_REJECT_FRACTION
from kgstore.ingest.writer import DEFAULT_BATCH_SIZE

DEFAULTS = DemoConfig()


def demo(
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same users.")] = (
        DEFAULTS.seed
    ),
    users: Annotated[int, typer.Option(min=1, help="Generated users.")] = DEFAULTS.users,
    min_interactions: Annotated[
        int, typer.Option(min=3, help="Fewest interactions per user.")
    ] = DEFAULTS.min_interactions,
    max_interactions: Annotated[
        int, typer.Option(min=3, help="Most interactions per user.")
    ] = DEFAULTS.max_interactions,
    noise: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of items drawn by popularity.")
    ] = DEFAULTS.noise,
    drift: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of sessions off the persona.")
    ] = DEFAULTS.drift,
    batch_size: BatchSize = DEFAULT_BATCH_SIZE,
    max_rejects: MaxRejects = DEFAULT_MAX_REJECT_FRACTION,
    quarantine_dir: QuarantineDir = None,
    bulk: Bulk = False,
) -> None:
    """The 3,084 DBpedia films of data/demo as items (title, description, facts), and
    users whose sessions follow planted personas (stored as `plantedPersona`)."""
    if max_interactions < min_interactions:
        raise typer.BadParameter("--max-interactions must be at least --min-interactions")
    config = DemoConfig(seed, users, min_interactions, max_interactions, noise, drift)
    cfg = settings()
    options = ingest_options(batch_size, max_rejects, quarantine_dir, bulk)
    with open_driver(cfg) as driver, bulk_if_asked(driver, cfg, options):
        report = ingest_demo(driver, cfg, config, options)
    print_report(report.interactions)
    print_report(report.facts)
    console.print(
        f"demo (seed {seed}): {report.films:,} films, {report.users:,} users, "
        f"{report.ratings:,} interactions"
    )


def register(ingest_app: typer.Typer) -> None:
    ingest_app.command("demo")(demo)
