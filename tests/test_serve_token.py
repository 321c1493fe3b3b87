"""The service's token: generated into .env the first time, then kept; the launched
service gets the settings it was started with (no Neo4j needed)."""

from pathlib import Path

import pytest

from kgstore.envfile import read_env_file
from kgstore.services.recommend_service import RecommendationService, ensure_serve_token
from kgstore.settings import Settings


def test_a_token_is_generated_once_into_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    monkeypatch.setenv("KGSTORE_ENV_FILE", str(env_file))
    monkeypatch.delenv("KGSTORE_SERVE_TOKEN", raising=False)
    first = ensure_serve_token(Settings(_env_file=None, neo4j_password="x"))
    token = first.kgstore_serve_token.get_secret_value()
    assert len(token) == 32 and read_env_file(env_file)["KGSTORE_SERVE_TOKEN"] == token
    again = ensure_serve_token(Settings(_env_file=env_file, neo4j_password="x"))
    assert again.kgstore_serve_token.get_secret_value() == token
    child = RecommendationService(first.model_copy(update={"kgstore_serve_port": 9123}))
    env = child.child_env()
    assert (env["KGSTORE_SERVE_TOKEN"], env["KGSTORE_SERVE_PORT"]) == (token, "9123")
    assert env["NEO4J_PASSWORD"] == "x"
