"""The one-line result `kgctl runs` shows for a run: what it did, read from the metrics its
kind stores (the report each command prints, as JSON). Every kind has its line, so no
finished run shows "-"; a failed run shows its error, a run still going (or killed) "-".

Only the metrics are read, not the code that wrote them, so a run recorded by an older
kgstore still gets its line where its metrics hold the same keys.
"""

from collections.abc import Callable, Collection, Mapping
from typing import Any

ERROR_CHARS = 120
"""A failed run's error is cut here: the line is one table cell."""

HEADLINE = "NDCG@10"
"""The metric a retriever's, reranker's or grid's line names, where the run has it."""


def _ingest(metrics: Mapping[str, Any]) -> str:
    nodes = sum(metrics.get("nodes", {}).values())
    relationships = sum(metrics.get("relationships", {}).values())
    rate = metrics.get("relationshipsPerSecond")
    rejected = metrics.get("rejected", 0)
    return (
        f"{metrics['records']:,} records, {nodes:,} nodes, {relationships:,} relationships"
        + (f" ({rate:,} rel/s)" if rate else "")
        + (f", {rejected:,} rejected" if rejected else "")
    )


def _export(metrics: Mapping[str, Any]) -> str:
    return (
        f"{metrics['users']:,} users, {metrics['items']:,} items, "
        f"{metrics['trainingInteractions']:,} interactions"
    )


def _embed(metrics: Mapping[str, Any]) -> str:
    rate = metrics.get("textsPerSecond")
    return (
        f"{metrics['encoded']:,} vectors of {metrics.get('target', 'nodes')} encoded"
        + (f" ({rate:,} texts/s)" if rate else "")
        + f", {metrics.get('unchanged', 0):,} unchanged"
    )


def _generate(metrics: Mapping[str, Any]) -> str:
    return (
        f"{metrics['generated']:,} {metrics.get('target', 'texts')} written, "
        f"{metrics.get('unchanged', 0):,} unchanged, {metrics.get('skipped', 0):,} skipped"
    )


def _headline(names: Collection[str]) -> str:
    return HEADLINE if HEADLINE in names else next(iter(names))


def _train(metrics: Mapping[str, Any]) -> str:
    epochs = f"best epoch {metrics['best_epoch']} of {metrics['epochs']}"
    if "best_loss" in metrics:  # HDGI personas
        return (
            f"personas of {metrics['users']:,} users, {epochs}, "
            f"loss {metrics['first_loss']:.3f} → {metrics['best_loss']:.3f}"
        )
    name = _headline(metrics["test"])
    return f"{metrics['row']}: test {name} {metrics['test'][name]:.4f}, {epochs}"


def _evaluate(metrics: Mapping[str, Any]) -> str:
    """The best row of the first slice (all users) on the headline metric."""
    rows = metrics["rows"]
    first = [row for row in rows if row["slice"] == rows[0]["slice"]]
    name = _headline(first[0]["metrics"])
    best = max(first, key=lambda row: row["metrics"][name]["mean"])
    return (
        f"best {name} ({best['slice']}): {best['config']} {best['metrics'][name]['mean']:.4f}; "
        f"table in {metrics['artifacts']}"
    )


LINES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "ingest": _ingest,
    "export": _export,
    "embed": _embed,
    "generate": _generate,
    "train": _train,
    "evaluate": _evaluate,
}
"""One line per `RunKind` value (kgstore.graph.runs)."""


def result_line(kind: str, metrics: Mapping[str, Any]) -> str:
    """What the run did, in one line; "-" when it recorded nothing to say (still running,
    or killed before it could)."""
    if "error" in metrics:
        return f"error: {metrics['error']}"[:ERROR_CHARS]
    line = LINES.get(kind)
    if line is None or not metrics:
        return "-"
    try:
        return line(metrics)
    except (KeyError, IndexError, StopIteration):
        return "-"  # metrics without what this kind's line reads: say nothing rather than guess
