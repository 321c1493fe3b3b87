"""`kgctl stats`: the paper's Table 1 for the stored graph, and counts per label and type."""

import typer
from rich.table import Table

from cli.console import console, database
from kgstore.stats import graph_stats


def stats() -> None:
    """Users, items, interactions, entities, triples (the paper's Table 1) per domain and
    for the whole graph, then every label and relationship type with its count."""
    with database() as db:
        result = graph_stats(db)
    columns = ("users", "items", "interactions", "entities", "triples")
    table1 = Table("domain", *columns, title="Table 1 per domain")
    for domain, row in result.domains.items():
        table1.add_row(domain.value, *(f"{getattr(row, name):,}" for name in columns))
    table1.add_row("all", *(f"{getattr(result, name):,}" for name in columns))
    console.print(table1)
    detail = Table("label / relationship type", "count")
    for label, count in result.labels.items():
        detail.add_row(f":{label}", f"{count:,}")
    for rel_type, count in result.relationship_types.items():
        detail.add_row(f"[:{rel_type}]", f"{count:,}")
    console.print(detail)


def register(parent: typer.Typer) -> None:
    parent.command("stats")(stats)
