"""`kgctl generate descriptions|keywords`: the paper's LLM texts (item descriptions, users'
preference keywords), cached in the graph, made by a Celery worker (default) or in this
process (`--local`). Without GENERATOR_URL the documented non-LLM texts are written, and
the output says so."""

from typing import Annotated

import typer

from cli.console import console, settings
from cli.interrupt import RESUMES, interruptible
from cli.progress import counted
from cli.worker_task import count_progress, run_in_worker
from kgstore.generation.fallback import FALLBACK_MODEL
from kgstore.generation.pipeline import (
    DESCRIPTION_PROPERTY,
    GenerateTarget,
    generate_from_settings,
)
from kgstore.graph.mapping import Domain
from kgstore.graph.user_properties import keywords_property
from workers.task_names import GENERATE_TASK

app = typer.Typer(
    help="Texts by the LLM at GENERATOR_URL (any OpenAI-compatible server), cached in the "
    "graph with model and prompt version; only nodes whose input changed are sent again. "
    "Without GENERATOR_URL: the non-LLM texts (title + KG facts), labelled as such.",
    no_args_is_help=True,
)
Local = Annotated[bool, typer.Option("--local", help="Run here instead of in a worker.")]


@app.command()
def descriptions(
    domain: Annotated[
        Domain | None, typer.Option(help="Only this domain's items (default: every domain).")
    ] = None,
    local: Local = False,
) -> None:
    """Describe every item from its title (the paper's item prompt); written to the Item
    as `llmDescription`, which `kgctl embed items` then encodes."""
    _generate(GenerateTarget.DESCRIPTIONS, domain, local, f"{DESCRIPTION_PROPERTY} of", "items")


@app.command()
def keywords(
    domain: Annotated[Domain, typer.Option(help="The domain whose histories are summarised.")],
    local: Local = False,
) -> None:
    """Each user's preference keywords from their TRAINING items only (the leave-one-out
    split; validation and test items never reach the prompt); written to the User as
    `preferenceKeywords<Movie|Book>`."""
    _generate(GenerateTarget.KEYWORDS, domain, local, f"{keywords_property(domain)} of", "users")


def _generate(
    target: GenerateTarget, domain: Domain | None, local: bool, written: str, nodes: str
) -> None:
    """Run here or in the worker, then say what was written, by which model or that it is
    the non-LLM text."""
    cfg = settings()  # a malformed GENERATOR_* setting stops here, before any write
    with interruptible(RESUMES), counted(f"generate {target.value}", nodes) as progress:
        if local:
            report = generate_from_settings(cfg, target, domain, progress=progress).as_dict()
        else:
            args = (target.value, domain.value if domain is not None else None)
            report = run_in_worker(GENERATE_TASK, args, count_progress(progress))
    made = (
        f"with {report['model']} (prompt {report['prompt_version']})"
        if report["llm"]
        else f"as the non-LLM text, model {FALLBACK_MODEL!r} ({report['prompt_version']}), "
        "because no generator is configured (GENERATOR_URL is empty)"
    )
    skipped = f", {report['skipped']:,} skipped (no title)" if report["skipped"] else ""
    console.print(
        f"run {report['run']}: wrote {written} {report['generated']:,} {nodes} {made}; "
        f"{report['unchanged']:,} unchanged{skipped}, in {report['seconds']:.1f} s"
    )


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="generate")
