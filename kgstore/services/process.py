"""Background processes with pid files: start, wait until ready, stop, inspect.

A start that fails (the process dies or never becomes ready) kills what it
started, so a failed `services up` leaves no half-started server behind.
"""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kgstore.errors import ServiceError


@dataclass(frozen=True)
class ManagedProcess:
    """A service process identified by its pid file and log file."""

    name: str
    pidfile: Path
    logfile: Path

    def pid(self) -> int | None:
        """The recorded pid if that process is still alive, else None."""
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def start(
        self, command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> int:
        self.logfile.parent.mkdir(parents=True, exist_ok=True)
        self.pidfile.parent.mkdir(parents=True, exist_ok=True)
        with self.logfile.open("ab") as log:
            proc = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        self.pidfile.write_text(str(proc.pid))
        return proc.pid

    def wait_ready(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll `ready` until it holds; on death or timeout stop the process and raise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pid() is None:
                self.pidfile.unlink(missing_ok=True)
                raise ServiceError(
                    f"{self.name} exited while starting; last lines of {self.logfile}:\n"
                    f"{self.log_tail()}"
                )
            if ready():
                return
            time.sleep(0.5)
        self.stop()
        raise ServiceError(
            f"{self.name} did not become ready ({what}) within {timeout:.0f}s and was stopped; "
            f"see {self.logfile}:\n{self.log_tail()}"
        )

    def stop(self, timeout: float = 60.0) -> bool:
        """Stop the process group (SIGTERM, then SIGKILL). Returns whether it was running."""
        pid = self.pid()
        if pid is None:
            self.pidfile.unlink(missing_ok=True)
            return False
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if pid_alive(pid):
            _signal_group(pid, signal.SIGKILL)
            while pid_alive(pid):
                time.sleep(0.1)
        self.pidfile.unlink(missing_ok=True)
        return True

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.logfile.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def pidfile_for(state_dir: Path, key: str) -> Path:
    """All of kgstore's pid files live in one folder, apart from the servers' own."""
    return state_dir / "run" / f"{key}.pid"


def pid_alive(pid: int) -> bool:
    """True for a running process (zombies count as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def ensure_ports_free(service: str, ports: dict[str, int], host: str = "127.0.0.1") -> None:
    """Raise a ServiceError naming the setting of the first port already taken."""
    for setting, port in ports.items():
        if port_in_use(host, port):
            raise ServiceError(
                f"cannot start {service}: port {port} ({setting}) is already in use by another "
                f"process. Stop that process or choose another port with {setting}."
            )
