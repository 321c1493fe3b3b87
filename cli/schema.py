"""`kgctl schema …`: apply and list the constraints and indexes of cypher/schema.cypher."""

import typer
from rich.table import Table

from cli.console import console, database
from kgstore.schema import SCHEMA_FILE, apply_schema, describe_schema

app = typer.Typer(help="The graph schema (constraints and indexes).", no_args_is_help=True)


@app.command("apply")
def schema_apply() -> None:
    """Apply cypher/schema.cypher; idempotent, so running it twice changes nothing."""
    with database() as db:
        count = apply_schema(db)
    console.print(f"applied {count} statements from {SCHEMA_FILE}")


@app.command("show")
def schema_show() -> None:
    """List the constraints and indexes the database holds."""
    with database() as db:
        objects = describe_schema(db)
    table = Table("kind", "name", "type", "labels/types", "properties")
    for obj in objects:
        table.add_row(
            obj.kind, obj.name, obj.type, ", ".join(obj.labels), ", ".join(obj.properties)
        )
    console.print(table)


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="schema")
