"""`kgctl ingest demo` (real DBpedia films or books, generated users) and `kgctl ingest
demo-scale` (a synthetic graph of a given size, for benchmarks)."""

from typing import Annotated

import typer

from cli.ingest_options import DomainOption, Reported, ingest_command, run_ingest
from kgstore.demo.books import BOOKS
from kgstore.demo.films import FILMS
from kgstore.demo.ingest import ingest_demo, ingest_scale
from kgstore.demo.scale import BOOKS_SHAPE, ScaleShape
from kgstore.demo.users import DemoConfig
from kgstore.graph.mapping import Domain
from kgstore.ingest.session import IngestOptions

DEFAULTS = DemoConfig()
SPECS = {Domain.MOVIES: FILMS, Domain.BOOKS: BOOKS}

Seed = Annotated[int, typer.Option(help="Random seed: the same seed, the same users.")]
Groups = Annotated[int, typer.Option(min=1, help="Planted user groups (stored as plantedGroup).")]


@ingest_command()
def demo(
    domain: DomainOption = Domain.MOVIES,
    seed: Seed = DEFAULTS.seed,
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
    groups: Groups = DEFAULTS.groups,
    *,
    options: IngestOptions,
) -> Reported:
    """The real DBpedia films (3,084) or books (9,367) of data/demo as items (title,
    description, facts), and users whose sessions follow planted groups and personas
    (stored as `plantedGroup` and `plantedPersona`)."""
    config = DemoConfig(
        seed, users, min_interactions, max_interactions, noise, drift, groups=groups
    )
    return run_ingest(lambda db: ingest_demo(db, config, options, SPECS[domain]), options)


@ingest_command()
def demo_scale(
    domain: DomainOption = BOOKS_SHAPE.domain,
    users: Annotated[int, typer.Option(min=1, help="Users.")] = BOOKS_SHAPE.users,
    items: Annotated[int, typer.Option(min=1, help="Items.")] = BOOKS_SHAPE.items,
    interactions: Annotated[
        int, typer.Option(min=3, help="Interactions in all (3 per user at least).")
    ] = BOOKS_SHAPE.interactions,
    triples: Annotated[
        int, typer.Option(min=1, help="KG facts in all (1 to 40 per item).")
    ] = BOOKS_SHAPE.triples,
    seed: Seed = BOOKS_SHAPE.seed,
    groups: Groups = BOOKS_SHAPE.groups,
    *,
    options: IngestOptions,
) -> Reported:
    """A synthetic graph of exactly these sizes (default: the Books shape), with planted
    groups and personas like the demo; for benchmarks."""
    shape = ScaleShape(users, items, interactions, triples, domain, seed, groups)
    return run_ingest(lambda db: ingest_scale(db, shape, options), options)


def register(ingest_app: typer.Typer) -> None:
    ingest_app.command("demo")(demo)
    ingest_app.command("demo-scale")(demo_scale)
