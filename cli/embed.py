"""`kgctl embed items|entities`: text embeddings written back to the graph, by a Celery
worker (default) or in this process (`--local`)."""

from typing import Annotated

import typer

from cli.console import console, settings
from cli.interrupt import RESUMES, interruptible
from cli.progress import counted
from cli.worker_task import count_progress, run_in_worker
from kgstore.embeddings.pipeline import DEFAULT_CHUNK, EmbedTarget, embed_from_settings
from kgstore.embeddings.sentence_transformers import DEFAULT_MODEL
from kgstore.embeddings.texts import sources_summary
from workers.task_names import EMBED_TASK


def embed(
    target: Annotated[
        EmbedTarget,
        typer.Argument(
            help="items (llmDescription, else title + description, else the uri's name, else "
            "KG facts, else a placeholder) or entities (name, else the uri's name)."
        ),
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
    with interruptible(RESUMES), counted(f"embed {target.value}", "nodes") as progress:
        if local:
            report = embed_from_settings(settings(), target, model, chunk, progress).as_dict()
        else:
            report = run_in_worker(
                EMBED_TASK, (target.value, model, chunk), count_progress(progress)
            )
    console.print(
        f"run {report['run']}: {report['encoded']:,} {target.value} encoded with "
        f"{report['model']} ({report['dimension']} dimensions), {report['unchanged']:,} "
        f"unchanged, in {report['seconds']:.1f} s ({report['textsPerSecond']:,.1f} texts/s); "
        f"vector index {target.index_name}\n"
        f"texts by source (textSource): {sources_summary(report['sources'])}"
    )


def register(parent: typer.Typer) -> None:
    parent.command("embed")(embed)
