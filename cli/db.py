"""`kgctl db …`: operations on the stored graph as a whole."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.console import console, database, settings
from kgstore.backup.dump import dump_database
from kgstore.backup.load import load_database
from kgstore.backup.manifest import GraphCounts
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


def _bytes(size: int) -> str:
    """`812 B`, `3.4 MiB`, `1.2 GiB`."""
    scaled, unit = float(size), "B"
    for larger in ("KiB", "MiB", "GiB"):
        if scaled < 1024:
            break
        scaled, unit = scaled / 1024, larger
    return f"{size:,} B" if unit == "B" else f"{scaled:,.1f} {unit}"


def _counts(counts: GraphCounts) -> str:
    return f"{counts.nodes:,} nodes and {counts.relationships:,} relationships"


def _warn_running(runs: list[str]) -> None:
    if runs:
        console.print(
            f"[yellow]note:[/] {len(runs)} run(s) were recorded as running while Neo4j was "
            "stopped and may have failed: " + ", ".join(runs[:5])
        )


@app.command("dump")
def db_dump(
    out: Annotated[
        Path, typer.Argument(metavar="OUT", help="The backup folder to write (must not exist).")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace OUT when it is an earlier backup.")
    ] = False,
) -> None:
    """Back up the database, the artifact store and the runs' files into the folder OUT.
    Neo4j is stopped for the dump (Community edition cannot dump a running database) and
    started again if it was running. A local artifact store is copied; a remote one is
    named in OUT/manifest.json with the keys the graph's runs use."""
    report = dump_database(settings(), out, force, say=console.print)
    manifest = report.manifest
    console.print(
        f"dumped database {manifest.database!r} ({_counts(manifest.counts)}) to {report.out}"
    )
    console.print(f"  {manifest.dump.name}: {_bytes(manifest.dump.bytes)}")
    artifacts = manifest.artifacts
    if artifacts.copied:
        console.print(
            f"  {len(artifacts.keys):,} artifacts ({_bytes(artifacts.bytes)}) copied from "
            f"{artifacts.store}"
        )
    else:
        console.print(
            f"  {len(artifacts.keys):,} artifacts the runs use are named, not copied: they "
            f"stay in {artifacts.store}"
        )
    if artifacts.missing:
        console.print(
            f"[yellow]note:[/] {len(artifacts.missing)} artifact(s) the runs name were not in "
            "the store: " + ", ".join(artifacts.missing[:3])
        )
    files = sum(len(run.files) for run in manifest.runs.values())
    size = sum(sum(run.files.values()) for run in manifest.runs.values())
    if manifest.runs:
        console.print(f"  {files:,} files ({_bytes(size)}) of {len(manifest.runs):,} runs")
    _warn_running(report.running_runs)
    console.print(
        "Neo4j is running again"
        if report.restarted
        else "Neo4j was down before the dump and is down again"
    )


@app.command("load")
def db_load(
    source: Annotated[
        Path, typer.Argument(metavar="IN", help="A backup folder `kgctl db dump` wrote.")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that holds data.")
    ] = False,
) -> None:
    """Restore a backup: its database replaces the (empty, or with --force any) database,
    its artifacts go into the store and its runs' files into the state directory. The
    backup is checked whole before anything is stopped or written; the loaded counts must
    equal the backup's."""
    report = load_database(settings(), source, force, say=console.print)
    if report.replaced.nodes or report.replaced.relationships:
        console.print(f"replaced {_counts(report.replaced)}")
    console.print(
        f"loaded database {report.manifest.database!r} from {report.source}: "
        f"{_counts(report.counts)}, as the backup records"
    )
    artifacts = report.artifacts
    if report.manifest.artifacts.copied:
        console.print(
            f"  artifacts: {artifacts.copied:,} put ({_bytes(artifacts.bytes)}), "
            f"{artifacts.present:,} already in the store"
        )
    if report.unavailable:
        console.print(
            f"[yellow]note:[/] {len(report.unavailable)} artifact(s) the backup names are "
            f"not in KGSTORE_ARTIFACTS (they were in {report.manifest.artifacts.store}): "
            + ", ".join(report.unavailable[:3])
        )
    restored, kept = report.run_files
    if report.manifest.runs:
        console.print(f"  run files: {restored:,} restored, {kept:,} already there")
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}")
    _warn_running(report.running_runs)


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="db")
