"""HDGI epochs with OpenMP's default wait policy against `OMP_WAIT_POLICY=PASSIVE`.

torch runs its CPU kernels on an OpenMP team (two threads on this machine). By default
a thread that finishes its share spins, waiting for the next parallel region; when
another process holds one of the two cores (a Neo4j warming up, an embedding, a test run),
the spinning thread and the descheduled one take turns and a 2.4 MB `fill_` took 6.8 ms
instead of 0.2 ms (measured 2026-12-04, load 3.5). PASSIVE (threads sleep while they
wait) removes that, but it slowed the demo's SASRec grid on a quiet machine (every small
kernel then wakes a sleeping thread), so kgstore leaves the policy to the environment.

Each case runs in a fresh interpreter (the policy is read when OpenMP starts, at
`import torch`):
`hdgi_scale.scale_snapshot` at 1x the Books shape, random 384-d features, the default
HDGIConfig, `--epochs` epochs, median epoch time after the first. `--busy N` keeps N
plain Python processes spinning beside each case (a shared machine); 0 is a quiet one.
Prints the median epoch under each policy and their ratio.
"""

import argparse
import itertools
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

POLICIES = ("default", "PASSIVE")


def spin(stop: float) -> None:
    """A busy neighbour: burn a core until `stop` (time.time())."""
    while time.time() < stop:
        pass


def epochs(count: int) -> list[float]:
    """The child's work: seconds of each HDGI epoch on the 1x Books shape."""
    sys.path.insert(0, str(Path(__file__).parent))
    from hdgi_scale import scale_snapshot

    from kgstore.demo.scale import BOOKS_SHAPE
    from kgstore.train.hdgi import HDGIConfig, persona_graph, train_hdgi

    snapshot = scale_snapshot(BOOKS_SHAPE)
    config = HDGIConfig(epochs=count, patience=count + 1)
    graph = persona_graph(snapshot, config)
    marks = [time.perf_counter()]
    train_hdgi(graph, config, progress=lambda *_: marks.append(time.perf_counter()))
    return [b - a for a, b in itertools.pairwise(marks)]


def run_case(policy: str, count: int, busy: int) -> list[float]:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy != "default":
        env["OMP_WAIT_POLICY"] = policy
    neighbours = [
        multiprocessing.Process(target=spin, args=(time.time() + 3600,)) for _ in range(busy)
    ]
    for process in neighbours:
        process.start()
    try:
        command = [sys.executable, str(Path(__file__).resolve()), "--child", str(count)]
        done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    finally:
        for process in neighbours:
            process.terminate()
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--busy", default="0,1", help="busy neighbours, one case each")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(epochs(args.child)))
        return
    for busy in [int(b) for b in args.busy.split(",")]:
        medians = {}
        for policy in POLICIES:
            seconds = run_case(policy, args.epochs, busy)
            medians[policy] = statistics.median(seconds[1:])
            print(
                f"busy neighbours {busy}, OMP_WAIT_POLICY {policy}: epochs "
                + " ".join(f"{s:.2f}" for s in seconds),
                flush=True,
            )
        print(
            f"busy neighbours {busy}: median epoch default {medians['default']:.2f} s, "
            f"PASSIVE {medians['PASSIVE']:.2f} s, default/PASSIVE "
            f"{medians['default'] / medians['PASSIVE']:.2f}x"
        )


if __name__ == "__main__":
    main()
