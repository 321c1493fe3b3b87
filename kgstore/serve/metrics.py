"""What GET /metrics reports, in Prometheus' text format: requests by route and status,
their latency, and the model run each domain is served with.

Each app has its own registry, so several apps in one process (the tests) never share
counts. Routes are labelled by their template (`/recommend`), never by the raw path, so
a scan of made-up URLs cannot grow the label set: unknown paths count as `other`.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "kgstore_serve_requests",
            "HTTP requests answered, by route template, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "kgstore_serve_request_seconds",
            "Time from a request's arrival to its answer, by route template.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.model = Gauge(
            "kgstore_serve_model_info",
            "1 for the retriever run each domain is served with.",
            ["domain", "run", "row", "persona_run"],
            registry=self.registry,
        )
        self.loads = Counter(
            "kgstore_serve_model_loads",
            "Model loads by domain and outcome (loaded, failed).",
            ["domain", "outcome"],
            registry=self.registry,
        )
        self._serving: dict[str, tuple[str, str, str, str]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def serving(self, domain: str, run: str, row: str, persona_run: str | None) -> None:
        """Record that `domain` is now served by `run` (its previous run's line is removed)."""
        previous = self._serving.pop(domain, None)
        if previous is not None:
            self.model.remove(*previous)
        labels = (domain, run, row, persona_run or "")
        self.model.labels(*labels).set(1)
        self._serving[domain] = labels

    def text(self) -> bytes:
        return generate_latest(self.registry)
