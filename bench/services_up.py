"""Benchmark: cold and warm `kgctl services up`, and the memory of the running stack.

Cold: an empty Maven cache and an empty state directory, so the time includes resolving
and downloading the Neo4j jars from Maven Central, creating the database and starting
the two Celery workers. Warm: `services down` then `up` again (jars cached, database
present). The ratio cold/warm is printed; memory is the resident set of every process of
the stack (Neo4j JVM, Redis, workers and their pool children), found from the pid files.

    .venv/bin/python bench/services_up.py [--keep-maven-cache]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from procfs import mib, status_fields

from kgstore.services.isolated import isolated_stack_env


def kgctl(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "from cli.app import main; main()", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started


def stack_rss_mib(state_dir: Path) -> dict[str, float]:
    """Resident memory per program of the stack's processes (from kgstore's pid files)
    and of all their descendants (the Celery pool children, Neo4j's forks)."""
    roots = {int(p.read_text()) for p in (state_dir / "run").glob("*.pid")}
    parents: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                parents[int(proc.name)] = int(status_fields(int(proc.name))["PPid"])
            except (OSError, KeyError, ValueError):
                continue
    members = set(roots)
    grew = True
    while grew:
        children = {pid for pid, ppid in parents.items() if ppid in members} - members
        members |= children
        grew = bool(children)
    usage: dict[str, float] = {}
    for pid in members:
        try:
            fields = status_fields(pid)
        except OSError:
            continue
        usage[fields["Name"]] = usage.get(fields["Name"], 0.0) + mib(fields, "VmRSS")
    return usage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep-maven-cache",
        action="store_true",
        help="use ~/.m2 (no download) for the 'cold' start",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kgstore-bench-") as tmp:
        root = Path(tmp)
        env = isolated_stack_env(root)
        if not args.keep_maven_cache:
            env["MAVEN_OPTS"] = f"-Dmaven.repo.local={root / 'm2'}"
        try:
            cold = kgctl(env, "services", "up")
            time.sleep(5)  # let the JVM settle before reading memory
            memory = stack_rss_mib(root / "state")
            kgctl(env, "services", "down")
            warm = kgctl(env, "services", "up")
        finally:
            kgctl(env, "services", "down")
    print(f"cold services up (empty Maven cache={not args.keep_maven_cache}): {cold:.1f} s")
    print(f"warm services up (jars cached, database present):       {warm:.1f} s")
    print(f"ratio cold/warm: {cold / warm:.2f}x")
    for name, resident in sorted(memory.items(), key=lambda item: -item[1]):
        print(f"RSS {name:<16} {resident:8.1f} MiB")
    print(f"RSS stack total     {sum(memory.values()):8.1f} MiB")


if __name__ == "__main__":
    main()
