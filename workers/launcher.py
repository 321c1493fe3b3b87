"""Start, check and stop the background Celery workers.

Two workers: `cpu@<host>` (prefork; export and embedding tasks) and `gpu@<host>`
(solo pool, one task at a time; training). The gpu worker trains on the CPU when
the machine has no GPU, so every queue always has a consumer.
"""

import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from kombu.exceptions import OperationalError

from kgstore.services.process import ManagedProcess, pidfile_for
from kgstore.settings import Settings, env_file_path
from workers.app import CPU_QUEUE, GPU_QUEUE, create_app

START_TIMEOUT_S = 90


@dataclass(frozen=True)
class WorkerSpec:
    queue: str
    pool: str

    def node_name(self) -> str:
        return f"{self.queue}@{socket.gethostname()}"

    def process(self, settings: Settings) -> ManagedProcess:
        home = settings.state_dir / "workers"
        return ManagedProcess(
            f"Celery worker {self.node_name()}",
            pidfile_for(settings.state_dir, f"worker-{self.queue}"),
            home / f"{self.queue}.log",
        )


WORKERS = (WorkerSpec(CPU_QUEUE, "prefork"), WorkerSpec(GPU_QUEUE, "solo"))


def ping_workers(settings: Settings, timeout: float = 2.0) -> set[str]:
    """Node names of workers that answer a broadcast ping."""
    app = create_app(settings)
    try:
        replies = app.control.ping(timeout=timeout) or []
    except (OSError, OperationalError):
        return set()
    finally:
        app.close()
    return {name for reply in replies for name in reply}


def start_workers(settings: Settings) -> dict[str, str]:
    """Start missing workers and wait until each answers a ping."""
    return await_workers(settings, launch_workers(settings))


def launch_workers(settings: Settings) -> dict[str, str]:
    """Start the missing workers without waiting for them: each node's `already running`
    or `launched`. Both import torch at once (about 7 s each here), so launched together,
    and while `services up` plans Neo4j's writer statements, they are ready sooner."""
    outcome: dict[str, str] = {}
    env = {**os.environ, "KGSTORE_ENV_FILE": str(env_file_path().resolve())}
    for spec in WORKERS:
        proc = spec.process(settings)
        if proc.pid() is not None:
            outcome[spec.node_name()] = "already running"
            continue
        concurrency = settings.kgstore_worker_concurrency if spec.pool == "prefork" else 1
        proc.start(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.worker",
                "worker",
                "-Q",
                spec.queue,
                "-n",
                spec.node_name(),
                "--pool",
                spec.pool,
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            env=env,
            cwd=Path.cwd(),
        )
        outcome[spec.node_name()] = "launched"
    return outcome


def await_workers(settings: Settings, launched: dict[str, str]) -> dict[str, str]:
    """Wait until each worker `launch_workers` launched answers a ping: `started`."""
    outcome = dict(launched)
    for spec in WORKERS:
        node = spec.node_name()
        if outcome.get(node) != "launched":
            continue
        spec.process(settings).wait_ready(
            lambda node=node: node in ping_workers(settings, 1.0),
            START_TIMEOUT_S,
            "answering a Celery ping",
        )
        outcome[node] = "started"
    return outcome


def stop_workers(settings: Settings) -> dict[str, bool]:
    return {spec.node_name(): spec.process(settings).stop() for spec in WORKERS}


@dataclass(frozen=True)
class WorkerStatus:
    node: str
    queue: str
    pid: int | None
    answers: bool
    logfile: Path


def worker_status(settings: Settings) -> list[WorkerStatus]:
    settings.require_redis_url()
    alive = ping_workers(settings)
    return [
        WorkerStatus(
            spec.node_name(),
            spec.queue,
            spec.process(settings).pid(),
            spec.node_name() in alive,
            spec.process(settings).logfile,
        )
        for spec in WORKERS
    ]
