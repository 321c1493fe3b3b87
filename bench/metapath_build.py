"""The meta-path build at 1x, 2x and 4x the Books shape: hub groups against every pair.

Issue 22 asks for a build that grows near-linearly (at most 2.5x the time at 2x the users,
5x at 4x). For each size, in one fresh process (`hdgi_scale.scale_snapshot`: the graph
`kgctl ingest demo-scale` would store, no Neo4j), every meta-path of the default config is
built twice: exact (`hub_cap = 0`, the baseline: every pair through a hub) and with the
default `HDGIConfig.hub_cap` (`metapaths.split_hubs`). Both use the same top-k code, so
the ratio is the hub groups' alone.

What the approximation costs is printed beside it: per path, the mean exact pair weight
of a user's kept partners as a share of the exact build's (1.0: partners as strong as
the exact top-k's), and the growth of each build against the 1x one beside the growth of
the reach (user -> mid node) nonzeros, the work a linear build would do.
"""

import argparse
import json
import time

import numpy as np
from children import json_child
from hdgi_scale import scale_snapshot

from kgstore.demo.scale import BOOKS_SHAPE
from kgstore.train.hdgi import HDGIConfig
from kgstore.train.metapaths import MetaPathGraph, available_metapaths, build_metapath

NEIGHBOURS = HDGIConfig().neighbours


def partner_weight(path: MetaPathGraph) -> float:
    """Mean over users of the mean exact pair weight (Σ_m shared / deg(m)) of their kept
    partners (self loops left out)."""
    adjacency = path.adjacency.tocoo()
    pairs = adjacency.row != adjacency.col
    users, partners = adjacency.row[pairs], adjacency.col[pairs]
    shared = path.reach[users].multiply(path.reach[partners])
    weights = np.asarray(shared @ (1.0 / np.maximum(path.mid_degree, 1.0))).ravel()
    size = path.reach.shape[0]
    totals, counts = np.bincount(users, weights, size), np.bincount(users, None, size)
    has = counts > 0
    return float(np.mean(totals[has] / counts[has]))


def measure(factor: int, hub_cap: int) -> dict[str, object]:
    """One size: build every path exact and capped; seconds, nonzeros, partner weights."""
    snapshot = scale_snapshot(BOOKS_SHAPE.times(factor))
    result: dict[str, object] = {"users": len(snapshot.users), "paths": {}}
    for name in available_metapaths(snapshot):
        row = {}
        for label, cap in (("exact", 0), ("capped", hub_cap)):
            started = time.perf_counter()
            path = build_metapath(snapshot, name, NEIGHBOURS, cap, seed=0)
            row[f"{label}_s"] = time.perf_counter() - started
            row[f"{label}_weight"] = partner_weight(path)
        row["reach_nnz"] = int(path.reach.nnz)
        result["paths"][name] = row
    return result


def child(factor: int, hub_cap: int) -> dict[str, object]:
    return json_child(__file__, "--child", str(factor), "--hub-cap", str(hub_cap))


def totals(result: dict) -> tuple[float, float, int]:
    paths = result["paths"].values()
    return (
        sum(p["exact_s"] for p in paths),
        sum(p["capped_s"] for p in paths),
        sum(p["reach_nnz"] for p in paths),
    )


def report(results: dict[int, dict], hub_cap: int) -> None:
    base_exact, base_capped, base_nnz = totals(results[min(results)])
    print(f"hub_cap {hub_cap}, {NEIGHBOURS} neighbours; seconds over every path")
    for factor, result in results.items():
        exact, capped, nnz = totals(result)
        print(
            f"{factor}x ({result['users']:,} users): exact {exact:.1f} s, capped {capped:.1f} s "
            f"(exact/capped {exact / capped:.2f}x) | growth against 1x: reach nonzeros "
            f"{nnz / base_nnz:.2f}x, exact {exact / base_exact:.2f}x, capped "
            f"{capped / base_capped:.2f}x"
        )
        for name, row in result["paths"].items():
            share = row["capped_weight"] / row["exact_weight"]
            print(
                f"    {name:15s} exact {row['exact_s']:6.1f} s  capped {row['capped_s']:6.1f} s"
                f"  partner weight kept {share:.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--factors", default="1,2,4", help="sizes, in Books shapes")
    parser.add_argument("--hub-cap", type=int, default=HDGIConfig().hub_cap)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.hub_cap)))
        return
    results = {}
    for factor in [int(f) for f in args.factors.split(",")]:
        results[factor] = child(factor, args.hub_cap)
        print(f"  done: {factor}x", flush=True)
    report(results, args.hub_cap)


if __name__ == "__main__":
    main()
