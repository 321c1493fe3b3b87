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
from kgstore.services.process import ManagedProcess
from kgstore.services.service import ManagedService
from kgstore.settings import Settings

START_TIMEOUT_S = 30


def local_redis_url(password: str, port: int) -> str:
    return f"redis://:{quote(password, safe='')}@127.0.0.1:{port}/0"


def redis_password_and_port(settings: Settings) -> tuple[str, int]:
    parts = urlsplit(settings.require_redis_url())
    if not parts.password:
        raise ServiceError("REDIS_URL has no password; the local Redis always requires one.")
    return unquote(parts.password), parts.port or 6379


def _redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceError(
            "redis-server is not installed: `apt-get install redis-server` "
            "(or run docker/native/provision.sh)."
        )
    return binary


@dataclass(frozen=True)
class RedisStatus:
    running: bool
    pid: int | None
    port: int
    version: str | None


class RedisServer(ManagedService):
    """The local Redis, Celery's broker and result backend."""

    name = "Redis"
    key = "redis"
    start_timeout_s = START_TIMEOUT_S

    def ports(self) -> dict[str, int]:
        return {"REDIS_URL (port)": redis_password_and_port(self.settings)[1]}

    def check(self) -> None:
        _redis_binary()
        redis_password_and_port(self.settings)

    def launch(self, process: ManagedProcess) -> None:
        password, port = redis_password_and_port(self.settings)
        self.home.mkdir(parents=True, exist_ok=True)
        # The password goes into a 0600 config file, not the command line other users can read.
        conf = self.home / "redis.conf"
        conf.touch(mode=0o600)
        conf.write_text(
            f"bind 127.0.0.1\nport {port}\nrequirepass {password}\nprotected-mode yes\n"
            f'save ""\nappendonly yes\nappendfsync everysec\ndaemonize no\ndir {self.home}\n'
        )
        process.start([_redis_binary(), str(conf)])

    def ready(self) -> bool:
        try:
            client = redis.Redis.from_url(self.settings.require_redis_url(), socket_timeout=1)
            return bool(client.ping())
        except redis.RedisError:
            return False

    def readiness(self) -> str:
        return f"PING on port {redis_password_and_port(self.settings)[1]}"

    def status(self) -> RedisStatus:
        settings = self.settings
        url = settings.redis_url
        port = urlsplit(url).port or 6379 if url else settings.redis_port
        version = None
        if url:
            try:
                client = redis.Redis.from_url(url, socket_timeout=1)
                version = client.info("server").get("redis_version")
            except redis.RedisError:
                pass
        pid = self.pid()
        return RedisStatus(pid is not None, pid, port, version)
