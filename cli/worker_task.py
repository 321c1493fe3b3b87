"""Running a task in a Celery worker from a command, with its progress drawn here."""

import time
from collections.abc import Callable
from typing import Any

from celery.result import AsyncResult

from cli.console import database, err_console, settings
from kgstore.errors import KgstoreError
from kgstore.graph.runs import run_status
from workers.app import CPU_QUEUE, GPU_QUEUE, create_app
from workers.launcher import WORKERS, ping_workers
from workers.stopping import request_stop

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
    the worker process running the task is gone. On Ctrl-C the task is asked to stop
    (workers.stopping), followed until it has, and the KeyboardInterrupt goes on."""
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
        try:
            _follow(result, progress, still_alive)
        except KeyboardInterrupt:
            err_console.print(
                f"stopping the task in the worker at its next progress step (task {result.id}; "
                "Ctrl-C again leaves it to stop on its own)"
            )
            request_stop(app, result.id)
            _follow(result, progress, still_alive)
            raise
        if result.failed():
            raise KgstoreError(f"the task {task} failed in the worker: {result.result}")
        return result.get()
    finally:
        app.close()


def _follow(
    result: AsyncResult,
    progress: Callable[[dict[str, Any]], None],
    still_alive: Callable[[], None] | None,
) -> None:
    """Hand each PROGRESS state of the task to `progress` until the task ends."""
    while not result.ready():
        # One read of the task's meta: `result.state` and `result.info` each fetch it
        # anew, so the task may end between them and `info` be the final report.
        meta = result.backend.get_task_meta(result.id)
        if meta["status"] == "PROGRESS" and isinstance(meta["result"], dict):
            progress(meta["result"])
        if still_alive is not None:
            still_alive()
        time.sleep(POLL_S)


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
