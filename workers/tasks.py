"""Celery tasks. Each is a thin wrapper over a plain function that tests call directly."""

import os
import socket
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task

from kgstore.device import resolve_device
from kgstore.embeddings.pipeline import EmbedTarget, embed_from_settings
from kgstore.generation.pipeline import GenerateTarget, generate_from_settings
from kgstore.graph.mapping import Domain
from kgstore.personas.runner import train_personas_from_settings
from kgstore.recsys.evaluation import evaluate_grid_from_settings
from kgstore.recsys.grid import GridConfig
from kgstore.recsys.single import train_model_from_settings
from kgstore.settings import load_settings
from kgstore.train.config import config_from_dict
from kgstore.train.hdgi import HDGIConfig
from kgstore.train.sasrec import SASRecConfig
from workers.stopping import stop_if_requested
from workers.task_names import (
    EMBED_TASK,
    EVALUATE_GRID_TASK,
    GENERATE_TASK,
    TRAIN_HDGI_TASK,
    TRAIN_SASREC_TASK,
)


def describe_worker() -> dict[str, Any]:
    """Who is answering: host, process and the device training would use."""
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "device": resolve_device(load_settings()),
    }


@shared_task(name="kgstore.echo")
def echo(payload: Any) -> dict[str, Any]:
    """Return the payload with the worker's description: a broker/backend round trip."""
    return {"payload": payload, "worker": describe_worker()}


def reporter(task: Task) -> Callable[[dict[str, Any]], None]:
    """The task's progress callback: the update becomes the task's PROGRESS state, after
    a check that the command following the task has not asked it to stop."""

    def report(update: dict[str, Any]) -> None:
        stop_if_requested(task)
        task.update_state(state="PROGRESS", meta=update)

    return report


def counted(task: Task) -> Callable[[int, int], None]:
    """`reporter` for the counting pipelines' (done, total) callback."""
    report = reporter(task)
    return lambda done, total: report({"done": done, "total": total})


@shared_task(bind=True, name=EMBED_TASK)
def embed(self: Task, target: str, model: str, chunk: int) -> dict[str, Any]:
    """`kgctl embed` in a worker: progress as task state, the report as the result."""
    progress = counted(self)
    report = embed_from_settings(load_settings(), EmbedTarget(target), model, chunk, progress)
    return report.as_dict()


@shared_task(bind=True, name=GENERATE_TASK)
def generate(self: Task, target: str, domain: str | None) -> dict[str, Any]:
    """`kgctl generate` in a worker, with the worker's generator settings: progress as task
    state, the report as the result."""
    report = generate_from_settings(
        load_settings(),
        GenerateTarget(target),
        Domain(domain) if domain is not None else None,
        progress=counted(self),
    )
    return report.as_dict()


@shared_task(bind=True, name=TRAIN_HDGI_TASK)
def train_hdgi(
    self: Task, domain: str, config: dict[str, Any], run_id: str, reuse: bool = True
) -> dict[str, Any]:
    """`kgctl train hdgi` in the gpu worker: epochs and loss as task state, the report as
    the result."""
    progress = reporter(self)
    hdgi_config = config_from_dict(HDGIConfig, config, "task config")
    report = train_personas_from_settings(
        load_settings(), Domain(domain), hdgi_config, progress, run_id, reuse
    )
    return report.as_dict()


@shared_task(bind=True, name=EVALUATE_GRID_TASK)
def evaluate_grid(
    self: Task, domain: str, config: dict[str, Any], run_id: str, reuse: bool = True
) -> dict[str, Any]:
    """`kgctl evaluate --grid` in the gpu worker: (row, seed, epoch) as task state, the
    report (with the table) as the result."""
    progress = reporter(self)
    grid_config = GridConfig.from_dict(config, "task config")
    report = evaluate_grid_from_settings(
        load_settings(), Domain(domain), grid_config, progress, run_id, reuse
    )
    return report.as_dict()


@shared_task(bind=True, name=TRAIN_SASREC_TASK)
def train_sasrec(
    self: Task, domain: str, config: dict[str, Any], run_id: str, allow_stale: bool = False
) -> dict[str, Any]:
    """`kgctl train retriever|reranker` in the gpu worker: epochs as task state; `run_id`
    lets the CLI watch the run node (and notice a killed worker)."""
    progress = reporter(self)
    sasrec = SASRecConfig.from_dict(config, "task config")
    return train_model_from_settings(
        load_settings(), Domain(domain), sasrec, progress, run_id, allow_stale
    ).as_dict()
