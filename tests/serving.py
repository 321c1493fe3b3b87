"""The recommendation service as the tests, the browser test and bench/serve.py use it: a
real `python -m kgstore.serve` process (started as `kgctl services up --serve` starts
it) on a free port, with its own token, state folder and artifact store."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from kgstore.envfile import generate_secret
from kgstore.services.isolated import free_port
from kgstore.services.recommend_service import RecommendationService
from kgstore.settings import Settings


@dataclass(frozen=True)
class RunningService:
    url: str
    token: str
    service: RecommendationService

    def client(self, **options: object) -> httpx.Client:
        """A client that sends the token with every request."""
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **options)

    def log(self) -> str:
        return self.service.logfile.read_text(errors="replace")


@contextmanager
def running_service(
    settings: Settings, artifacts: str, state_dir: Path, poll: float = 0.0
) -> Iterator[RunningService]:
    """The service over `settings`' Neo4j and the `artifacts` store until the block ends."""
    token = generate_secret()
    overrides = {
        "NEO4J_URI": settings.neo4j_uri,
        "NEO4J_USER": settings.neo4j_user,
        "NEO4J_PASSWORD": settings.neo4j_password or "",
        "NEO4J_DATABASE": settings.neo4j_database,
        "KGSTORE_ARTIFACTS": artifacts,
        "KGSTORE_STATE_DIR": str(state_dir),
        "KGSTORE_SERVE_PORT": str(free_port()),
        "KGSTORE_SERVE_TOKEN": token,
        "KGSTORE_SERVE_POLL": str(poll),
    }
    saved = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)  # the service process inherits them (they win over .env)
    try:
        cfg = Settings(_env_file=None)
        service = RecommendationService(cfg)
        service.start()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    try:
        yield RunningService(f"http://127.0.0.1:{cfg.kgstore_serve_port}", token, service)
    finally:
        service.stop()
