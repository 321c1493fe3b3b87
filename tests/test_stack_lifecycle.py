"""`kgctl services up|status|down` on a second, private stack (own state dir and ports),
so the stack the other tests use is never touched. Includes the start-up faults: port
taken, Java missing, Maven unable to resolve, a database created with another password.
Each fault must give one clear message and leave no process behind."""

import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kgstore.envfile import read_env_file, update_env_file
from kgstore.services.isolated import isolated_stack_env
from tests.stacks import PrivateStack, assert_nothing_left

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[PrivateStack]:
    private = PrivateStack(tmp_path, isolated_stack_env(tmp_path))
    yield private
    private.kgctl("services", "down")


def test_up_twice_status_down(stack: PrivateStack) -> None:
    first = stack.kgctl("services", "up")
    assert first.returncode == 0, first.stderr
    assert stat.S_IMODE(stack.env_file.stat().st_mode) == 0o600
    secrets = read_env_file(stack.env_file)
    assert len(secrets["NEO4J_PASSWORD"]) >= 16
    assert secrets["REDIS_URL"].startswith("redis://:")

    status = stack.kgctl("services", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.count("running") == 5  # neo4j, redis, guide, cpu and gpu workers
    assert "5.26" in status.stdout
    pids = {path.name: path.read_text() for path in stack.pidfiles()}
    assert len(pids) == 5  # and the guide server, which runs with Neo4j

    again = stack.kgctl("services", "up")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already running") == 4
    assert {path.name: path.read_text() for path in stack.pidfiles()} == pids
    assert read_env_file(stack.env_file) == secrets

    down = stack.kgctl("services", "down")
    assert down.returncode == 0, down.stderr
    after = stack.kgctl("services", "status")
    assert after.returncode == 1
    assert "running" not in after.stdout
    assert after.stdout.count("down") == 4  # neo4j, redis, guide, serve (shown when down too)
    assert_nothing_left(stack)

    # The database keeps the password it was created with: a changed one is refused clearly.
    update_env_file(stack.env_file, {"NEO4J_PASSWORD": "not-the-original-password"})
    refused = stack.kgctl("services", "up")
    assert refused.returncode == 2
    assert "created with another password" in refused.stderr
    assert_nothing_left(stack)


def test_port_taken_fails_before_anything_starts(stack: PrivateStack) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(stack.env["NEO4J_HTTP_PORT"])))
        squatter.listen()
        result = stack.kgctl("services", "up")
    assert result.returncode == 2
    assert "NEO4J_HTTP_PORT" in result.stderr
    assert "already in use" in result.stderr
    assert_nothing_left(stack)


def test_java_missing_is_reported(stack: PrivateStack) -> None:
    result = stack.kgctl("services", "up", KGSTORE_JAVA="/nonexistent/bin/java")
    assert result.returncode == 2
    assert "KGSTORE_JAVA=/nonexistent/bin/java" in result.stderr
    assert_nothing_left(stack)


def test_unresolvable_neo4j_version_is_reported(stack: PrivateStack) -> None:
    result = stack.kgctl("services", "up", NEO4J_VERSION="5.26.999")
    assert result.returncode == 2
    assert "Maven could not resolve Neo4j 5.26.999" in result.stderr
    assert "NEO4J_VERSION" in result.stderr
    assert_nothing_left(stack)
