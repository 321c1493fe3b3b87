"""`kgctl embed items|entities`: text embeddings written back to the graph, by a Celery
worker (default) or in this process (`--local`)."""

import sys
import time
from typing import Annotated

import typer
from tqdm import tqdm

from cli.console import console, settings
from kgstore.embeddings.pipeline import DEFAULT_CHUNK, EmbedTarget, Progress, embed_from_settings
from kgstore.embeddings.sentence_transformers import DEFAULT_MODEL
from kgstore.errors import KgstoreError
from workers.app import CPU_QUEUE, create_app
from workers.launcher import WORKERS, ping_workers
from workers.tasks import EMBED_TASK


def embed(
    target: Annotated[
        EmbedTarget, typer.Argument(help="items (title + description) or entities (name).")
    ],
    model: Annotated[
        str,
        typer.Option(
            help="A sentence-transformers model: hub name or local folder. Default: the "
            "bundled all-MiniLM-L6-v2 (offline)."
        ),
    ] = DEFAULT_MODEL,
    chunk: Annotated[
        int, typer.Option(min=1, help="Nodes read, encoded and written at a time.")
    ] = DEFAULT_CHUNK,
    local: Annotated[
        bool, typer.Option("--local", help="Run here instead of in a worker.")
    ] = False,
) -> None:
    """Encode every item or entity whose text (or the model) changed since its last
    embedding; write `textEmbedding` with the model and run, and a cosine vector index."""
    terminal = sys.stderr.isatty()
    with tqdm(
        desc=f"embed {target.value}", unit=" nodes", leave=False, disable=not terminal
    ) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        if local:
            report = embed_from_settings(settings(), target, model, chunk, progress).as_dict()
        else:
            report = _in_worker(target, model, chunk, progress)
    console.print(
        f"run {report['run']}: {report['encoded']:,} {target.value} encoded with "
        f"{report['model']} ({report['dimension']} dimensions), {report['unchanged']:,} "
        f"unchanged, {report['without_text']:,} without text, in {report['seconds']:.1f} s "
        f"({report['textsPerSecond']:,.1f} texts/s); vector index "
        f"{target.index_name}"
    )


def _in_worker(target: EmbedTarget, model: str, chunk: int, progress: Progress) -> dict:
    """Send the task to the `cpu` queue and follow its progress until it ends; refuse at
    once when no `cpu` worker answers (the task would wait in the queue)."""
    cfg = settings()
    cpu_worker = next(spec.node_name() for spec in WORKERS if spec.queue == CPU_QUEUE)
    if cpu_worker not in ping_workers(cfg):
        raise KgstoreError(
            f"no Celery worker {cpu_worker} answers (Redis at REDIS_URL, workers started by "
            "`kgctl services up` or `kgctl workers up`); start them, or run with --local"
        )
    app = create_app(cfg)
    try:
        result = app.send_task(EMBED_TASK, args=(target.value, model, chunk))
        while not result.ready():
            if result.state == "PROGRESS" and isinstance(result.info, dict):
                progress(result.info["done"], result.info["total"])
            time.sleep(0.5)
        if result.failed():
            raise KgstoreError(f"the embed task failed in the worker: {result.result}")
        return result.get()
    finally:
        app.close()


def register(parent: typer.Typer) -> None:
    parent.command("embed")(embed)
