"""Settings for a second, self-contained stack beside the main one: its own .env, state
directory and free ports. Tests of the stack's life cycle and benchmarks use it so that
they never disturb the services other work relies on."""

import os
import socket
from pathlib import Path

# Settings that would point a child process at the main stack instead of the isolated one.
MAIN_STACK_SETTINGS = (
    "NEO4J_URI",
    "NEO4J_PASSWORD",
    "NEO4J_HTTP_PORT",
    "NEO4J_GUIDE_PORT",
    "REDIS_URL",
    "REDIS_PORT",
    "SPARQL_ENDPOINT",
    "VIRTUOSO_HTTP_PORT",
    "VIRTUOSO_SQL_PORT",
    "VIRTUOSO_DBA_PASSWORD",
    "FLOWER_PORT",
    "FLOWER_PASSWORD",
    "KGSTORE_SERVE_PORT",
    "KGSTORE_SERVE_TOKEN",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def isolated_stack_env(root: Path) -> dict[str, str]:
    """Environment for `kgctl` processes that manage a stack living entirely under `root`."""
    env = {key: value for key, value in os.environ.items() if key not in MAIN_STACK_SETTINGS}
    env.update(
        KGSTORE_ENV_FILE=str(root / ".env"),
        KGSTORE_STATE_DIR=str(root / "state"),
        NEO4J_URI=f"bolt://127.0.0.1:{free_port()}",
        NEO4J_HTTP_PORT=str(free_port()),
        NEO4J_GUIDE_PORT=str(free_port()),
        REDIS_PORT=str(free_port()),
        FLOWER_PORT=str(free_port()),
        KGSTORE_SERVE_PORT=str(free_port()),
        NEO4J_HEAP="512m",
        NEO4J_PAGECACHE="128m",
    )
    return env
