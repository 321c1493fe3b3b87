"""Latency and throughput of the recommendation service (`kgctl serve`) under load,
against `kgctl recommend` (a process per call, loading the model each time) as the
baseline measured in the same run.

A real HTTP load: N asyncio clients (httpx, one connection each) send requests back to
back for `--seconds` each, at 1, 8 and 64 clients: POST /recommend (the newest kg
retriever, a 10-item session from a user's history, k 10) and POST /explain (the same
session and its first recommendation). Latency is from send to the parsed answer.
`--soak S` then keeps 64 clients on /recommend for S seconds and samples the service's
resident memory every 10 s (flat memory: the last minute's mean against the first's).

The graph: `--prepare films` builds the films demo (ingest, MiniLM embeddings, HDGI,
a kg/description retriever); `--prepare scale` a `demo-scale` catalogue of `--items`
movies (default 100,000) whose item and entity vectors are random (`bench-random`:
latency does not depend on their values, and MiniLM over 100k texts would take most of
the run), HDGI for `--hdgi-epochs` and a kg/random retriever for 2 epochs (sampled
softmax). Both empty the configured graph first. Without `--prepare` the graph is used
as it is. The service and the load generator share this machine's cores, as a shop's
front end and its service would not: the figures are a floor.

    .venv/bin/python bench/serve.py --prepare films
    .venv/bin/python bench/serve.py --prepare scale --soak 600
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from kgstore.db import open_database
from kgstore.graph.mapping import Domain
from kgstore.recsys.session_model import latest_session_model
from kgstore.services.recommend_service import service_beside
from kgstore.settings import load_settings

RESULTS = Path(__file__).parent / "results"
KGCTL = str(Path(sys.executable).parent / "kgctl")
SESSION_LENGTH = 10


def kgctl(*args: str) -> None:
    print("$ kgctl", " ".join(args), flush=True)
    started = time.perf_counter()
    subprocess.run([KGCTL, *args], check=True, stdout=subprocess.DEVNULL)
    print(f"  {time.perf_counter() - started:.1f} s", flush=True)


def config_file(text: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as handle:
        handle.write(text)
    return handle.name


def prepare_films() -> None:
    kgctl("db", "clear", "--yes")
    kgctl("schema", "apply")
    kgctl("ingest", "demo")
    kgctl("embed", "items")
    kgctl("embed", "entities")
    kgctl("train", "hdgi", "--domain", "movies", "--no-reuse")
    kgctl("train", "retriever", "--user", "kg", "--item", "description", "--domain", "movies")


def prepare_scale(items: int, hdgi_epochs: int) -> None:
    users, interactions = items // 5, items * 3
    kgctl("db", "clear", "--yes")
    kgctl("schema", "apply")
    kgctl(
        "ingest", "demo-scale", "--domain", "movies", "--users", str(users),
        "--items", str(items), "--interactions", str(interactions),
        "--triples", str(items * 2),
    )  # fmt: skip
    with open_database(load_settings()) as db, db.session() as session:
        for label in ("Item", "Entity"):  # IN TRANSACTIONS: an auto-commit query
            session.run(
                f"MATCH (n:{label}) CALL (n) {{ SET n.textEmbedding = "
                "[x IN range(1, 384) | rand() - 0.5], n.textEmbeddingModel = 'bench-random' "
                "} IN TRANSACTIONS OF 5000 ROWS"
            ).consume()
    hdgi = config_file(f"epochs = {hdgi_epochs}\n")
    kgctl("train", "hdgi", "--domain", "movies", "--config", hdgi, "--no-reuse")
    quick = config_file(
        'max_epochs = 2\neval_every = 2\nloss = "sampled_ce"\nnum_negatives = 256\n'
    )
    kgctl("train", "retriever", "--user", "kg", "--item", "random", "--config", quick)


def user_sessions(count: int) -> list[list[str]]:
    """The first SESSION_LENGTH movies of `count` users with at least that many."""
    with open_database(load_settings()) as db:
        rows = db.query(
            "MATCH (u:User)-[r:RATED]->(i:Movie) WITH u, r, i ORDER BY u.id, r.pos "
            "WITH u, collect(i.id) AS items WHERE size(items) >= $n "
            "RETURN items[0..$n] AS items LIMIT $count",
            n=SESSION_LENGTH,
            count=count,
        )
    return [row["items"] for row in rows]


@dataclass
class LoadResult:
    endpoint: str
    clients: int
    requests: int
    failed: int
    seconds: float
    p50_ms: float
    p99_ms: float
    per_second: float
    errors: list[str]
    """The first few failures: status and error, or the exception."""


async def load(
    url: str, token: str, endpoint: str, bodies: list[dict], clients: int, seconds: float
) -> LoadResult:
    latencies: list[float] = []
    failed = 0
    errors: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, limits=limits) as http:
        deadline = time.perf_counter() + seconds

        async def client(number: int) -> None:
            nonlocal failed
            turn = number
            while time.perf_counter() < deadline:
                body = bodies[turn % len(bodies)]
                turn += clients
                started = time.perf_counter()
                try:
                    reply = await http.post(endpoint, json=body)
                    ok = reply.status_code == 200
                    problem = f"{reply.status_code} {reply.text[:200]}"
                    reply.json()
                except (httpx.HTTPError, ValueError) as error:
                    ok, problem = False, f"{type(error).__name__}: {error}"
                latencies.append(time.perf_counter() - started)
                if not ok:
                    failed += 1
                    if len(errors) < 5:
                        errors.append(problem)

        started = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(clients)))
        elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return LoadResult(
        endpoint, clients, len(latencies), failed, round(elapsed, 1),
        round(cuts[49] * 1000, 2), round(cuts[98] * 1000, 2), round(len(latencies) / elapsed, 1),
        errors,
    )  # fmt: skip


def cli_seconds(run: str, session: list[str], calls: int) -> float:
    """Mean wall seconds of `kgctl recommend` (paths 0, JSON) for the same session."""
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        subprocess.run(
            [KGCTL, "recommend", "--run", run,
             "-s", ",".join(session), "-k", "10", "--paths", "0", "--json"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        times.append(time.perf_counter() - started)
    return statistics.mean(times)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


async def soak(url: str, token: str, bodies: list[dict], pid: int, seconds: float) -> dict:
    """64 clients on /recommend for `seconds`, the service's RSS every 10 s."""
    samples: list[tuple[float, float]] = []
    started = time.perf_counter()

    async def sample() -> None:
        while time.perf_counter() - started < seconds:
            samples.append((round(time.perf_counter() - started), rss_mib(pid)))
            await asyncio.sleep(10)

    sampler = asyncio.create_task(sample())
    result = await load(url, token, "/recommend", bodies, 64, seconds)
    await sampler
    samples.append((round(time.perf_counter() - started), rss_mib(pid)))
    first = [mib for t, mib in samples if t <= 60]
    last = [mib for t, mib in samples if t >= samples[-1][0] - 60]
    return {
        "load": asdict(result),
        "rss_first_minute_mib": round(statistics.mean(first), 1),
        "rss_last_minute_mib": round(statistics.mean(last), 1),
        "rss_max_mib": round(max(mib for _, mib in samples), 1),
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prepare", choices=["films", "scale"])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--hdgi-epochs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=20.0, help="per load level")
    parser.add_argument("--cli-calls", type=int, default=3)
    parser.add_argument("--soak", type=float, default=0.0, help="seconds at 64 clients")
    parser.add_argument("--label", default=None, help="results file name")
    parser.add_argument("--clients", default="1,8,64", help="load levels of /recommend")
    args = parser.parse_args()
    if args.prepare == "films":
        prepare_films()
    elif args.prepare == "scale":
        prepare_scale(args.items, args.hdgi_epochs)
    settings = load_settings()
    with open_database(settings) as db:
        run = latest_session_model(db, Domain.MOVIES)
        items = db.query("MATCH (i:Movie) RETURN count(i) AS c")[0]["c"]
    sessions = user_sessions(200)
    bodies = [{"items": s, "k": 10, "domain": "movies"} for s in sessions]
    print(f"run {run}, {items:,} movies, {len(sessions)} sessions of {SESSION_LENGTH}")
    results: dict = {"run": run, "items": items, "cpus": os.cpu_count()}
    with (
        tempfile.TemporaryDirectory() as state,
        service_beside(settings, settings.kgstore_artifacts, Path(state)) as (url, token, service),
    ):
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            firsts = [http.post("/recommend", json=b).json()["items"][0]["item"] for b in bodies]
        explains = [
            {"items": s, "target": t, "paths": 1} for s, t in zip(sessions, firsts, strict=True)
        ]
        loads = []
        for clients in map(int, args.clients.split(",")):
            loads.append(asyncio.run(load(url, token, "/recommend", bodies, clients, args.seconds)))
            print(loads[-1], flush=True)
        for clients in (1, 8):
            loads.append(asyncio.run(load(url, token, "/explain", explains, clients, args.seconds)))
            print(loads[-1], flush=True)
        results["loads"] = [asdict(result) for result in loads]
        results["service_rss_mib"] = round(rss_mib(service.pid()), 1)
        if args.soak:
            results["soak"] = asyncio.run(soak(url, token, bodies, service.pid(), args.soak))
            print({k: v for k, v in results["soak"].items() if k != "samples"}, flush=True)
        RESULTS.mkdir(exist_ok=True)
        log = RESULTS / f"serve-{args.label or args.prepare or 'graph'}.service.log"
        log.write_text(service.logfile.read_text(errors="replace"))
    cli = cli_seconds(run, sessions[0], args.cli_calls)
    best = max(r.per_second for r in loads if r.endpoint == "/recommend")
    eight = next((r for r in loads if r.endpoint == "/recommend" and r.clients == 8), loads[0])
    results["cli_seconds_per_call"] = round(cli, 2)
    results["throughput_vs_cli"] = round(best * cli, 1)
    print(
        f"kgctl recommend: {cli:.2f} s a call ({1 / cli:.2f}/s); service best {best:.1f}/s = "
        f"{best * cli:.0f}x the CLI (target 50x); /recommend p99 at "
        f"{eight.clients} clients {eight.p99_ms} ms (target at 8: 20 ms)"
    )
    out = RESULTS / f"serve-{args.label or args.prepare or 'graph'}.json"
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
