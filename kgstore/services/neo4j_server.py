"""Neo4j 5.26 Community without Docker: jars from Maven Central, a generated neo4j.conf,
a generated password, a server process, and readiness on both Bolt and Browser.

The guide server (Browser's style sheet and guide, kgstore/services/guide_server.py)
starts and stops with Neo4j, since the neo4j.conf written here points Browser at it."""

import json
import os
import shutil
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from string import Template

from kgstore.db import create_driver
from kgstore.errors import Neo4jAuthFailed, ServiceError
from kgstore.paths import DOCKER_DIR
from kgstore.services.guide_server import GuideServer, guide_url, style_url
from kgstore.services.java import find_java
from kgstore.services.logs import LogSource
from kgstore.services.process import ManagedProcess, port_in_use
from kgstore.services.service import ManagedService
from kgstore.settings import Settings

POM = DOCKER_DIR / "native" / "neo4j-pom.xml"
CONF_TEMPLATE = DOCKER_DIR / "native" / "neo4j.conf.template"
START_TIMEOUT_S = 180
JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
]


def fetch_classpath(settings: Settings, java: Path) -> str:
    """Resolve the pinned server jars with Maven (cached in ~/.m2) and return the classpath."""
    home = Neo4jServer(settings).home
    cp_file = home / f"classpath-{settings.neo4j_version}-{settings.neo4j_browser_version}.txt"
    if cp_file.exists():
        classpath = cp_file.read_text().strip()
        if all(Path(jar).exists() for jar in classpath.split(os.pathsep)):
            return classpath
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServiceError(
            "Maven (mvn) is not installed; it fetches the Neo4j server jars. "
            "Install it with `apt-get install maven` (or run docker/native/provision.sh)."
        )
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "JAVA_HOME": str(java.resolve().parent.parent)}
    result = subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(POM),
            "dependency:build-classpath",
            f"-Dmdep.outputFile={cp_file}",
            f"-Dneo4j.version={settings.neo4j_version}",
            f"-Dneo4j.browser.version={settings.neo4j_browser_version}",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        cp_file.unlink(missing_ok=True)
        errors = [line for line in result.stdout.splitlines() if "[ERROR]" in line][:3]
        raise ServiceError(
            f"Maven could not resolve Neo4j {settings.neo4j_version} / Browser "
            f"{settings.neo4j_browser_version} (settings NEO4J_VERSION, NEO4J_BROWSER_VERSION) "
            f"from {POM}. Check the versions exist on Maven Central and that Maven can reach it.\n"
            + "\n".join(errors)
        )
    return cp_file.read_text().strip()


def write_config(settings: Settings) -> Path:
    home = Neo4jServer(settings).home
    for sub in ("conf", "data", "logs", "run", "plugins", "import"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    conf = home / "conf" / "neo4j.conf"
    conf.write_text(
        Template(CONF_TEMPLATE.read_text()).substitute(
            bolt_port=settings.neo4j_bolt_port,
            http_port=settings.neo4j_http_port,
            heap=settings.neo4j_heap,
            pagecache=settings.neo4j_pagecache,
            home=home,
            guide_host=settings.neo4j_host,
            style_url=style_url(settings),
            guide_url=guide_url(settings),
        )
    )
    return conf


def _has_database(settings: Settings) -> bool:
    return (Neo4jServer(settings).home / "data" / "databases" / "system").exists()


def run_admin(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `neo4j-admin ARGS` (from the pinned server jars) on this server's home."""
    java = find_java(settings)
    classpath = fetch_classpath(settings, java)
    write_config(settings)
    home = Neo4jServer(settings).home
    return subprocess.run(
        [str(java), "-cp", classpath, "org.neo4j.server.startup.Neo4jAdminCommand", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NEO4J_HOME": str(home), "NEO4J_CONF": str(home / "conf")},
        check=False,
    )


def set_initial_password(settings: Settings) -> None:
    """Before the first start only: Neo4j keeps the password in its system database."""
    result = run_admin(settings, "dbms", "set-initial-password", settings.require_neo4j_password())
    if result.returncode != 0:
        raise ServiceError(f"neo4j-admin set-initial-password failed:\n{result.stderr[-2000:]}")


def _browser_ok(settings: Settings) -> bool:
    try:
        with urllib.request.urlopen(settings.neo4j_browser_url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


@dataclass(frozen=True)
class Neo4jStatus:
    running: bool
    pid: int | None
    bolt_port: int
    http_port: int
    version: str | None
    edition: str | None
    browser_url: str


class Neo4jServer(ManagedService):
    """The local Neo4j; the guide server starts and stops with it."""

    name = "Neo4j"
    key = "neo4j"
    start_timeout_s = START_TIMEOUT_S

    @property
    def logfile(self) -> Path:
        """What the JVM prints; Neo4j's own neo4j.log lies beside it."""
        return self.home / "logs" / "console.log"

    def ports(self) -> dict[str, int]:
        return {
            "NEO4J_URI (Bolt port)": self.settings.neo4j_bolt_port,
            "NEO4J_HTTP_PORT": self.settings.neo4j_http_port,
        }

    def check(self) -> None:
        self.settings.require_neo4j_password()

    def launch(self, process: ManagedProcess) -> None:
        settings = self.settings
        java = find_java(settings)
        classpath = fetch_classpath(settings, java)
        conf = write_config(settings)
        if not _has_database(settings):
            set_initial_password(settings)
        home = self.home
        process.start(
            [
                str(java),
                f"-Xms{settings.neo4j_heap}",
                f"-Xmx{settings.neo4j_heap}",
                *JVM_FLAGS,
                "-cp",
                f"{home / 'plugins'}/*{os.pathsep}{classpath}",
                "org.neo4j.server.CommunityEntryPoint",
                f"--home-dir={home}",
                f"--config-dir={conf.parent}",
            ],
            env={**os.environ, "NEO4J_HOME": str(home), "NEO4J_CONF": str(conf.parent)},
            cwd=home,
        )

    def ready(self) -> bool:
        settings = self.settings
        return _browser_ok(settings) and port_in_use(settings.neo4j_host, settings.neo4j_bolt_port)

    def readiness(self) -> str:
        return f"Bolt on {self.settings.neo4j_uri} and Browser on {self.settings.neo4j_browser_url}"

    def after_ready(self, process: ManagedProcess) -> None:
        """Bolt answers; make sure it accepts our password, else stop the server and explain."""
        try:
            create_driver(self.settings).close()
        except Neo4jAuthFailed:
            process.stop()
            raise Neo4jAuthFailed(
                f"Neo4j in {self.home / 'data'} was created with another password than "
                "NEO4J_PASSWORD; the server was stopped. Restore the password it was created "
                "with, or remove that data directory to start an empty database."
            ) from None

    def start(self) -> str:
        """Provision and start the server and the guide server; harmless when they already
        run. Returns what happened to Neo4j. A Neo4j that fails to start takes down a guide
        server this call started."""
        guide = GuideServer(self.settings)
        guide_started = guide.start() == "started"
        try:
            return super().start()
        except BaseException:
            if guide_started:
                guide.stop()
            raise

    def stop(self) -> bool:
        """Stop Neo4j and the guide server; returns whether Neo4j was running."""
        GuideServer(self.settings).stop()
        return super().stop()

    def log_sources(self) -> list[LogSource]:
        # Neo4j writes its own log, neo4j.log, into the folder of its console output
        # (server.directories.logs); the console file holds what the JVM printed.
        return [
            LogSource("neo4j", self.logfile.parent / "neo4j.log"),
            LogSource("neo4j console", self.logfile),
        ]

    def status(self) -> Neo4jStatus:
        settings = self.settings
        version = edition = None
        if port_in_use(settings.neo4j_host, settings.neo4j_http_port):
            try:
                with urllib.request.urlopen(
                    f"http://{settings.neo4j_host}:{settings.neo4j_http_port}/", timeout=2
                ) as resp:
                    discovery = json.load(resp)
                version, edition = discovery.get("neo4j_version"), discovery.get("neo4j_edition")
            except (OSError, ValueError):
                pass
        pid = self.pid()
        return Neo4jStatus(
            pid is not None,
            pid,
            settings.neo4j_bolt_port,
            settings.neo4j_http_port,
            version,
            edition,
            settings.neo4j_browser_url,
        )
