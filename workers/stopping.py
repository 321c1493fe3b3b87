"""Stopping a task from the command that follows it (Ctrl-C there), so it does not run on
unseen.

`revoke(terminate=True)` cannot do it: the gpu worker's solo pool reads control messages
only between tasks and cannot terminate the one it runs, and a terminated prefork child
dies mid-write, leaving its run `running`. Instead the command leaves a flag in Redis
(the result backend) that the task reads at each progress step: it raises
`StopRequested`, and the run's own error handling closes the run as `interrupted`, as a
Ctrl-C would in the command's process. A plain revoke is sent too, so a task still
waiting in the queue never starts.
"""

from celery import Celery, Task

from kgstore.errors import StopRequested


def _key(task_id: str) -> str:
    return f"kgstore-stop-{task_id}"


def request_stop(app: Celery, task_id: str) -> None:
    """Ask the task `task_id` to stop at its next progress step (or never to start)."""
    app.backend.client.set(_key(task_id), 1, ex=app.conf.result_expires)
    app.control.revoke(task_id)


def stop_if_requested(task: Task) -> None:
    """Raise `StopRequested` when the command following `task` asked it to stop."""
    if task.backend.client.exists(_key(task.request.id)):
        raise StopRequested(f"task {task.request.id} stopped at the user's request (Ctrl-C)")
