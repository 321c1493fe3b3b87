"""`kgctl train retriever|reranker`: one SASRec variant on a domain's split, in the `gpu`
worker (default) or in this process (`--local`); registered on the `train` group."""

import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from tqdm import tqdm

from cli.console import console, settings
from cli.interrupt import STARTS_OVER, interruptible
from cli.progress import lines_off_terminal, terminal
from cli.worker_task import follow_run_in_worker
from kgstore.graph.mapping import Domain
from kgstore.recsys.names import ITEMS, USERS
from workers.task_names import TRAIN_SASREC_TASK

if TYPE_CHECKING:
    from kgstore.train.sasrec import SASRecConfig

DomainOption = Annotated[Domain, typer.Option(help="Whose sequences.")]
ConfigOption = Annotated[
    Path | None, typer.Option(help="SASRecConfig keys, TOML or JSON (max_epochs, lr, …).")
]
LocalOption = Annotated[bool, typer.Option("--local", help="Train here, not in a worker.")]


def _train(domain: Domain, config: "SASRecConfig", local: bool, allow_stale: bool) -> None:
    from kgstore.recsys.single import train_model_from_settings

    bar = tqdm(desc="sasrec", unit=" epoch", leave=False, disable=not terminal())
    said = lines_off_terminal("sasrec")

    def progress(update: dict[str, Any]) -> None:
        bar.set_postfix(loss=f"{update['loss']:.4f}")
        bar.update(update["epoch"] - bar.n)
        said.update(epoch=update["epoch"], loss=update["loss"])

    run_id = uuid.uuid4().hex
    try:
        with interruptible(STARTS_OVER), said:
            if local:
                report = train_model_from_settings(
                    settings(), domain, config, progress, run_id, allow_stale
                ).as_dict()
            else:
                args = (domain.value, config.to_dict(), run_id, allow_stale)
                report = follow_run_in_worker(TRAIN_SASREC_TASK, args, progress, run_id)
    finally:
        bar.close()
    test = ", ".join(f"{name} {value:.4f}" for name, value in report["test"].items())
    console.print(
        f"run {report['run']}: {report['model']} {report['row']} on {domain.value}, best epoch "
        f"{report['best_epoch']} of {report['epochs']}; test ({report['protocol']}): {test}"
    )
    for note in report["notes"]:
        console.print(f"note: {note}")


def retriever(
    user: Annotated[str, typer.Option(help=f"User representation: {', '.join(USERS)}.")],
    item: Annotated[str, typer.Option(help=f"Item representation: {', '.join(ITEMS)}.")],
    domain: DomainOption = Domain.MOVIES,
    config: ConfigOption = None,
    local: LocalOption = False,
    allow_stale: Annotated[
        bool,
        typer.Option(
            help="Train on personas or keywords made before the latest interactions were "
            "ingested (refused otherwise); the run's notes say they are stale."
        ),
    ] = False,
) -> None:
    """Train a retriever (SASRec with a user and an item representation) and record it."""
    from kgstore.train.sasrec import SASRecConfig

    base = SASRecConfig.from_file(config) if config else SASRecConfig()
    chosen = SASRecConfig.from_dict({**base.to_dict(), "user": user, "item": item})
    _train(domain, chosen, local, allow_stale)


def reranker(
    domain: DomainOption = Domain.MOVIES,
    config: ConfigOption = None,
    local: LocalOption = False,
) -> None:
    """Train the reranker (base SASRec: no user vector, random item embeddings)."""
    from kgstore.train.sasrec import SASRecConfig

    base = SASRecConfig.from_file(config) if config else SASRecConfig()
    # no personas or keywords: nothing the base model reads can be stale
    _train(domain, replace(base, user="none", item="random"), local, allow_stale=False)


def register(train_app: typer.Typer) -> None:
    train_app.command("retriever")(retriever)
    train_app.command("reranker")(reranker)
