"""`make demo` from a fresh clone, then again on the same clone: wall time of each run and
of each step, against issue 22's targets (first run ≤ 10 min, second ≤ 3 min).

The clone is of this checkout's HEAD, into a directory that must not exist; the pip cache
is whatever this machine has (the target assumes it warm). The stack starts on the
default ports, as a user's would: stop any other stack first (`kgctl services down` in
its checkout), and run on a quiet machine — another busy process on two cores slows
PyTorch's spinning OpenMP threads many times over (BENCHMARKS.md, issue 22). The stack
of the clone is stopped at the end.

    .venv/bin/python bench/demo_runs.py /tmp/demo-clone

Prints one line per step (`make` echoes each command before it runs; a step lasts until
the next command is echoed) and, last, a JSON line with both runs' seconds, the ratio
second/first (the baseline is the first run, measured in the same call) and each run's
step times.
"""

import argparse
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIRST_TARGET_S = 600
SECOND_TARGET_S = 180
COMMAND_PREFIXES = (".venv/bin/", "test -x", "npm ci", "bash docker/", "touch .venv")
"""How the lines `make` echoes for the demo's commands begin."""


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def timed_make(clone: Path, target: str) -> tuple[float, list[tuple[str, float]]]:
    """Run `make target` in `clone`, echoing its output; (seconds, [(command, seconds)])."""
    started = time.perf_counter()
    steps: list[tuple[str, float]] = []
    current, since = "make (before the first command)", started
    process = subprocess.Popen(
        ["make", target],
        cwd=clone,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(line)
        if line.startswith(COMMAND_PREFIXES):
            now = time.perf_counter()
            steps.append((current, now - since))
            current, since = line.strip(), now
    if process.wait() != 0:
        raise SystemExit(f"make {target} failed in {clone} (exit {process.returncode})")
    end = time.perf_counter()
    steps.append((current, end - since))
    return end - started, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clone", type=Path, help="where to clone (must not exist)")
    args = parser.parse_args()
    if args.clone.exists():
        raise SystemExit(f"{args.clone} exists: give a new directory")
    if port_in_use(7687):
        raise SystemExit("something listens on bolt port 7687: stop the other stack first")
    subprocess.run(["git", "clone", "-q", str(REPO), str(args.clone)], check=True)
    runs = {}
    try:
        for name in ("first", "second"):
            seconds, steps = timed_make(args.clone, "demo")
            runs[name] = {"seconds": round(seconds, 1), "steps": steps}
    finally:
        subprocess.run([".venv/bin/kgctl", "services", "down"], cwd=args.clone, check=False)
    for name, run in runs.items():
        print(f"## {name} run: {run['seconds']:.0f} s")
        for command, seconds in run["steps"]:
            print(f"{seconds:8.1f} s  {command}")
    first, second = runs["first"]["seconds"], runs["second"]["seconds"]
    summary = {
        "first_s": first,
        "first_target_s": FIRST_TARGET_S,
        "second_s": second,
        "second_target_s": SECOND_TARGET_S,
        "second_over_first": round(second / first, 3),
        "steps": {name: run["steps"] for name, run in runs.items()},
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
