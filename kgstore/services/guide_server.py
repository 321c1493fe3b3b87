"""The local guide server's life cycle: Browser's style sheet and guide on loopback.

neo4j.conf points Browser at it (browser.post_connect_cmd applies the style and opens
the guide on connect; browser.remote_content_hostname_allowlist lets Browser fetch
from its host), so it runs whenever the local Neo4j does.
"""

import sys
import urllib.request
from dataclasses import dataclass

from kgstore.services.guide_content import GUIDE_PATH, STYLE_PATH
from kgstore.services.process import ManagedProcess
from kgstore.services.service import ManagedService
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


@dataclass(frozen=True)
class GuideStatus:
    running: bool
    pid: int | None
    port: int
    url: str


class GuideServer(ManagedService):
    """The style sheet and guide server that Neo4j Browser loads."""

    name = "the guide server"
    key = "guide"
    start_timeout_s = START_TIMEOUT_S

    def ports(self) -> dict[str, int]:
        return {"NEO4J_GUIDE_PORT": guide_port(self.settings)}

    def launch(self, process: ManagedProcess) -> None:
        process.start(
            [
                sys.executable,
                "-m",
                "kgstore.services.guide_http",
                "--host",
                self.settings.neo4j_host,
                "--port",
                str(guide_port(self.settings)),
            ]
        )

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(style_url(self.settings), timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def readiness(self) -> str:
        return style_url(self.settings)

    def status(self) -> GuideStatus:
        pid = self.pid()
        return GuideStatus(
            pid is not None, pid, guide_port(self.settings), guide_url(self.settings)
        )
