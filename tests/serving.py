"""The recommendation service as the tests use it: a real `python -m kgstore.serve`
process (started as `kgctl services up --serve` starts it) on a free port, with its own
token, state folder and artifact store (kgstore.services.recommend_service)."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from kgstore.services.recommend_service import RecommendationService, service_beside
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


@contextmanager
def running_service(
    settings: Settings, artifacts: str, state_dir: Path, poll: float = 0.0
) -> Iterator[RunningService]:
    with service_beside(settings, artifacts, state_dir, poll) as (url, token, service):
        yield RunningService(url, token, service)
