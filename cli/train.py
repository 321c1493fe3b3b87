"""`kgctl train hdgi`: user personas learned over the stored graph, in the `gpu` worker
(default) or in this process (`--local`)."""

import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from tqdm import tqdm

from cli import train_recommender
from cli.console import console, settings
from cli.interrupt import STARTS_OVER, interruptible
from cli.personas import probe_table
from cli.progress import lines_off_terminal, terminal
from cli.worker_task import follow_run_in_worker
from kgstore.graph.mapping import Domain
from kgstore.train.config import config_from_file
from workers.task_names import TRAIN_HDGI_TASK

STOPPED = {
    "patience": "patience: no better loss for `patience` epochs",
    "epochs": "the epoch cap",
}

train_app = typer.Typer(help="Train models from the stored graph.", no_args_is_help=True)


class EpochBar:
    """A progress bar over epochs with the loss (progress lines off a terminal), fed by
    task or in-process updates."""

    def __init__(self) -> None:
        self.bar = tqdm(desc="hdgi", unit=" epoch", leave=False, disable=not terminal())
        self.lines = lines_off_terminal("hdgi")

    def __call__(self, update: dict[str, Any]) -> None:
        if "epoch" not in update:
            self.bar.set_description(f"hdgi: {update['stage']}")
            self.lines.update(stage=update["stage"])
            return
        self.bar.total = update["epochs"]
        self.bar.set_postfix(loss=f"{update['loss']:.4f}")
        self.bar.update(update["epoch"] - self.bar.n)
        self.lines.update(epoch=f"{update['epoch']}/{update['epochs']}", loss=update["loss"])


@train_app.command("hdgi")
def hdgi(
    domain: Annotated[Domain, typer.Option(help="Whose users: the items of this domain.")] = (
        Domain.MOVIES
    ),
    config: Annotated[
        Path | None,
        typer.Option(
            help="HDGI hyper-parameters, TOML or JSON (keys of HDGIConfig: hidden, metapaths, "
            "neighbours, epochs, patience, lr, seed, batch_size, holdout_fraction, …)."
        ),
    ] = None,
    metapaths: Annotated[
        str | None,
        typer.Option(
            help="Learn from these meta-paths only, comma-separated (an ablation), e.g. UIU "
            "or UIEIU:people,UIEIU:genre (default: the config's, else UIU and one path per "
            "relation family the graph has)."
        ),
    ] = None,
    local: Annotated[bool, typer.Option("--local", help="Train here, not in a worker.")] = False,
    reuse: Annotated[
        bool,
        typer.Option(
            help="Reuse the stored personas' run when its fingerprint (exported graph, "
            "config, code, device and threads) is this run's: nothing is trained."
        ),
    ] = True,
) -> None:
    """Learn a persona for every user of DOMAIN with Heterogeneous Deep Graph Infomax over
    the training interactions and the KG, and write it to the DOMAIN's own User properties
    (`persona_<domain>` with `persona_<domain>_run` and the vector index
    `user_persona_<domain>`); other domains' personas are not touched. The previous
    personas stay until the new ones are all written. When the stored personas come from a
    run with this run's fingerprint, that run is reused (`--no-reuse` trains again)."""
    from kgstore.personas.runner import train_personas_from_settings
    from kgstore.train.hdgi import HDGIConfig, with_metapaths

    hdgi_config = config_from_file(HDGIConfig, config) if config else HDGIConfig()
    if metapaths is not None:
        hdgi_config = with_metapaths(hdgi_config, metapaths)
    bar = EpochBar()
    run_id = uuid.uuid4().hex
    try:
        with interruptible(STARTS_OVER), bar.lines:
            if local:
                report = train_personas_from_settings(
                    settings(), domain, hdgi_config, bar, run_id, reuse
                ).as_dict()
            else:
                task_args = (domain.value, hdgi_config.as_dict(), run_id, reuse)
                report = follow_run_in_worker(TRAIN_HDGI_TASK, task_args, bar, run_id)
    finally:
        bar.bar.close()
    if report["reused"]:
        console.print(
            f"run {report['run']}: reused — the stored {domain.value} personas are this run's "
            "and its fingerprint (exported graph, config, code, device, threads) is unchanged; "
            "nothing trained (--no-reuse to train again)"
        )
    weights = ", ".join(
        f"{name} {weight:.2f}" for name, weight in report["semantic_weights"].items()
    )
    console.print(
        f"run {report['run']}: personas of {report['users']:,} {domain.value} users "
        f"{'as that run wrote them' if report['reused'] else 'written'} "
        f"({report['held_out_users']:,} held out for the anonymous-session evaluation); "
        f"{report['epochs']} epochs (best {report['best_epoch']}, stopped by "
        f"{STOPPED[report['stopped']]}), loss "
        f"{report['first_loss']:.4f} → {report['best_loss']:.4f}, {report['train_seconds']:.1f} s "
        f"training on {report['device']} ({report['seconds']:.1f} s in all); meta-path "
        f"weights: {weights}"
    )
    for moved_domain, moved in report.get("migrated", {}).items():
        console.print(
            f"moved {moved:,} personas of an older kgstore (User.persona) to persona_{moved_domain}"
        )
    if report["probe"]:
        console.print(probe_table(report["probe"]))
    if report["order_assumed"]:
        console.print("note: the source had no timestamps; file order was taken as time order")


def register(parent: typer.Typer) -> None:
    train_recommender.register(train_app)
    parent.add_typer(train_app, name="train")
