"""The recommendation service (kgstore.serve) as a background server of the local stack:
`kgctl services up --serve` starts it after the workers, `kgctl services status` shows
it, `kgctl services down` stops it first."""

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from kgstore.serve.server import ensure_serve_token, serve_url
from kgstore.services.process import ManagedProcess
from kgstore.services.service import ManagedService
from kgstore.settings import env_file_path

START_TIMEOUT_S = 120  # the first start loads every domain's retriever and persona encoder


@dataclass(frozen=True)
class ServeStatus:
    running: bool
    pid: int | None
    url: str
    models: dict[str, str]


class RecommendationService(ManagedService):
    name = "Recommendation service"
    key = "serve"
    start_timeout_s = START_TIMEOUT_S

    def ports(self) -> dict[str, int]:
        return {"KGSTORE_SERVE_PORT": self.settings.kgstore_serve_port}

    def check(self) -> None:
        self.settings = ensure_serve_token(self.settings)

    def launch(self, process: ManagedProcess) -> None:
        env = {**os.environ, "KGSTORE_ENV_FILE": str(env_file_path().resolve())}
        process.start([sys.executable, "-m", "kgstore.serve"], env=env, cwd=Path.cwd())

    def health(self) -> dict | None:
        """GET /healthz's answer, None when the service does not answer."""
        try:
            reply = httpx.get(f"{serve_url(self.settings)}healthz", timeout=2.0)
        except httpx.HTTPError:
            return None
        return reply.json() if reply.status_code == 200 else None

    def ready(self) -> bool:
        return self.health() is not None

    def readiness(self) -> str:
        return f"GET {serve_url(self.settings)}healthz"

    def status(self) -> ServeStatus:
        health = self.health() if self.pid() is not None else None
        return ServeStatus(
            health is not None,
            self.pid(),
            serve_url(self.settings),
            (health or {}).get("models", {}),
        )
