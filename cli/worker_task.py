"""Running a task in the `cpu` Celery worker from a command, with its progress drawn here."""

import time
from collections.abc import Callable

from cli.console import settings
from kgstore.errors import KgstoreError
from workers.app import CPU_QUEUE, create_app
from workers.launcher import WORKERS, ping_workers


def run_in_cpu_worker(
    task: str, args: tuple[object, ...], progress: Callable[[int, int], None]
) -> dict:
    """Send `task` to the `cpu` queue and follow its progress until it ends; refuse at
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
        result = app.send_task(task, args=args)
        while not result.ready():
            if result.state == "PROGRESS" and isinstance(result.info, dict):
                progress(result.info["done"], result.info["total"])
            time.sleep(0.5)
        if result.failed():
            raise KgstoreError(f"the task {task} failed in the worker: {result.result}")
        return result.get()
    finally:
        app.close()
