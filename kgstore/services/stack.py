"""The local stack as one unit: generated secrets, then Neo4j and Redis."""

from kgstore.envfile import generate_secret, update_env_file
from kgstore.services.neo4j_server import neo4j_home, start_neo4j, stop_neo4j
from kgstore.services.redis_server import local_redis_url, start_redis, stop_redis
from kgstore.settings import Settings, env_file_path


def ensure_secrets(settings: Settings) -> Settings:
    """Generate NEO4J_PASSWORD and REDIS_URL into .env (mode 0600) when they are not set.

    A password is never generated for a Neo4j database that already exists: that
    database keeps the password it was created with, so a missing one is an error.
    """
    updates: dict[str, str] = {}
    if not settings.neo4j_password and not (neo4j_home(settings) / "data" / "databases").exists():
        updates["NEO4J_PASSWORD"] = generate_secret()
    if not settings.redis_url:
        updates["REDIS_URL"] = local_redis_url(generate_secret(), settings.redis_port)
    if not updates:
        return settings
    update_env_file(env_file_path(), updates)
    return settings.model_copy(update={key.lower(): value for key, value in updates.items()})


def stack_up(settings: Settings) -> tuple[Settings, dict[str, str]]:
    """Start Neo4j and Redis (each harmless when already running)."""
    settings = ensure_secrets(settings)
    return settings, {"neo4j": start_neo4j(settings), "redis": start_redis(settings)}


def stack_down(settings: Settings) -> dict[str, bool]:
    return {"redis": stop_redis(settings), "neo4j": stop_neo4j(settings)}
