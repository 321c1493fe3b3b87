"""HDGI epochs with OpenMP's default wait policy against `OMP_WAIT_POLICY=PASSIVE`.

torch runs its CPU kernels on an OpenMP team (two threads on this machine). By default
a thread that finishes its share spins, waiting for the next parallel region; when
another process holds one of the two cores (a Neo4j warming up, an embedding, a test run),
the spinning thread and the descheduled one take turns and a 2.4 MB `fill_` took 6.8 ms
instead of 0.2 ms (measured 2026-12-04, load 3.5). PASSIVE (threads sleep while they
wait) removes that, but it slowed the demo's SASRec grid on a quiet machine (every small
kernel then wakes a sleeping thread), so kgstore leaves the policy to the environment.

The 1x Books shape is generated once (`hdgi_scale.py --generate`: random 384-d
features); each case trains on it in a fresh interpreter (`hdgi_scale.py --train`: the
policy is read when OpenMP starts, at `import torch`), the default HDGIConfig, `--epochs`
epochs, median epoch time after the first. `--busy N` keeps N
plain Python processes spinning beside each case (a shared machine); 0 is a quiet one.
Prints the median epoch under each policy and their ratio.
"""

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path

from children import json_child

POLICIES = ("default", "PASSIVE")
HDGI_SCALE = Path(__file__).with_name("hdgi_scale.py")
"""Generates the snapshot once (`--generate`) and trains on it (`--train`) per case."""


def spin(stop: float) -> None:
    """A busy neighbour: burn a core until `stop` (time.time())."""
    while time.time() < stop:
        pass


def run_case(snapshot: Path, policy: str, count: int, busy: int) -> list[float]:
    """Seconds of each epoch, trained by `hdgi_scale.py --train` in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy != "default":
        env["OMP_WAIT_POLICY"] = policy
    neighbours = [
        multiprocessing.Process(target=spin, args=(time.time() + 3600,)) for _ in range(busy)
    ]
    for process in neighbours:
        process.start()
    try:
        arguments = ("--train", str(snapshot), "--epochs", str(count))
        return json_child(HDGI_SCALE, *arguments, env=env)["epochs"]
    finally:
        for process in neighbours:
            process.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--busy", default="0,1", help="busy neighbours, one case each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="omp-wait-") as folder:
        snapshot = Path(folder) / "books-x1.snapshot"
        json_child(HDGI_SCALE, "--generate", "1", str(snapshot))
        for busy in [int(b) for b in args.busy.split(",")]:
            report(busy, {p: run_case(snapshot, p, args.epochs, busy) for p in POLICIES})


def report(busy: int, seconds: dict[str, list[float]]) -> None:
    """Every epoch per policy, then the medians after the first and their ratio."""
    medians = {policy: statistics.median(epochs[1:]) for policy, epochs in seconds.items()}
    for policy, epochs in seconds.items():
        print(
            f"busy neighbours {busy}, OMP_WAIT_POLICY {policy}: epochs "
            + " ".join(f"{s:.2f}" for s in epochs)
        )
    print(
        f"busy neighbours {busy}: median epoch default {medians['default']:.2f} s, "
        f"PASSIVE {medians['PASSIVE']:.2f} s, default/PASSIVE "
        f"{medians['default'] / medians['PASSIVE']:.2f}x",
        flush=True,
    )


if __name__ == "__main__":
    main()
