"""`kgctl personas similar|infer|probe`: look personas up, infer one for an anonymous
session, or probe what a persona run's personas know."""

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.console import console, database, settings
from kgstore.artifacts import ArtifactStore
from kgstore.graph.mapping import Domain
from kgstore.personas.probe_rows import PROBE_HEADERS, probe_rows, spread_line
from kgstore.personas.similar import Neighbour, nearest_users, similar_users

personas_app = typer.Typer(help="Inspect and infer user personas.", no_args_is_help=True)


def _table(title: str, neighbours: list[Neighbour]) -> Table:
    table = Table("user", "cosine", title=title)
    for neighbour in neighbours:
        table.add_row(neighbour.user, f"{neighbour.score:.4f}")
    return table


@personas_app.command("similar")
def similar(
    user: Annotated[str, typer.Argument(help="A user id.")],
    k: Annotated[int, typer.Option("-k", min=1, help="How many users.")] = 10,
    domain: Annotated[
        Domain | None,
        typer.Option(help="Whose personas (default: the one domain USER has a persona of)."),
    ] = None,
) -> None:
    """The users whose personas of a domain are nearest to USER's (vector index
    `user_persona_<domain>`), with the persona run they were read from."""
    with database() as db:
        found = similar_users(db, user, k, domain)
    console.print(f"{found.domain.value} personas of run {found.run}")
    console.print(_table(f"nearest to {user}", found.neighbours))


@personas_app.command("infer")
def infer(
    items: Annotated[list[str], typer.Argument(help="The session's item ids, in order.")],
    run: Annotated[
        str | None,
        typer.Option(help="Persona run (default: the newest finished one of the items' domain)."),
    ] = None,
    domain: Annotated[
        Domain | None,
        typer.Option(help="The items' domain (read from them when not given; checked if given)."),
    ] = None,
    k: Annotated[int, typer.Option("-k", min=1, help="Nearest known users to list.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the persona as JSON.")] = False,
) -> None:
    """A persona for an anonymous session: the trained encoder of the items' domain applied
    to a new user whose only edges are ITEMS (no user id is looked up). A session mixing
    movies and books is refused."""
    from kgstore.personas.infer import infer_personas, session_encoder

    with database() as db:
        store = ArtifactStore.from_settings(settings())
        encoder = session_encoder(db, store, items, run, domain)
        [persona] = infer_personas(encoder, [items])
        if as_json:
            console.print(
                json.dumps({"run": encoder.run, "items": items, "persona": persona.tolist()})
            )
            return
        console.print(f"persona of the session ({len(persona)} dimensions, run {encoder.run})")
        neighbours = nearest_users(db, Domain(encoder.snapshot.domain), encoder.run, persona, k)
    console.print(_table(f"nearest known {encoder.snapshot.domain} users", neighbours))


@personas_app.command("probe")
def probe(
    domain: Annotated[Domain, typer.Option(help="Whose personas.")] = Domain.MOVIES,
    run: Annotated[
        str | None,
        typer.Option(help="Persona run (default: the newest finished one of DOMAIN)."),
    ] = None,
) -> None:
    """What a persona alone predicts, without a recommender: each user's validation item
    and its entities per relation family, top-10 hit rate through a linear map fitted on
    other users' training items; beside it a constant persona and chance. Also how
    spread the personas are (mean pairwise cosine, effective rank). Recorded on the run
    (every `kgctl train hdgi` probes its own run)."""
    from kgstore.personas.probe_run import probe_persona_run

    with database() as db:
        store = ArtifactStore.from_settings(settings())
        run_id, result = probe_persona_run(db, store, domain, run)
    console.print(f"{domain.value} personas of run {run_id}")
    console.print(probe_table(result.as_dict()))


def probe_table(probe: dict[str, Any]) -> Table:
    """The probe figures of a persona run (`ProbeResult.as_dict()`, as the Run keeps them)."""
    table = Table(*PROBE_HEADERS, title="persona probe", caption=spread_line(probe))
    for row in probe_rows(probe):
        table.add_row(*row)
    return table


def register(parent: typer.Typer) -> None:
    parent.add_typer(personas_app, name="personas")
