"""`kgctl ingest demo`: the bundled demo data set (real DBpedia films, generated users)."""

from typing import Annotated

import typer

from cli.ingest_options import Reported, ingest_command, run_ingest
from kgstore.ingest.demo_ingest import ingest_demo
from kgstore.ingest.demo_users import DemoConfig
from kgstore.ingest.session import IngestOptions

DEFAULTS = DemoConfig()


@ingest_command()
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
    *,
    options: IngestOptions,
) -> Reported:
    """The 3,084 DBpedia films of data/demo as items (title, description, facts), and
    users whose sessions follow planted personas (stored as `plantedPersona`)."""
    if max_interactions < min_interactions:
        raise typer.BadParameter("--max-interactions must be at least --min-interactions")
    config = DemoConfig(seed, users, min_interactions, max_interactions, noise, drift)
    return run_ingest(lambda db: ingest_demo(db, config, options), options)


def register(ingest_app: typer.Typer) -> None:
    ingest_app.command("demo")(demo)
