"""Benchmark: `kgctl embed items` end to end against bare `encode()` on the same texts.

The graph's items (e.g. after `kgctl ingest demo`: 3,084 films with title and DBpedia
description) are encoded twice in the same run with the same model and device: once as
a bare `Embedder.embed` over all their texts (the ceiling on this machine: the encoder is
CPU-bound), once through `embed_nodes` after the stored vectors are removed (reading the
texts from Neo4j in idx ranges, encoding, writing vectors back, the vector index). The
figure is the ratio of the two rates; the target is at least 0.9 (INFRA.md). A third
pass shows the incremental case: nothing changed, nothing encoded.

    .venv/bin/python bench/embed_throughput.py [--chunk 2048] [--model NAME]
"""

import argparse
import sys
import time

from kgstore.db import open_database
from kgstore.device import resolve_device
from kgstore.embeddings.pipeline import DEFAULT_CHUNK, EmbedTarget, _read_range, embed_nodes
from kgstore.embeddings.sentence_transformers import DEFAULT_MODEL, SentenceTransformerEmbedder
from kgstore.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    args = parser.parse_args()

    settings = load_settings()
    device = resolve_device(settings)
    embedder = SentenceTransformerEmbedder(args.model, device=device)
    target = EmbedTarget.ITEMS
    with open_database(settings) as db:
        rows = _read_range(db, target, 0, 2**62)
        texts = [row.text for row in rows if row.text is not None]
        if not texts:
            sys.exit("no item text to encode: run `kgctl ingest demo` first")
        words = sum(len(text.split()) for text in texts) / len(texts)
        print(f"{len(texts):,} item texts, {words:.0f} words on average; {args.model} on {device}")

        embedder.embed(texts[:64])  # load and warm the model outside both timings
        started = time.perf_counter()
        embedder.embed(texts)
        bare = len(texts) / (time.perf_counter() - started)
        print(f"bare encode(): {bare:,.1f} texts/s")

        db.query("MATCH (i:Item) REMOVE i.textEmbedding, i.textEmbeddingHash")
        report = embed_nodes(db, embedder, target, args.chunk)
        print(
            f"embed_nodes: {report.encoded:,} encoded in {report.seconds:.1f} s = "
            f"{report.texts_per_second:,.1f} texts/s; ratio to bare encode() "
            f"{report.texts_per_second / bare:.2f} (target >= 0.9)"
        )
        again = embed_nodes(db, embedder, target, args.chunk)
        print(
            f"re-run, nothing changed: {again.encoded} encoded, {again.unchanged:,} "
            f"unchanged, {again.seconds:.1f} s"
        )


if __name__ == "__main__":
    main()
