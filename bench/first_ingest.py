"""Benchmark: the first ingest after Neo4j starts (cold) against the same ingest again
(warm), in the same run.

Each round: empty the database, restart the local Neo4j (`kgctl services up` manages
it; the OS page cache is dropped too when this process may), time `kgctl ingest demo`'s
library call (users, interactions, then the films' DBpedia facts), empty the database
and time it again on the now warm server. Printed per round and as medians: seconds,
relationships per second and the ratio cold / warm (1.0 would mean no first-run
penalty). With `--warm-up`, the cold ingest is preceded by `warm_up` (what `kgctl
services up` runs after starting Neo4j): every writer statement once on no rows, so the
server has planned them before the first real batch (timed separately).

The database named by the settings is emptied: the benchmark refuses a non-empty one
unless `--clear` is given.

    .venv/bin/python bench/first_ingest.py [--rounds 3] [--users 2000] [--clear] [--warm-up]
"""

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from kgstore.db import Database, open_database
from kgstore.demo.ingest import DemoReport, ingest_demo
from kgstore.demo.users import DemoConfig
from kgstore.graph.clear import clear_graph
from kgstore.ingest.session import IngestOptions
from kgstore.ingest.write.warm_up import warm_up
from kgstore.services.neo4j_server import Neo4jServer
from kgstore.settings import Settings, load_settings

DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def no_warm_up(db: Database) -> None:
    """The cold run as a user's first ingest meets it."""


def drop_page_cache() -> bool:
    """Ask the kernel to drop clean cached pages (root only; refused in some sandboxes)."""
    try:
        DROP_CACHES.write_text("3\n")
    except OSError:
        return False
    return True


def restart_cold(settings: Settings) -> tuple[float, bool]:
    """Stop Neo4j, drop the page cache if allowed, start it; (seconds to start, dropped)."""
    Neo4jServer(settings).stop()
    dropped = drop_page_cache()
    started = time.perf_counter()
    Neo4jServer(settings).start()
    return time.perf_counter() - started, dropped


def timed_ingest(
    settings: Settings, config: DemoConfig, before: Callable[[Database], object]
) -> tuple[float, int]:
    """(seconds, relationships written) of one demo ingest into an emptied database;
    `before` runs first, untimed here (the warm-up is timed on its own)."""
    with open_database(settings) as db:
        clear_graph(db)
        started = time.perf_counter()
        before(db)
        if before is not no_warm_up:
            print(f"  warm-up: {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        report: DemoReport = ingest_demo(db, config, IngestOptions())
        seconds = time.perf_counter() - started
    written = sum(sum(r.relationships.values()) for r in report.reports)
    return seconds, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--clear", action="store_true", help="empty a non-empty database")
    parser.add_argument("--warm-up", action="store_true", help="run warm_up before cold runs")
    args = parser.parse_args()

    settings = load_settings()
    if Neo4jServer(settings).pid() is None:
        sys.exit("the local Neo4j (`kgctl services up`) is not running: it must be restarted")
    with open_database(settings) as db:
        used = db.query("MATCH (n) RETURN count(n) > 0 AS used")[0]["used"]
    if used and not args.clear:
        sys.exit(f"{settings.neo4j_uri} holds data; --clear empties it for the benchmark")

    config = DemoConfig(users=args.users)
    before = warm_up if args.warm_up else no_warm_up
    cold, warm = [], []
    for round_no in range(1, args.rounds + 1):
        start_s, dropped = restart_cold(settings)
        cold_s, rels = timed_ingest(settings, config, before)
        warm_s, _ = timed_ingest(settings, config, no_warm_up)
        cold.append(cold_s)
        warm.append(warm_s)
        print(
            f"round {round_no}: Neo4j start {start_s:.1f} s (page cache "
            f"{'dropped' if dropped else 'not dropped: not permitted'}); {rels:,} rels; "
            f"cold {cold_s:.1f} s ({rels / cold_s:,.0f} rel/s), warm {warm_s:.1f} s "
            f"({rels / warm_s:,.0f} rel/s), cold/warm {cold_s / warm_s:.2f}"
        )
    print(
        f"median of {args.rounds}: cold {statistics.median(cold):.1f} s, warm "
        f"{statistics.median(warm):.1f} s, ratio cold/warm "
        f"{statistics.median(c / w for c, w in zip(cold, warm, strict=True)):.2f}"
        f"{' (with warm_up before the cold run)' if args.warm_up else ''}"
    )
    with open_database(settings) as db:
        clear_graph(db)


if __name__ == "__main__":
    main()
