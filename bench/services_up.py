"""Benchmark: cold and warm `kgctl services up`, and the memory of the running stack.

Cold: an empty Maven cache and an empty state directory, so the time includes resolving
and downloading the Neo4j jars from Maven Central, creating the database and starting
the two Celery workers. Warm: `services down` then `up` again (jars cached, database
present). The ratio cold/warm is printed; memory is the resident set of every process of
the stack (Neo4j JVM, Redis, workers and their pool children).

    .venv/bin/python bench/services_up.py [--keep-maven-cache]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def stack_rss_mib(root: Path) -> dict[str, float]:
    """Resident memory of the processes whose command line or environment names `root`."""
    needle = str(root).encode()
    usage: dict[str, float] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if needle not in (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes():
                continue
            status = (proc / "status").read_text()
        except OSError:
            continue
        name = next(line.split()[1] for line in status.splitlines() if line.startswith("Name:"))
        rss_kib = next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
        )
        usage[name] = usage.get(name, 0.0) + rss_kib / 1024
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
            memory = stack_rss_mib(root)
            kgctl(env, "services", "down")
            warm = kgctl(env, "services", "up")
        finally:
            kgctl(env, "services", "down")
    print(f"cold services up (empty Maven cache={not args.keep_maven_cache}): {cold:.1f} s")
    print(f"warm services up (jars cached, database present):       {warm:.1f} s")
    print(f"ratio cold/warm: {cold / warm:.2f}x")
    for name, mib in sorted(memory.items(), key=lambda item: -item[1]):
        print(f"RSS {name:<16} {mib:8.1f} MiB")
    print(f"RSS stack total     {sum(memory.values()):8.1f} MiB")


if __name__ == "__main__":
    main()
