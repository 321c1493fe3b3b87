"""`kgctl report RUN`: a self-contained HTML page about an evaluation or persona run."""

from pathlib import Path
from typing import Annotated

import typer

from cli.console import console, database, settings
from kgstore.report.limits import MAP_CAP


def report(
    run: Annotated[
        str,
        typer.Argument(
            help="An evaluation run (`kgctl evaluate --grid table3`) or an HDGI persona run "
            "(`kgctl train hdgi`), as `kgctl runs` lists them; `latest`: the newest of either."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write the page (default: report.html in the run's directory)."),
    ] = None,
    map_users: Annotated[
        int, typer.Option(min=5, help="Users on the persona map at most (a seeded sample).")
    ] = MAP_CAP,
) -> None:
    """Write one HTML page (images inside it): Table 1, Table 3 with mean +- std and
    p-values, training curves, a t-SNE map of the personas and the semantic attention per
    meta-path. Prints the path."""
    from kgstore.report.build import write_report

    with database() as db:
        path = write_report(db, run, out, settings().state_dir / "runs", map_users)
    console.print(str(path))


def register(parent: typer.Typer) -> None:
    parent.command("report")(report)
