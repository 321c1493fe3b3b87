"""Where the tests' services come from (see the README's "Tests").

1. Settings (environment or .env) name running services — what `make test` and CI
   start with `kgctl services up`.
2. Otherwise, when a Docker engine answers, testcontainers starts Neo4j and Redis.
3. Otherwise the tests that need them are skipped with the reason — unless
   REQUIRE_SERVICES=1 (set in CI), where a missing service fails the run.
"""

import os
import shutil
import subprocess
from contextlib import ExitStack

import pytest
import redis

from kgstore.db import create_driver
from kgstore.errors import KgstoreError
from kgstore.settings import Settings, load_settings

NEO4J_IMAGE = "neo4j:5.26-community"
REDIS_IMAGE = "redis:7"


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> None:
    """Fail under REQUIRE_SERVICES=1, else skip, always saying why."""
    if services_required():
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def configured_services_answer(settings: Settings) -> str | None:
    """None when Neo4j and Redis from the settings answer, else why not."""
    try:
        create_driver(settings).close()
    except KgstoreError as exc:
        return str(exc)
    try:
        redis.Redis.from_url(settings.require_redis_url(), socket_timeout=2).ping()
    except (KgstoreError, redis.RedisError) as exc:
        return f"Redis from REDIS_URL does not answer: {exc}"
    return None


def docker_engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=20)
    return probe.returncode == 0


def start_containers(stack: ExitStack) -> Settings:
    """Neo4j and Redis in containers (testcontainers), for machines with Docker."""
    from testcontainers.neo4j import Neo4jContainer
    from testcontainers.redis import RedisContainer

    neo4j = stack.enter_context(Neo4jContainer(NEO4J_IMAGE))
    cache = stack.enter_context(RedisContainer(REDIS_IMAGE, password="kgstore-tests"))
    redis_url = (
        f"redis://:kgstore-tests@{cache.get_container_host_ip()}:{cache.get_exposed_port(6379)}/0"
    )
    return load_settings(
        neo4j_uri=neo4j.get_connection_url(),
        neo4j_user="neo4j",
        neo4j_password=neo4j.password,
        redis_url=redis_url,
    )
