"""The recommendation service (kgstore.serve) as a background server of the local stack:
`kgctl services up --serve` starts it after the workers, `kgctl services status` shows
it, `kgctl services down` stops it first. Also its token and address, which the service
itself reads from here: this module stays in the servers layer (no torch, no web
framework), so `kgctl services` imports it cheaply."""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import SecretStr

from kgstore.envfile import generate_secret, update_env_file
from kgstore.services.isolated import free_port
from kgstore.services.process import ManagedProcess
from kgstore.services.service import ManagedService
from kgstore.settings import Settings, env_file_path

START_TIMEOUT_S = 120  # the first start loads every domain's retriever and persona encoder


def ensure_serve_token(settings: Settings) -> Settings:
    """Settings with KGSTORE_SERVE_TOKEN, generated into .env the first time."""
    if settings.kgstore_serve_token is not None:
        return settings
    token = generate_secret()
    update_env_file(env_file_path(), {"KGSTORE_SERVE_TOKEN": token})
    return settings.model_copy(update={"kgstore_serve_token": SecretStr(token)})


def serve_url(settings: Settings) -> str:
    return f"http://{settings.kgstore_serve_host}:{settings.kgstore_serve_port}/"


@contextmanager
def service_beside(
    settings: Settings, artifacts: str, state_dir: Path, poll: float = 0.0
) -> Iterator[tuple[str, str, "RecommendationService"]]:
    """A service of its own over `settings`' Neo4j and the `artifacts` store, on a free
    port with a new token and `state_dir` for its pid and log, stopped when the block
    ends: (url, token, service). For tests and bench/serve.py beside the main stack."""
    cfg = settings.model_copy(
        update={
            "kgstore_artifacts": artifacts,
            "kgstore_state_dir": state_dir,
            "kgstore_serve_port": free_port(),
            "kgstore_serve_token": SecretStr(generate_secret()),
            "kgstore_serve_poll": poll,
            "kgstore_serve_host": "127.0.0.1",
        }
    )
    service = RecommendationService(cfg)
    service.start()
    try:
        token = cfg.kgstore_serve_token.get_secret_value() if cfg.kgstore_serve_token else ""
        yield serve_url(cfg).rstrip("/"), token, service
    finally:
        service.stop()


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
        process.start([sys.executable, "-m", "kgstore.serve"], env=self.child_env(), cwd=Path.cwd())

    def child_env(self) -> dict[str, str]:
        """The environment of the service process: the settings this object was made with
        (environment variables win over .env), so a service started for another graph,
        store or port (tests, bench/serve.py) serves exactly that."""
        cfg = self.settings
        token = cfg.kgstore_serve_token.get_secret_value() if cfg.kgstore_serve_token else ""
        return {
            **os.environ,
            "KGSTORE_ENV_FILE": str(env_file_path().resolve()),
            "NEO4J_URI": cfg.neo4j_uri,
            "NEO4J_USER": cfg.neo4j_user,
            "NEO4J_PASSWORD": cfg.require_neo4j_password(),
            "NEO4J_DATABASE": cfg.neo4j_database,
            "KGSTORE_ARTIFACTS": cfg.kgstore_artifacts,
            "KGSTORE_STATE_DIR": str(cfg.state_dir),
            "KGSTORE_SERVE_HOST": cfg.kgstore_serve_host,
            "KGSTORE_SERVE_PORT": str(cfg.kgstore_serve_port),
            "KGSTORE_SERVE_TOKEN": token,
            "KGSTORE_SERVE_POLL": str(cfg.kgstore_serve_poll),
        }

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
