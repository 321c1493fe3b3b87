"""Running a task in a Celery worker from a command, with its progress drawn here."""

import time
from collections.abc import Callable
from typing import Any

from cli.console import database, settings
from kgstore.errors import KgstoreError
from kgstore.graph.runs import run_status
from workers.app import CPU_QUEUE, GPU_QUEUE, create_app
from workers.launcher import WORKERS, ping_workers

POLL_S = 0.5


def run_in_worker(
    task: str,
    args: tuple[object, ...],
    progress: Callable[[dict[str, Any]], None],
    queue: str = CPU_QUEUE,
    still_alive: Callable[[], None] | None = None,
) -> dict:
    """Send `task` (routed to `queue`) and follow its progress (the task's PROGRESS meta)
    until it ends; refuse at once when no worker of that queue answers (the task would
    wait in the queue). `still_alive` is called while waiting and may raise, e.g. when
    the worker process running the task is gone."""
    cfg = settings()
    worker = next(spec.node_name() for spec in WORKERS if spec.queue == queue)
    if worker not in ping_workers(cfg):
        raise KgstoreError(
            f"no Celery worker {worker} answers (Redis at REDIS_URL, workers started by "
            "`kgctl services up` or `kgctl workers up`); start them, or run with --local"
        )
    app = create_app(cfg)
    try:
        result = app.send_task(task, args=args)
        while not result.ready():
            # One read of the task's meta: `result.state` and `result.info` each fetch it
            # anew, so the task may end between them and `info` be the final report.
            meta = result.backend.get_task_meta(result.id)
            if meta["status"] == "PROGRESS" and isinstance(meta["result"], dict):
                progress(meta["result"])
            if still_alive is not None:
                still_alive()
            time.sleep(POLL_S)
        if result.failed():
            raise KgstoreError(f"the task {task} failed in the worker: {result.result}")
        return result.get()
    finally:
        app.close()


def follow_run_in_worker(
    task: str,
    args: tuple[object, ...],
    progress: Callable[[dict[str, Any]], None],
    run_id: str,
    queue: str = GPU_QUEUE,
) -> dict:
    """`run_in_worker` for a task that records the `Run` `run_id`: when the worker process
    running it dies (killed, out of memory) Celery never answers, so the run's node is
    watched and its end reported instead (`runs.run_status` closes it as failed)."""
    with database() as db:

        def still_alive() -> None:
            if run_status(db, run_id) == "failed":
                raise KgstoreError(
                    f"run {run_id} failed: the {queue} worker's process is gone (killed?); "
                    "start it again with `kgctl workers up` and re-run"
                )

        return run_in_worker(task, args, progress, queue, still_alive)


def count_progress(update: Callable[[int, int], None]) -> Callable[[dict[str, Any]], None]:
    """Adapt a (done, total) callback to the task meta of counting tasks."""
    return lambda info: update(info["done"], info["total"])
