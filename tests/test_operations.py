"""Operations: Celery Flower (`kgctl services up --flower`), `kgctl services logs`, where the
workers log, and Redis keeping queued tasks across a restart.

The service tests run on one private stack of their own (tests/stacks.py: own .env, state
directory and ports), since they stop and kill its Redis and stop its workers; the stack
the other tests use is never touched."""

import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
import yaml

from kgstore.envfile import read_env_file
from kgstore.paths import DOCKER_DIR
from kgstore.services.flower import Flower
from kgstore.services.isolated import free_port, isolated_stack_env
from kgstore.services.logs import LogSource, show_logs, tail_lines
from kgstore.services.process import pid_alive, port_in_use
from kgstore.services.redis_server import RedisServer, redis_password_and_port
from kgstore.settings import Settings
from tests.stacks import PrivateStack, assert_nothing_left
from workers.app import CPU_QUEUE, create_app
from workers.launcher import WORKERS

SERVICES = "neo4j, redis, worker, flower, guide"


# --- without services -------------------------------------------------------------------


def test_tail_lines_reads_the_end_of_a_large_file(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    log.write_text("".join(f"line {n} {'x' * 100}\n" for n in range(5000)))  # ~0.5 MB
    assert tail_lines(log, 3) == [f"line {n} {'x' * 100}" for n in (4997, 4998, 4999)]
    assert len(tail_lines(log, 2000)) == 2000
    assert tail_lines(log, 0) == []
    short = tmp_path / "short.log"
    short.write_text("one\ntwo")  # no newline at the end
    assert tail_lines(short, 10) == ["one", "two"]


def test_follow_prints_appended_lines_with_their_label(tmp_path: Path) -> None:
    first, second = tmp_path / "a.log", tmp_path / "b.log"
    first.write_text("old a\n")
    sources = [LogSource("a", first), LogSource("b", second)]  # b does not exist yet
    out = io.StringIO()
    rounds = iter(range(4))

    def keep_going() -> bool:
        step = next(rounds, None)
        if step == 1:
            with first.open("a") as handle:
                handle.write("new a\nhalf")
            second.write_text("new b\n")
        if step == 2:
            with first.open("a") as handle:
                handle.write(" done\n")
        return step is not None

    show_logs(sources, lines=5, follow=True, out=out, keep_going=keep_going)
    text = out.getvalue()
    assert f"==> a: {first} <==\nold a\n" in text
    assert f"==> b: {second} <==\n(no log yet" in text
    assert "[a] new a\n" in text
    assert "[b] new b\n" in text
    assert "[a] half done\n" in text  # a line written in two pieces comes out whole


def test_unknown_service_name_lists_the_valid_ones(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from cli.app import main; main()", "services", "logs", "mongo"],
        env={**os.environ, "KGSTORE_ENV_FILE": str(tmp_path / ".env")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "unknown service 'mongo'" in result.stderr
    assert SERVICES in result.stderr


def test_compose_redis_keeps_an_append_only_file_on_a_volume() -> None:
    compose = yaml.safe_load((DOCKER_DIR / "compose.yml").read_text())
    redis_service = compose["services"]["redis"]
    command = redis_service["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] == "everysec"
    volume = next(v for v in redis_service["volumes"] if v.endswith(":/data"))
    assert volume.split(":")[0] in compose["volumes"]


# --- a private stack: Flower, logs, a Redis restart -------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateStack]:
    root = tmp_path_factory.mktemp("operations")
    env = {k: v for k, v in isolated_stack_env(root).items() if not k.startswith("FLOWER_")}
    env["FLOWER_PORT"] = str(free_port())
    private = PrivateStack(root, env)
    up = private.kgctl("services", "up", "--flower")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield private
    finally:
        private.kgctl("services", "down")


def stack_settings(stack: PrivateStack) -> Settings:
    """Settings for the private stack's Redis and Flower, from the test process."""
    values = read_env_file(stack.env_file)
    return Settings(
        _env_file=None,
        redis_url=values["REDIS_URL"],
        flower_port=int(stack.env["FLOWER_PORT"]),
        flower_user="kgstore",
        flower_password=values["FLOWER_PASSWORD"],
        kgstore_state_dir=stack.state_dir,
    )


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp* writes them) listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


@pytest.mark.slow
def test_flower_asks_for_the_password_and_shows_the_workers(stack: PrivateStack) -> None:
    cfg = stack_settings(stack)
    url = f"http://127.0.0.1:{cfg.flower_port}/"
    assert listening_addresses(cfg.flower_port) == {"0100007F"}  # 127.0.0.1 only

    for path in ("", "api/workers", "tasks", "broker"):
        assert httpx.get(url + path, timeout=10).status_code == 401, path
    wrong = httpx.get(url + "api/workers", auth=("kgstore", "not-the-password"), timeout=10)
    assert wrong.status_code == 401

    auth = (cfg.flower_user, cfg.flower_password or "")
    nodes = {spec.node_name() for spec in WORKERS}
    deadline = time.monotonic() + 60
    seen: set[str] = set()
    while time.monotonic() < deadline and not nodes <= seen:
        reply = httpx.get(url + "api/workers", params={"refresh": 1}, auth=auth, timeout=15)
        assert reply.status_code == 200
        seen = set(reply.json())
        time.sleep(1)
    assert nodes <= seen
    dashboard = httpx.get(url, auth=auth, timeout=10)
    assert dashboard.status_code == 200
    assert "Flower" in dashboard.text
    queues = httpx.get(url + "api/queues/length", auth=auth, timeout=10).json()
    assert {queue["name"] for queue in queues["active_queues"]} == {"cpu", "gpu"}

    # The password sits in a 0600 file, not on Flower's command line.
    conf = Flower(cfg).home / "flowerconfig.py"
    assert conf.stat().st_mode & 0o077 == 0
    pid = Flower(cfg).pid()
    assert pid is not None
    assert (cfg.flower_password or "").encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()

    status = stack.kgctl("services", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"Celery Flower: {url}  (user kgstore, password: FLOWER_PASSWORD in" in status.stdout
    assert (cfg.flower_password or "") not in status.stdout
    again = stack.kgctl("services", "up", "--flower")
    assert again.returncode == 0, again.stderr
    assert "flower: already running" in again.stdout


@pytest.mark.slow
def test_logs_show_the_end_of_each_log(stack: PrivateStack, tmp_path: Path) -> None:
    cfg = stack_settings(stack)
    redis_log = RedisServer(cfg).logfile
    shown = stack.kgctl("services", "logs", "redis", "--lines", "5")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [
        f"==> redis: {redis_log} <==",
        *redis_log.read_text().splitlines()[-5:],
    ]

    workers = stack.kgctl("services", "logs", "worker", "-n", "200")
    assert workers.returncode == 0, workers.stderr
    for spec in WORKERS:
        assert f"==> {spec.node_name()}: {spec.process(cfg).logfile} <==" in workers.stdout
        assert f"{spec.node_name()} ready." in workers.stdout
    flower = stack.kgctl("services", "logs", "flower")
    assert "Connected to redis://:**@127.0.0.1" in flower.stdout  # Flower masks the password
    neo4j = stack.kgctl("services", "logs", "neo4j", "--lines", "500")
    assert "neo4j.log <==" in neo4j.stdout
    assert "Started." in neo4j.stdout

    unknown = stack.kgctl("services", "logs", "celery")
    assert unknown.returncode == 2
    assert SERVICES in unknown.stderr

    output = tmp_path / "follow.out"
    follower = stack.start_kgctl("services", "logs", "redis", "-n", "0", "-f", output=output)
    try:
        marker = f"appended-{uuid.uuid4()}"
        deadline = time.monotonic() + 60
        while f"==> redis: {redis_log} <==" not in output.read_text():
            assert time.monotonic() < deadline and follower.poll() is None, output.read_text()
            time.sleep(0.2)
        with redis_log.open("a") as log:
            log.write(marker + "\n")
        while marker not in output.read_text():
            assert time.monotonic() < deadline and follower.poll() is None, output.read_text()
            time.sleep(0.2)
    finally:
        follower.terminate()
        follower.wait(timeout=30)

    status = stack.kgctl("workers", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    for spec in WORKERS:
        assert f"log {spec.process(cfg).logfile}" in status.stdout


def queued_ids(client: redis.Redis, queue: str) -> set[str]:
    """Ids of the task messages waiting in a queue's Redis list."""
    return {json.loads(raw)["headers"]["id"] for raw in client.lrange(queue, 0, -1)}


@pytest.mark.slow
@pytest.mark.parametrize("how", ["stop", "kill"])
def test_a_queued_task_survives_a_redis_restart(stack: PrivateStack, how: str) -> None:
    """No worker runs; a task is queued; Redis stops (`stop`: SIGTERM, as `services down`
    does; `kill`: SIGKILL right after the send, a crash) and starts again; the workers start,
    and the task runs and its result is there."""
    cfg = stack_settings(stack)
    down = stack.kgctl("workers", "down")
    assert down.returncode == 0, down.stderr
    marker = f"survives-{how}-{uuid.uuid4()}"
    app = create_app(cfg)
    try:
        task_id = app.send_task("kgstore.echo", args=[marker]).id
    finally:
        app.close()
    client = redis.Redis.from_url(cfg.redis_url or "", socket_timeout=5)
    assert task_id in queued_ids(client, CPU_QUEUE)
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    client.close()

    old_pid = RedisServer(cfg).pid()
    assert old_pid is not None
    if how == "stop":
        assert RedisServer(cfg).stop()
    else:
        os.kill(old_pid, signal.SIGKILL)
    # The main thread shows as a zombie while Redis's other threads, which share its open
    # files, may still be exiting: wait until the port is closed too.
    port = redis_password_and_port(cfg)[1]
    deadline = time.monotonic() + 10
    while pid_alive(old_pid) or port_in_use("127.0.0.1", port):
        assert time.monotonic() < deadline, f"Redis {old_pid} still holds port {port}"
        time.sleep(0.05)
    assert RedisServer(cfg).start() == "started"
    assert RedisServer(cfg).pid() not in (None, old_pid)

    client = redis.Redis.from_url(cfg.redis_url or "", socket_timeout=5)
    assert task_id in queued_ids(client, CPU_QUEUE)
    client.close()
    up = stack.kgctl("workers", "up")
    assert up.returncode == 0, up.stdout + up.stderr
    app = create_app(cfg)
    try:
        result = app.AsyncResult(task_id).get(timeout=120)
    finally:
        app.close()
    assert result["payload"] == marker
    assert result["worker"]["pid"] != os.getpid()


@pytest.mark.slow
def test_services_down_stops_flower(stack: PrivateStack) -> None:
    cfg = stack_settings(stack)
    assert Flower(cfg).pid() is not None
    down = stack.kgctl("services", "down")
    assert down.returncode == 0, down.stderr
    assert "flower: stopped" in down.stdout
    assert not port_in_use("127.0.0.1", cfg.flower_port)
    assert_nothing_left(stack)
    status = stack.kgctl("services", "status")
    assert status.returncode == 1
    assert "flower" not in status.stdout.split("Logs:")[0]
