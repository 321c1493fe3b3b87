"""HDGI at the Amazon-KG Books shape and its 2x and 4x: seconds per epoch, peak memory.

Each size runs in fresh subprocesses so that one size's peak RSS cannot hide in
another's. A first child builds the `GraphSnapshot` directly from the scale generator's
pure functions (`scale_catalogue`, `scale_users`: the graph `kgctl ingest demo-scale` would
store), keeping training interactions only and leaving the held-out users out by the
export's own rules (`training_lengths`, `holdout_users`), with random 384-d features in
place of text embeddings (the model's cost does not depend on their values). Neo4j is not
involved: this measures training, not the export (`bench/export_throughput.py`). It
saves the snapshot to a temporary file; a second child loads it and trains, so the
generator's memory (hundreds of MiB left in Python's allocator) is not in the peak.

Per size it reports the one-off meta-path build (`persona_graph`: capped sparse
meta-paths and their normalisation), the first epoch (which includes building the torch
inputs) and the median of the remaining epochs, and the training child's peak RSS
(snapshot loaded, meta-paths built, trained). Growth ratios are printed against the
1x run, beside the growth of the snapshot's edges and of the meta-path graphs' nonzeros.
"""

import argparse
import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from children import json_child
from procfs import mib, status_fields

from kgstore.demo.scale import BOOKS_SHAPE, ScaleShape, scale_catalogue, scale_users
from kgstore.export.snapshot import GraphSnapshot
from kgstore.graph.mapping import BY_TYPE
from kgstore.graph.split import holdout_users, training_lengths
from kgstore.train.hdgi import HDGIConfig, persona_graph, train_hdgi

DIMENSION = 384
"""all-MiniLM-L6-v2's size, what the export delivers."""


def scale_snapshot(shape: ScaleShape, fraction: float = 0.1, seed: int = 0) -> GraphSnapshot:
    """The persona graph the export would read from `shape`'s generated graph (training
    interactions of the kept users, every item fact), with random features."""
    items = scale_catalogue(shape)
    item_row = {item.item_id: row for row, item in enumerate(items)}
    entity_row: dict[str, int] = {}
    entity_types: list[str] = []
    relations: dict[str, list[tuple[int, int]]] = {}
    for row, item in enumerate(items):
        for rel_type, uri in item.facts:
            if uri not in entity_row:
                entity_row[uri] = len(entity_row)
                entity_types.append(BY_TYPE[rel_type].target_label)
            relations.setdefault(rel_type, []).append((row, entity_row[uri]))
    users = list(scale_users(shape, items))
    held_out = holdout_users([user.id for user in users], fraction, seed)
    kept = [user for user in users if user.id not in held_out]
    pairs = []
    for row, user in enumerate(kept):
        steps = sorted(user.steps, key=lambda step: step.pos)
        train = int(training_lengths(np.array([len(steps)]))[0])
        pairs += [(row, item_row[step.item]) for step in steps[:train]]
    rng = np.random.default_rng(seed)
    return GraphSnapshot(
        domain=shape.domain.value,
        users=[user.id for user in kept],
        items=[item.item_id for item in items],
        entities=list(entity_row),
        entity_types=entity_types,
        x_item=rng.standard_normal((len(items), DIMENSION), dtype=np.float32),
        x_entity=rng.standard_normal((len(entity_row), DIMENSION), dtype=np.float32),
        rated=np.unique(np.asarray(pairs, dtype=np.int64).T, axis=1),
        relations={
            rel: np.unique(np.asarray(edges, dtype=np.int64).T, axis=1)
            for rel, edges in relations.items()
        },
        relation_targets={rel: "Entity" for rel in relations},
        held_out_users=sorted(held_out),
    )


def rss_mib(field: str = "VmHWM") -> float:
    """This process's peak (`VmHWM`) or current (`VmRSS`) resident memory in MiB."""
    return mib(status_fields(os.getpid()), field)


def generate(factor: int, path: Path) -> None:
    """The first child's work: the snapshot of `factor` Books shapes, saved to `path`."""
    started = time.perf_counter()
    snapshot = scale_snapshot(BOOKS_SHAPE.times(factor))
    seconds = time.perf_counter() - started
    path.write_bytes(snapshot.to_bytes())
    print(json.dumps({"generate_s": seconds, "generator_peak_mib": rss_mib()}))


def train(path: Path, epochs: int, batch_size: int, threads: int) -> dict[str, object]:
    """The second child's work: load the snapshot, build the meta-paths, train."""
    torch.set_num_threads(threads)
    snapshot = GraphSnapshot.from_bytes(path.read_bytes())
    loaded_mib = rss_mib("VmRSS")
    config = HDGIConfig(epochs=epochs, patience=epochs + 1, batch_size=batch_size)
    started = time.perf_counter()
    graph = persona_graph(snapshot, config)
    metapath_s = time.perf_counter() - started
    metapath_peak = rss_mib()
    marks = [time.perf_counter()]
    result = train_hdgi(graph, config, progress=lambda *_: marks.append(time.perf_counter()))
    epoch_s = np.diff(marks).tolist()
    assert len(epoch_s) == epochs, "early stopping cut the run short"
    return {
        "users": len(snapshot.users),
        "items": len(snapshot.items),
        "entities": len(snapshot.entities),
        "edges": snapshot.edge_count,
        "training_interactions": int(snapshot.rated.shape[1]),
        "metapaths": [path.name for path in graph.paths],
        "metapath_nnz": int(sum(path.adjacency.nnz for path in graph.paths)),
        "metapath_s": metapath_s,
        "first_epoch_s": epoch_s[0],
        "epoch_s": statistics.median(epoch_s[1:]) if epochs > 1 else epoch_s[0],
        "epochs": epoch_s,
        "total_train_s": result.seconds,
        "loaded_mib": loaded_mib,
        "metapath_peak_mib": metapath_peak,
        "peak_mib": rss_mib(),
    }


@dataclass(frozen=True)
class Case:
    factor: int
    batch_size: int

    @property
    def name(self) -> str:
        mode = f"mini-batch {self.batch_size}" if self.batch_size else "full batch"
        return f"{self.factor}x, {mode}"


def child(*arguments: str) -> dict[str, object]:
    """This script in a fresh interpreter; its last line of output, as JSON."""
    return json_child(__file__, *arguments)


def run_case(case: Case, epochs: int, threads: int, folder: Path) -> dict[str, object]:
    """Generate (or reuse) the case's snapshot, then train on it, each in its own child."""
    path = folder / f"books-x{case.factor}.snapshot"
    generated = {} if path.exists() else child("--generate", str(case.factor), str(path))
    trained = child(
        "--train",
        str(path),
        "--batch",
        str(case.batch_size),
        "--epochs",
        str(epochs),
        "--threads",
        str(threads),
    )
    return {**generated, **trained}


def report(results: dict[Case, dict], base: dict) -> None:
    """One line per run, then the growth of each against the 1x full-batch run."""
    for case, r in results.items():
        print(
            f"{case.name}: {r['users']:,} users, {r['items']:,} items, {r['entities']:,} "
            f"entities, {r['edges']:,} edges ({r['training_interactions']:,} training "
            f"interactions), meta-path nonzeros {r['metapath_nnz']:,}\n"
            f"    meta-paths {r['metapath_s']:.1f} s | first epoch "
            f"{r['first_epoch_s']:.2f} s | epoch (median of {len(r['epochs']) - 1}) "
            f"{r['epoch_s']:.2f} s | peak RSS {r['peak_mib']:,.0f} MiB (snapshot loaded: "
            f"{r['loaded_mib']:,.0f} MiB, after meta-paths {r['metapath_peak_mib']:,.0f} MiB)"
        )
    print("growth against 1x full batch (x edges | x meta-path nnz):")
    for case, r in results.items():
        print(
            f"  {case.name}: edges {r['edges'] / base['edges']:.2f}x, nnz "
            f"{r['metapath_nnz'] / base['metapath_nnz']:.2f}x | epoch "
            f"{r['epoch_s'] / base['epoch_s']:.2f}x, meta-paths "
            f"{r['metapath_s'] / base['metapath_s']:.2f}x, peak "
            f"{r['peak_mib'] / base['peak_mib']:.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=6, help="epochs per size (no early stop)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--factors", default="1,2,4", help="sizes, in Books shapes")
    parser.add_argument("--batch-size", type=int, default=2048, help="mini-batch run's batch")
    parser.add_argument("--generate", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--train", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(int(args.generate[0]), Path(args.generate[1]))
        return
    if args.train:
        print(json.dumps(train(Path(args.train), args.epochs, args.batch, args.threads)))
        return
    factors = [int(f) for f in args.factors.split(",")]
    cases = [Case(f, 0) for f in factors] + [Case(max(factors), args.batch_size)]
    print(
        f"HDGI, {args.epochs} epochs per size, {args.threads} torch thread(s); graphs built "
        "in Python from the scale generator (no Neo4j), random 384-d features"
    )
    results = {}
    with tempfile.TemporaryDirectory(prefix="hdgi-scale-") as folder:
        for case in cases:
            results[case] = run_case(case, args.epochs, args.threads, Path(folder))
            print(f"  done: {case.name}", flush=True)
    report(results, results[cases[0]])


if __name__ == "__main__":
    main()
