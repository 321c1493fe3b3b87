"""The local stack as one unit: generated secrets, a port check, then Neo4j and Redis
(Celery Flower, optional, starts after the workers: kgstore/services/flower.py)."""

from kgstore.envfile import generate_secret, update_env_file
from kgstore.services.flower import Flower
from kgstore.services.neo4j_server import Neo4jServer
from kgstore.services.process import ensure_ports_free
from kgstore.services.redis_server import RedisServer, local_redis_url
from kgstore.services.service import ManagedService
from kgstore.settings import Settings, env_file_path


def ensure_secrets(settings: Settings) -> Settings:
    """Generate NEO4J_PASSWORD, REDIS_URL and FLOWER_PASSWORD into .env (mode 0600) when
    they are not set.

    A password is never generated for a Neo4j database that already exists: that
    database keeps the password it was created with, so a missing one is an error.
    """
    updates: dict[str, str] = {}
    if (
        not settings.neo4j_password
        and not (Neo4jServer(settings).home / "data" / "databases").exists()
    ):
        updates["NEO4J_PASSWORD"] = generate_secret()
    if not settings.redis_url:
        updates["REDIS_URL"] = local_redis_url(generate_secret(), settings.redis_port)
    if not settings.flower_password:
        updates["FLOWER_PASSWORD"] = generate_secret()
    if not updates:
        return settings
    update_env_file(env_file_path(), updates)
    return settings.model_copy(update={key.lower(): value for key, value in updates.items()})


def check_ports(settings: Settings, flower: bool = False) -> None:
    """Fail before starting anything when a port of a service that is not running is taken,
    so a port clash never leaves one server started and the other not."""
    services: list[ManagedService] = [Neo4jServer(settings), RedisServer(settings)]
    if flower:
        services.append(Flower(settings))
    for service in services:
        if service.pid() is None:
            ensure_ports_free(service.name, service.ports())


def stack_up(settings: Settings, flower: bool = False) -> tuple[Settings, dict[str, str]]:
    """Start Neo4j and Redis (each harmless when already running); with `flower`, also
    check Flower's port first (the caller starts Flower once the workers run).

    If Redis cannot start, a Neo4j started by this same call is stopped again.
    """
    settings = ensure_secrets(settings)
    check_ports(settings, flower)
    neo4j = Neo4jServer(settings).start()
    try:
        redis = RedisServer(settings).start()
    except BaseException:
        if neo4j == "started":
            Neo4jServer(settings).stop()
        raise
    return settings, {"neo4j": neo4j, "redis": redis}


def stack_down(settings: Settings) -> dict[str, bool]:
    """Stop Flower (if it runs), Redis and Neo4j; the caller stops the workers first."""
    return {
        "flower": Flower(settings).stop(),
        "redis": RedisServer(settings).stop(),
        "neo4j": Neo4jServer(settings).stop(),
    }
