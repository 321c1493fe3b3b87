"""`kgctl db …`: operations on the stored graph as a whole."""

import sys
from typing import Annotated

import typer

from cli.console import console, database
from kgstore.errors import KgstoreError
from kgstore.graph.clear import clear_domain, clear_graph
from kgstore.graph.mapping import Domain

app = typer.Typer(help="Operations on the stored graph as a whole.", no_args_is_help=True)


@app.command("clear")
def db_clear(
    yes: Annotated[bool, typer.Option("--yes", help="Do it without asking.")] = False,
    domain: Annotated[
        Domain | None,
        typer.Option(
            help="Remove only this domain's items, their interactions and facts, the "
            "users and entities nothing else uses, and the domain's personas and keywords."
        ),
    ] = None,
) -> None:
    """Empty the graph (or one domain) in batches; constraints and indexes stay. Asks
    first on a terminal; elsewhere refuses unless --yes."""
    what = f"the {domain.value} domain" if domain is not None else "every node and relationship"
    if not yes:
        if not sys.stdin.isatty():
            raise KgstoreError(f"db clear deletes {what}: add --yes to confirm (nothing deleted)")
        typer.confirm(f"Delete {what}?", abort=True)
    with database() as db:
        cleared = clear_domain(db, domain) if domain is not None else clear_graph(db)
    console.print(
        f"deleted {cleared.nodes:,} nodes and {cleared.relationships:,} relationships "
        f"({what}); the schema stays"
    )
    if cleared.users_stripped:
        console.print(
            f"removed the {what}'s personas and keywords of {cleared.users_stripped:,} users "
            "who rate another domain"
        )


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="db")
