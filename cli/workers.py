"""`kgctl workers ...`: the background Celery workers alone."""

import typer

from cli.console import console, settings
from workers.launcher import start_workers, stop_workers, worker_status

app = typer.Typer(
    help="Start, stop and inspect the background Celery workers.", no_args_is_help=True
)


@app.command("up")
def workers_up() -> None:
    """Start the cpu and gpu workers in the background and wait until they answer."""
    cfg = settings()
    for node, what in start_workers(cfg).items():
        console.print(f"{node}: {what}")


@app.command("down")
def workers_down() -> None:
    """Stop the background workers."""
    for node, was_running in stop_workers(settings()).items():
        console.print(f"{node}: {'stopped' if was_running else 'was not running'}")


@app.command("status")
def workers_status() -> None:
    """Show whether each worker process runs and answers a ping, and where it logs.
    Exit code 1 if one does not answer."""
    statuses = worker_status(settings())
    for worker in statuses:
        console.print(
            f"{worker.node} (queue {worker.queue}): pid {worker.pid or '-'}, "
            f"{'answers' if worker.answers else 'does not answer'}, log {worker.logfile}"
        )
    console.print("Follow them with: kgctl services logs worker --follow")
    if not all(worker.answers for worker in statuses):
        raise typer.Exit(1)


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="workers")
