"""Celery Flower, the web view of the workers and their tasks, on loopback with a password.

`kgctl services up --flower` starts it beside the workers: it shows each worker, the
tasks waiting per queue that a worker consumes (its Broker page reads the Redis lists),
the tasks received, running, done or failed since Flower started, and the same as JSON
under /api/.

Flower binds 127.0.0.1 only and asks for HTTP basic auth on every page and API call but
/healthcheck: user FLOWER_USER, password FLOWER_PASSWORD (generated into .env on the first
`kgctl services up`). The password goes into a 0600 config file, never on a command line
that other users can read. Flower would also take any FLOWER_* environment variable as an
option; none is passed on, so its options are the ones set here.
"""

import os
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import httpx

from kgstore.errors import SettingsError
from kgstore.services.process import ManagedProcess, ensure_ports_free, pidfile_for
from kgstore.settings import Settings, env_file_path

START_TIMEOUT_S = 60
HOST = "127.0.0.1"
CELERY_APP = "workers.worker"
"""The module `celery -A` loads (the workers' own app), so Flower sees their broker."""


def flower_process(settings: Settings) -> ManagedProcess:
    home = settings.state_dir / "flower"
    return ManagedProcess(
        "Celery Flower", pidfile_for(settings.state_dir, "flower"), home / "flower.log"
    )


def flower_ports(settings: Settings) -> dict[str, int]:
    return {"FLOWER_PORT": settings.flower_port}


def flower_url(settings: Settings) -> str:
    return f"http://{HOST}:{settings.flower_port}/"


def require_flower_password(settings: Settings) -> str:
    if not settings.flower_password:
        raise SettingsError(
            f"FLOWER_PASSWORD is not set: run `kgctl services up --flower` (it generates one "
            f"into {env_file_path()}) or set it there."
        )
    return settings.flower_password


def write_config(settings: Settings) -> Path:
    """Flower's config file (mode 0600, it holds the password). Passing it with --conf also
    keeps Flower from loading a stray flowerconfig.py from the working directory."""
    conf = flower_process(settings).logfile.parent / "flowerconfig.py"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.touch(mode=0o600)
    conf.chmod(0o600)
    credentials = f"{settings.flower_user}:{require_flower_password(settings)}"
    conf.write_text(
        "# Written by kgctl on every start (kgstore/services/flower.py); edits are lost.\n"
        f"basic_auth = [{credentials!r}]\n"
    )
    return conf


def _answers(settings: Settings) -> bool:
    """Flower's /healthcheck (the one page without auth) answers OK."""
    try:
        reply = httpx.get(f"{flower_url(settings)}healthcheck", timeout=1.0)
    except httpx.HTTPError:
        return False
    return reply.status_code == 200 and reply.text == "OK"


def start_flower(settings: Settings) -> str:
    """Start Flower unless it runs; wait until it answers on FLOWER_PORT."""
    proc = flower_process(settings)
    if proc.pid() is not None:
        return "already running"
    settings.require_redis_url()
    ensure_ports_free("Celery Flower", flower_ports(settings))
    conf = write_config(settings)
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLOWER_")}
    env["KGSTORE_ENV_FILE"] = str(env_file_path().resolve())
    proc.start(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            CELERY_APP,
            "flower",
            f"--conf={conf}",
            f"--address={HOST}",
            f"--port={settings.flower_port}",
        ],
        env=env,
        cwd=Path.cwd(),
    )
    proc.wait_ready(
        lambda: _answers(settings), START_TIMEOUT_S, f"HTTP on {HOST}:{settings.flower_port}"
    )
    return "started"


def stop_flower(settings: Settings) -> bool:
    return flower_process(settings).stop()


@dataclass(frozen=True)
class FlowerStatus:
    running: bool
    pid: int | None
    url: str
    user: str
    version: str


def flower_status(settings: Settings) -> FlowerStatus:
    pid = flower_process(settings).pid()
    return FlowerStatus(
        pid is not None, pid, flower_url(settings), settings.flower_user, version("flower")
    )
