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
from kgstore.services.process import ManagedProcess
from kgstore.services.service import ManagedService
from kgstore.settings import Settings, env_file_path

START_TIMEOUT_S = 60
HOST = "127.0.0.1"
CELERY_APP = "workers.worker"
"""The module `celery -A` loads (the workers' own app), so Flower sees their broker."""


def flower_url(settings: Settings) -> str:
    return f"http://{HOST}:{settings.flower_port}/"


def require_flower_password(settings: Settings) -> str:
    if not settings.flower_password:
        raise SettingsError(
            f"FLOWER_PASSWORD is not set: run `kgctl services up --flower` (it generates one "
            f"into {env_file_path()}) or set it there."
        )
    return settings.flower_password


@dataclass(frozen=True)
class FlowerStatus:
    running: bool
    pid: int | None
    url: str
    user: str
    version: str


class Flower(ManagedService):
    """Celery Flower beside the workers (`kgctl services up --flower`)."""

    name = "Celery Flower"
    key = "flower"
    start_timeout_s = START_TIMEOUT_S

    def ports(self) -> dict[str, int]:
        return {"FLOWER_PORT": self.settings.flower_port}

    def check(self) -> None:
        self.settings.require_redis_url()

    def write_config(self) -> Path:
        """Flower's config file (mode 0600, it holds the password). Passing it with --conf
        also keeps Flower from loading a stray flowerconfig.py from the working directory."""
        conf = self.home / "flowerconfig.py"
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.touch(mode=0o600)
        conf.chmod(0o600)
        credentials = f"{self.settings.flower_user}:{require_flower_password(self.settings)}"
        conf.write_text(
            "# Written by kgctl on every start (kgstore/services/flower.py); edits are lost.\n"
            f"basic_auth = [{credentials!r}]\n"
        )
        return conf

    def launch(self, process: ManagedProcess) -> None:
        conf = self.write_config()
        env = {key: value for key, value in os.environ.items() if not key.startswith("FLOWER_")}
        env["KGSTORE_ENV_FILE"] = str(env_file_path().resolve())
        process.start(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                CELERY_APP,
                "flower",
                f"--conf={conf}",
                f"--address={HOST}",
                f"--port={self.settings.flower_port}",
            ],
            env=env,
            cwd=Path.cwd(),
        )

    def ready(self) -> bool:
        """Flower's /healthcheck (the one page without auth) answers OK."""
        try:
            reply = httpx.get(f"{flower_url(self.settings)}healthcheck", timeout=1.0)
        except httpx.HTTPError:
            return False
        return reply.status_code == 200 and reply.text == "OK"

    def readiness(self) -> str:
        return f"HTTP on {HOST}:{self.settings.flower_port}"

    def status(self) -> FlowerStatus:
        pid = self.pid()
        return FlowerStatus(
            pid is not None,
            pid,
            flower_url(self.settings),
            self.settings.flower_user,
            version("flower"),
        )
