"""A private Redis instance (Debian's redis-server) on loopback with a password.

Redis is Celery's broker: a task sent while no worker takes it waits as a message in the
Redis list named after its queue (`cpu`, `gpu`). So that such tasks outlive a restart of
Redis (a reboot, `kgctl services down`/`up`, a crash), Redis keeps an append-only file
(AOF) in its state directory and replays it on start:

- `appendonly yes`, `appendfsync everysec`: every write reaches the AOF (the kernel's
  page cache) before Redis answers the client, and is fsynced to disk once a second. A
  crash of the Redis process therefore loses no task that `send_task` returned for; only a
  crash of the machine or its power can lose the last second or so. `always` would close
  that second at the price of an fsync for every write - each message, progress update
  and result - which slows every task round trip by a disk flush; a machine crash also
  stops the workers and the commands that sent the tasks, so the sender learns of it and
  can send again. everysec is also Redis's own default for the AOF. The Docker stack
  (docker/compose.yml) does the same.
- `save ""`: no RDB snapshots besides; the AOF (with its RDB preamble on rewrites) is the
  one durable copy.

What Celery's Redis transport needs beyond that (workers/app.py):

- A message a worker has taken but not yet acknowledged (one reserved while another task
  runs) sits in the `unacked` hash and `unacked_index`, which the AOF keeps too. A worker
  that stops puts it back on its queue; if the worker dies, the transport redelivers it
  after `visibility_timeout`. That timeout is longer than the longest task
  (KGSTORE_TASK_TIME_LIMIT + 1 h), so a message waiting behind a long task is never
  handed to a second worker meanwhile.
- Tasks are acknowledged when they start (Celery's default, `acks_late` off): a task whose
  worker dies mid-run is not run again by itself; send it again.
- Results and progress states live in the same Redis (the result backend) and survive too.
"""

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
        f'save ""\nappendonly yes\nappendfsync everysec\ndaemonize no\ndir {home}\n'
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
