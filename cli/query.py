"""`kgctl query NAME`: run a file of the `cypher/` library with typed parameters."""

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.console import console, database, err_console
from kgstore.csv_out import csv_value, csv_writer
from kgstore.query.library import (
    find_query,
    header_notes,
    library_files,
    query_name,
    read_query,
)
from kgstore.query.run import QueryResult, bind_params, run_query


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def list_library() -> None:
    table = Table("name", "parameters", "returns", "what it answers")
    for path in library_files():
        query = read_query(path, query_name(path))
        params = ", ".join(
            p.name if p.required else f"[{p.name}={p.default}]" for p in query.params
        )
        summary = query.description.split(". ")[0].rstrip(".") + "."
        table.add_row(query.name, escape(params), ", ".join(query.columns or ()), escape(summary))
    console.print(table)


TABLE_CELL_CHARS = 160
"""A table cell is cut here (JSON metrics can run to thousands of characters); --format
json and csv give every value whole, numbers at full precision."""


def _table_cell(value: object) -> str:
    """A value as the table shows it: floats to 4 significant digits, long text cut."""
    text = f"{value:.4g}" if isinstance(value, float) else csv_value(value)
    return text if len(text) <= TABLE_CELL_CHARS else text[: TABLE_CELL_CHARS - 3] + "..."


def print_result(result: QueryResult, output: Format, crlf: bool = False) -> None:
    if output is Format.JSON:
        sys.stdout.write(json.dumps(result.rows, indent=1, default=str) + "\n")
    elif output is Format.CSV:
        writer = csv_writer(sys.stdout, crlf)
        writer.writerow(result.columns)
        for row in result.rows:
            writer.writerow([csv_value(row[c]) for c in result.columns])
    else:
        table = Table(*result.columns)
        for row in result.rows:
            table.add_row(*(escape(_table_cell(row[c])) for c in result.columns))
        console.print(table)
        count = len(result.rows)
        console.print(f"{count:,} row" if count == 1 else f"{count:,} rows")


def query(
    name: Annotated[
        str | None,
        typer.Argument(
            help="A file of cypher/ by its name (personas/similar_users), its file name "
            "alone when unique (similar_users), or the path of any .cypher file (its "
            "`// @returns` and `// @param` header lines are optional)."
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="NAME=VALUE, repeatable; typed by the file's `// @param` lines, lists "
            "comma-separated. Values are sent as query parameters, never pasted into the text.",
        ),
    ] = None,
    write: Annotated[
        bool,
        typer.Option(help="Allow the query to write (default: a read-only transaction)."),
    ] = False,
    output: Annotated[
        Format, typer.Option("--format", "-f", help="table, json or csv (on stdout).")
    ] = Format.TABLE,
    list_: Annotated[
        bool, typer.Option("--list", help="List the library: names, parameters, columns.")
    ] = False,
    crlf: Annotated[
        bool,
        typer.Option(
            "--crlf", help="With --format csv: end lines with CRLF (some spreadsheets want it)."
        ),
    ] = False,
) -> None:
    """Run a parameterised query of the cypher/ library (the files Neo4j Browser users
    paste), read-only unless --write. `kgctl query --list` shows what is there."""
    if list_ or name is None:
        list_library()
        return
    found = find_query(name)
    params = bind_params(found, param or [])
    for note in header_notes(found):
        err_console.print(f"note: {escape(note)}")
    with database() as db:
        result = run_query(db, found, params, write=write)
    print_result(result, output, crlf)


def register(parent: typer.Typer) -> None:
    parent.command("query")(query)
