"""`kgctl stats`: the paper's Table 1 for the stored graph, and counts per label and type."""

import typer
from rich.table import Table

from cli.console import console, database
from kgstore.stats import graph_stats


def stats() -> None:
    """Users, items, interactions, entities, triples (the paper's Table 1), then every
    label and relationship type with its count."""
    with database() as db:
        result = graph_stats(db)
    table1 = Table("users", "items", "interactions", "entities", "triples", title="Table 1 columns")
    table1.add_row(
        *(
            f"{value:,}"
            for value in (
                result.users,
                result.items,
                result.interactions,
                result.entities,
                result.triples,
            )
        )
    )
    console.print(table1)
    detail = Table("label / relationship type", "count")
    for label, count in result.labels.items():
        detail.add_row(f":{label}", f"{count:,}")
    for rel_type, count in result.relationship_types.items():
        detail.add_row(f"[:{rel_type}]", f"{count:,}")
    console.print(detail)


def register(parent: typer.Typer) -> None:
    parent.command("stats")(stats)
