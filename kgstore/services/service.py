"""What every managed server shares: start it unless it runs, stop it, its pid, its logs.

Neo4j, Redis, Flower and the guide server differ only in their ports, how they are
launched and how to tell that they answer; each subclass gives just those parts, and
the steps around them (the already-running check, the port check that names the
setting, the wait that stops a server that never becomes ready) are written once here.
"""

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from kgstore.services.logs import LogSource
from kgstore.services.process import ManagedProcess, ensure_ports_free, pidfile_for
from kgstore.settings import Settings


class ManagedService(ABC):
    """One server of the local stack, bound to the settings it runs with."""

    name: ClassVar[str]
    """How messages name the server ("Neo4j")."""
    key: ClassVar[str]
    """Its pid file, its state folder and its label in `kgctl services logs`."""
    start_timeout_s: ClassVar[float]

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def home(self) -> Path:
        """The server's folder under the state directory (config, data, logs)."""
        return self.settings.state_dir / self.key

    @property
    def logfile(self) -> Path:
        """Where the server's output goes: KEY.log in its folder."""
        return self.home / f"{self.key}.log"

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess(
            self.name, pidfile_for(self.settings.state_dir, self.key), self.logfile
        )

    @abstractmethod
    def ports(self) -> dict[str, int]:
        """The ports the server binds, keyed by the setting that chooses each."""

    def check(self) -> None:  # noqa: B027 (an optional step, empty by default)
        """Raise before anything starts when a prerequisite (a setting, a binary) is missing."""

    @abstractmethod
    def launch(self, process: ManagedProcess) -> None:
        """Write what the server reads on start and start `process`."""

    @abstractmethod
    def ready(self) -> bool:
        """Whether the started server answers."""

    @abstractmethod
    def readiness(self) -> str:
        """What `ready` waits for, for the message of a server that never answers."""

    def after_ready(self, process: ManagedProcess) -> None:  # noqa: B027 (optional, as check)
        """Check the answering server once more (default: nothing to check)."""

    def start(self) -> str:
        """Start the server unless it runs; returns "started" or "already running"."""
        process = self.process
        if process.pid() is not None:
            return "already running"
        self.check()
        ensure_ports_free(self.name, self.ports())
        self.launch(process)
        process.wait_ready(self.ready, self.start_timeout_s, self.readiness())
        self.after_ready(process)
        return "started"

    def stop(self) -> bool:
        """Stop the server; returns whether it was running."""
        return self.process.stop()

    def pid(self) -> int | None:
        """The server's pid while it runs, else None."""
        return self.process.pid()

    def log_sources(self) -> list[LogSource]:
        """The files `kgctl services logs KEY` shows."""
        return [LogSource(self.key, self.logfile)]
