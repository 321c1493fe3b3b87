"""`kgctl recommend --session ITEM,...`: the top-K items after an anonymous session, with
the KG path that links each to the session."""

import json
import sys
from dataclasses import asdict
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.console import console, database, settings
from kgstore.artifacts import ArtifactStore


def recommend(
    session: Annotated[
        list[str],
        typer.Option(
            "--session",
            "-s",
            help="The session's item ids in order, comma-separated and/or repeated (-s A,B -s C).",
        ),
    ],
    run: Annotated[
        str | None,
        typer.Option(
            help="A finished `kgctl train retriever|reranker` run with user none or kg "
            "(default: the newest such run)."
        ),
    ] = None,
    k: Annotated[int, typer.Option("-k", min=1, help="How many items.")] = 10,
    paths: Annotated[
        int, typer.Option(min=0, help="KG paths shown per item, best first (table and --json).")
    ] = 1,
    include_session: Annotated[
        bool, typer.Option(help="Also rank the session's own items.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
    allow_stale: Annotated[
        bool,
        typer.Option(
            help="Use a persona run made before the latest interactions were ingested "
            "(refused otherwise); the answer says it is stale."
        ),
    ] = False,
) -> None:
    """Recommend for an anonymous session (no user id): the model scores every item after
    the session (a kg retriever infers the session's persona from its items), and each
    item is explained by the best --paths KG paths of cypher/recommend/session_paths.cypher
    (the most specific shared entities first; its header says how they are ranked)."""
    from kgstore.recsys.recommend import recommend_session

    items = [item.strip() for value in session for item in value.split(",") if item.strip()]
    with database() as db:
        result = recommend_session(
            db,
            ArtifactStore.from_settings(settings()),
            items,
            run,
            k,
            exclude_session=not include_session,
            allow_stale=allow_stale,
            paths=paths,
        )
    if as_json:
        sys.stdout.write(json.dumps(asdict(result), indent=1) + "\n")
        return
    persona = f", persona run {result.persona_run}" if result.persona_run else ""
    console.print(f"run {result.run} ({result.domain}, {result.row}{persona})")
    for note in result.notes:
        console.print(f"[yellow]{escape(note)}[/yellow]")
    table = Table("#", "item", "title", "score", "why (KG path from the session)")
    for rank, rec in enumerate(result.items, start=1):
        more = [f"(+{rec.more_paths} more)"] if rec.more_paths else []
        why = "\n".join(rec.paths + more) or "no KG path within 4 hops"
        table.add_row(str(rank), rec.item, escape(rec.title or ""), f"{rec.score:.3f}", escape(why))
    console.print(table)


def register(parent: typer.Typer) -> None:
    parent.command("recommend")(recommend)
