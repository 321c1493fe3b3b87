"""A private Redis instance (Debian's redis-server) on loopback with a password."""

import shutil
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

import redis

from kgstore.errors import ServiceError
from kgstore.services.process import ManagedProcess, ensure_ports_free, pidfile_for
from kgstore.settings import Settings

START_TIMEOUT_S = 30


def local_redis_url(password: str, port: int) -> str:
    return f"redis://:{quote(password, safe='')}@127.0.0.1:{port}/0"


def redis_password_and_port(settings: Settings) -> tuple[str, int]:
    parts = urlsplit(settings.require_redis_url())
    if not parts.password:
        raise ServiceError("REDIS_URL has no password; the local Redis always requires one.")
    return unquote(parts.password), parts.port or 6379


def redis_ports(settings: Settings) -> dict[str, int]:
    """The port the local instance binds, keyed by the setting that chooses it."""
    return {"REDIS_URL (port)": redis_password_and_port(settings)[1]}


def redis_process(settings: Settings) -> ManagedProcess:
    home = settings.state_dir / "redis"
    return ManagedProcess("Redis", pidfile_for(settings.state_dir, "redis"), home / "redis.log")


def _ping(settings: Settings) -> bool:
    try:
        client = redis.Redis.from_url(settings.require_redis_url(), socket_timeout=1)
        return bool(client.ping())
    except redis.RedisError:
        return False


def start_redis(settings: Settings) -> str:
    proc = redis_process(settings)
    if proc.pid() is not None:
        return "already running"
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceError(
            "redis-server is not installed: `apt-get install redis-server` "
            "(or run docker/native/provision.sh)."
        )
    password, port = redis_password_and_port(settings)
    ensure_ports_free("Redis", redis_ports(settings))
    home = proc.logfile.parent
    home.mkdir(parents=True, exist_ok=True)
    # The password goes into a 0600 config file, not the command line other users can read.
    conf = home / "redis.conf"
    conf.touch(mode=0o600)
    conf.write_text(
        f"bind 127.0.0.1\nport {port}\nrequirepass {password}\nprotected-mode yes\n"
        f'save ""\nappendonly no\ndaemonize no\ndir {home}\n'
    )
    proc.start([binary, str(conf)])
    proc.wait_ready(lambda: _ping(settings), START_TIMEOUT_S, f"PING on port {port}")
    return "started"


def stop_redis(settings: Settings) -> bool:
    return redis_process(settings).stop()


@dataclass(frozen=True)
class RedisStatus:
    running: bool
    pid: int | None
    port: int
    version: str | None


def redis_status(settings: Settings) -> RedisStatus:
    pid = redis_process(settings).pid()
    port = urlsplit(settings.redis_url).port or 6379 if settings.redis_url else settings.redis_port
    version = None
    if settings.redis_url:
        try:
            client = redis.Redis.from_url(settings.redis_url, socket_timeout=1)
            version = client.info("server").get("redis_version")
        except redis.RedisError:
            pass
    return RedisStatus(pid is not None, pid, port, version)
