"""The local guide server's life cycle: Browser's style sheet and guide on loopback.

neo4j.conf points Browser at it (browser.post_connect_cmd applies the style and opens
the guide on connect; browser.remote_content_hostname_allowlist lets Browser fetch
from its host), so it runs whenever the local Neo4j does.
"""

import sys
import urllib.request
from dataclasses import dataclass

from kgstore.services.guide_content import GUIDE_PATH, STYLE_PATH
from kgstore.services.process import ManagedProcess, ensure_ports_free, pidfile_for
from kgstore.settings import Settings

START_TIMEOUT_S = 30


def guide_port(settings: Settings) -> int:
    """NEO4J_GUIDE_PORT, else the port after NEO4J_HTTP_PORT (7474 -> 7475)."""
    return settings.neo4j_guide_port or settings.neo4j_http_port + 1


def guide_base_url(settings: Settings) -> str:
    return f"http://{settings.neo4j_host}:{guide_port(settings)}"


def style_url(settings: Settings) -> str:
    return guide_base_url(settings) + STYLE_PATH


def guide_url(settings: Settings) -> str:
    return guide_base_url(settings) + GUIDE_PATH


def guide_ports(settings: Settings) -> dict[str, int]:
    return {"NEO4J_GUIDE_PORT": guide_port(settings)}


def guide_process(settings: Settings) -> ManagedProcess:
    return ManagedProcess(
        "guide server",
        pidfile_for(settings.state_dir, "guide"),
        settings.state_dir / "guide" / "guide.log",
    )


def _answers(settings: Settings) -> bool:
    try:
        with urllib.request.urlopen(style_url(settings), timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def start_guide_server(settings: Settings) -> str:
    proc = guide_process(settings)
    if proc.pid() is not None:
        return "already running"
    ensure_ports_free("the guide server", guide_ports(settings))
    port = guide_port(settings)
    proc.start(
        [
            sys.executable,
            "-m",
            "kgstore.services.guide_http",
            "--host",
            settings.neo4j_host,
            "--port",
            str(port),
        ]
    )
    proc.wait_ready(lambda: _answers(settings), START_TIMEOUT_S, f"{style_url(settings)}")
    return "started"


def stop_guide_server(settings: Settings) -> bool:
    return guide_process(settings).stop()


@dataclass(frozen=True)
class GuideStatus:
    running: bool
    pid: int | None
    port: int
    url: str


def guide_status(settings: Settings) -> GuideStatus:
    pid = guide_process(settings).pid()
    return GuideStatus(pid is not None, pid, guide_port(settings), guide_url(settings))
