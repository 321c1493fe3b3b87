"""The demo generator's rate against the ingest writer's, measured in the same run.

For each shape (the Books shape of the personas work, its 2x and 4x; `--million` adds
1,000,000 users / 10,000,000 interactions) the pure generator is timed: catalogue, then
users streamed and dropped (interactions per second; the process's peak RSS after
each shape shows whether memory grows with the users). The baseline
is `kgctl ingest demo-scale` of the Books shape into the configured Neo4j (relationships
written per second, end to end). The ratio generator/writer says how far the generator
is from being a benchmark's bottleneck. Run against a private stack: it empties the
graph first (`source /work/stack2/env.sh` or equivalent).
"""

import argparse
import resource
import time

from kgstore.db import open_database
from kgstore.demo.ingest import ingest_scale
from kgstore.demo.scale import BOOKS_SHAPE, ScaleShape, scale_catalogue, scale_users
from kgstore.graph.clear import clear_graph
from kgstore.ingest.session import IngestOptions
from kgstore.settings import load_settings


def generator_rate(shape: ScaleShape) -> tuple[float, float, float]:
    """(interactions per second of the user stream, catalogue seconds, peak RSS MiB of
    this process so far)."""
    started = time.perf_counter()
    items = scale_catalogue(shape)
    catalogue_s = time.perf_counter() - started
    started = time.perf_counter()
    interactions = sum(len(user.steps) for user in scale_users(shape, items))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert interactions == shape.interactions
    return interactions / seconds, catalogue_s, peak


def writer_rate(shape: ScaleShape) -> float:
    """Relationships per second of `ingest_scale` into an emptied graph."""
    with open_database(load_settings()) as db:
        clear_graph(db)
        report = ingest_scale(db, shape, IngestOptions())
    return report.interactions.relationships_per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--million", action="store_true", help="also 1M users / 10M interactions")
    args = parser.parse_args()
    shapes = {
        "books": BOOKS_SHAPE,
        "books x2": BOOKS_SHAPE.times(2),
        "books x4": BOOKS_SHAPE.times(4),
    }
    if args.million:
        shapes["1M users"] = ScaleShape(1_000_000, 100_000, 10_000_000, 1_000_000)
    writer = writer_rate(BOOKS_SHAPE)
    print(f"baseline: ingest writer, books shape: {writer:,.0f} rel/s")
    for name, shape in shapes.items():
        rate, catalogue_s, peak = generator_rate(shape)
        print(
            f"{name}: generator {rate:,.0f} interactions/s (catalogue {catalogue_s:.1f} s, "
            f"peak RSS {peak:,.0f} MiB) = {rate / writer:.1f}x the writer"
        )


if __name__ == "__main__":
    main()
