"""`kgctl export pyg OUT`: a domain's persona graph as a PyTorch Geometric `HeteroData`."""

from pathlib import Path
from typing import Annotated

import typer

from cli.console import console, database, settings
from kgstore.artifacts import ArtifactStore
from kgstore.export.config import ExportConfig
from kgstore.graph.mapping import Domain

export_app = typer.Typer(help="Export the stored graph.", no_args_is_help=True)


@export_app.command("pyg")
def pyg(
    out: Annotated[Path, typer.Argument(help="The .pt file to write (torch.save of HeteroData).")],
    domain: Annotated[Domain, typer.Option(help="Whose items and users.")] = Domain.MOVIES,
    holdout_fraction: Annotated[
        float,
        typer.Option(min=0.0, max=0.99, help="Users left out entirely (anonymous-session eval)."),
    ] = ExportConfig.holdout_fraction,
    holdout_seed: Annotated[
        int, typer.Option(help="Which users are held out.")
    ] = ExportConfig.holdout_seed,
) -> None:
    """Write DOMAIN's users, items and entities with their text embeddings, the training
    interactions (leave-one-out: each user's last two items are never exported) and the
    item relationships as `HeteroData`; the snapshot also goes to the artifact store."""
    from kgstore.export.store import export_pyg_file

    with database() as db:
        key, summary = export_pyg_file(
            db,
            ArtifactStore.from_settings(settings()),
            domain,
            ExportConfig(holdout_fraction, holdout_seed),
            out,
        )
    relations = sum(summary["relationships"].values())
    console.print(
        f"{out}: {summary['users']:,} users, {summary['items']:,} items, "
        f"{summary['entities']:,} entities, {summary['trainingInteractions']:,} training "
        f"interactions, {relations:,} item relationships; {summary['heldOutUsers']:,} users "
        f"held out; snapshot {key}"
    )


def register(parent: typer.Typer) -> None:
    parent.add_typer(export_app, name="export")
