"""A second, private stack driven through `kgctl` in subprocesses (own .env, state
directory and ports), for tests of service life cycles that must not disturb the
services the rest of the suite uses."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from kgstore.envfile import read_env_file
from kgstore.settings import Settings


@dataclass
class PrivateStack:
    root: Path
    env: dict[str, str]

    @property
    def env_file(self) -> Path:
        return self.root / ".env"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    def settings(self) -> Settings:
        """Settings to reach this stack's Neo4j from the test process (once it is up)."""
        return Settings(
            _env_file=None,
            neo4j_uri=self.env["NEO4J_URI"],
            neo4j_user="neo4j",
            neo4j_password=read_env_file(self.env_file)["NEO4J_PASSWORD"],
            neo4j_database="neo4j",
            kgstore_state_dir=self.state_dir,
        )

    def kgctl(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from cli.app import main; main()", *args],
            env={**self.env, **extra_env},
            capture_output=True,
            text=True,
            timeout=400,
            check=False,
            cwd=self.root,
        )

    def start_kgctl(self, *args: str, output: Path) -> subprocess.Popen[bytes]:
        """`kgctl` in the background, stdout and stderr appended to `output`."""
        with output.open("a") as log:
            return subprocess.Popen(
                [sys.executable, "-c", "from cli.app import main; main()", *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
            )

    def pidfiles(self) -> list[Path]:
        return sorted((self.state_dir / "run").glob("*.pid"))

    def processes(self) -> list[int]:
        """Live processes whose command line or environment mentions this stack's folder."""
        needle = str(self.root).encode()
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == os.getpid():
                continue
            try:
                if (
                    needle in (proc / "cmdline").read_bytes()
                    or needle in (proc / "environ").read_bytes()
                ):
                    found.append(int(proc.name))
            except OSError:
                continue
        return found


def assert_nothing_left(stack: PrivateStack) -> None:
    assert stack.pidfiles() == []
    assert stack.processes() == []
