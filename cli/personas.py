"""`kgctl personas similar|infer`: look personas up, or infer one for an anonymous session."""

import json
from typing import Annotated

import typer
from rich.table import Table

from cli.console import console, database, settings
from kgstore.artifacts import ArtifactStore
from kgstore.errors import PersonaError
from kgstore.graph.mapping import Domain
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
        str | None, typer.Option(help="Persona run (default: the domain's latest finished one).")
    ] = None,
    domain: Annotated[
        Domain | None, typer.Option(help="Without --run: the latest run of this domain.")
    ] = None,
    k: Annotated[int, typer.Option("-k", min=1, help="Nearest known users to list.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the persona as JSON.")] = False,
) -> None:
    """A persona for an anonymous session: the trained encoder applied to a new user
    whose only edges are ITEMS (no user id is looked up). Give --domain or --run."""
    from kgstore.personas.infer import infer_personas, latest_persona_run, load_encoder

    with database() as db:
        if run is not None:
            run_id = run
        elif domain is not None:
            run_id = latest_persona_run(db, domain)
        else:
            raise PersonaError("personas infer: give --domain (its latest persona run) or --run")
        encoder = load_encoder(db, ArtifactStore.from_settings(settings()), run_id)
        if domain is not None and encoder.snapshot.domain != domain.value:
            raise PersonaError(
                f"run {run_id} learned {encoder.snapshot.domain} personas, not {domain.value}"
            )
        [persona] = infer_personas(encoder, [items])
        if as_json:
            console.print(json.dumps({"run": run_id, "items": items, "persona": persona.tolist()}))
            return
        console.print(f"persona of the session ({len(persona)} dimensions, run {run_id})")
        neighbours = nearest_users(db, Domain(encoder.snapshot.domain), run_id, persona, k)
    console.print(_table(f"nearest known {encoder.snapshot.domain} users", neighbours))


def register(parent: typer.Typer) -> None:
    parent.add_typer(personas_app, name="personas")
