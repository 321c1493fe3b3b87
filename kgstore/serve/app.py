"""The HTTP service: recommendations for anonymous sessions, their KG explanations, title
search, health, metrics, and the session page.

Every request but GET /healthz needs `Authorization: Bearer KGSTORE_SERVE_TOKEN`; the
page's own files (/, /static/…) and the API docs (/docs, /openapi.json) hold no data and
are served without it (the page asks for the token, or reads it from `#token=` in its
address, and sends it with each call). Every refusal is a 4xx with a JSON body
`{"error": "…"}` that names the problem (the field, the unknown item ids, the limit).
"""

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.errors import KgstoreError, ServiceError, UnknownItems
from kgstore.graph.mapping import Domain
from kgstore.serve.batching import SessionBatcher
from kgstore.serve.graph_queries import explain, persona_neighbours, search_titles
from kgstore.serve.metrics import ServiceMetrics
from kgstore.serve.models import ModelCache, Poller
from kgstore.serve.web import STATIC_DIR, vendor_dir

MAX_BODY_BYTES = 64 * 1024
MAX_SESSION = 200
MAX_K = 100
log = logging.getLogger("kgstore.serve")


class RecommendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[str] = Field(
        min_length=1, max_length=MAX_SESSION, description="The session's item ids, in order."
    )
    k: int = Field(10, ge=1, le=MAX_K, description="How many items.")
    domain: Domain | None = Field(
        None, description="movies or books; optional when `run` is given."
    )
    run: str | None = Field(None, description="A retriever run (default: the domain's newest).")
    include_session: bool = Field(False, description="Also rank the session's own items.")
    neighbours: int = Field(
        0, ge=0, le=50, description="Also the known users nearest to the session's persona."
    )


class ExplainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[str] = Field(min_length=1, max_length=MAX_SESSION)
    target: str = Field(min_length=1, description="The recommended item to explain.")
    paths: int = Field(3, ge=1, le=20, description="How many paths, best first.")


class ServiceState:
    """What the routes share: the graph, the models and the metrics."""

    def __init__(self, db: Database, store: ArtifactStore, token: str) -> None:
        self.db = db
        self.token = token
        self.metrics = ServiceMetrics()
        self.batcher = SessionBatcher()
        self.models = ModelCache(
            db,
            store,
            on_load=lambda m: self.metrics.serving(m.domain.value, m.run, m.row, m.persona_run),
            on_failure=lambda domain: self.metrics.loads.labels(domain, "failed").inc(),
        )


def create_app(db: Database, store: ArtifactStore, token: str, poll_seconds: float) -> FastAPI:
    """The service over an open database. Models load when it starts (every domain with a
    retriever that serves sessions) and are looked for again every `poll_seconds`."""
    if not token:
        raise ServiceError("KGSTORE_SERVE_TOKEN is empty: the service needs a bearer token")
    state = ServiceState(db, store, token)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.models.refresh()
        poller = Poller(state.models.refresh, poll_seconds)
        poller.start()
        yield
        poller.stop()
        state.batcher.stop()

    app = FastAPI(
        title="kgstore recommendations",
        summary="Top-K items for an anonymous session, explained by knowledge-graph paths.",
        lifespan=lifespan,
    )
    app.state.service = state
    _add_error_handlers(app)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(RequestMetrics, metrics=state.metrics)  # outermost: 413s count too
    authorised = [Depends(_bearer(token))]

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, Any]:
        """Up, and the run each domain is served with (no token needed)."""
        return {
            "status": "ok",
            "models": {domain: m.run for domain, m in state.models.serving().items()},
        }

    @app.get("/metrics", tags=["service"], dependencies=authorised)
    def metrics() -> Response:
        """Prometheus text format: requests, latency histograms, the model runs in use."""
        return Response(state.metrics.text(), media_type="text/plain; version=0.0.4")

    @app.post("/admin/reload", tags=["service"], dependencies=authorised)
    def reload() -> dict[str, Any]:
        """Look for a newer finished retriever now (the service also polls every
        KGSTORE_SERVE_POLL seconds); requests keep being answered while it loads."""
        changed = [asdict(change) for change in state.models.refresh()]
        serving = {domain: m.run for domain, m in state.models.serving().items()}
        return {"changed": changed, "models": serving}

    @app.post("/recommend", tags=["recommend"], dependencies=authorised)
    async def recommend(body: RecommendRequest) -> dict[str, Any]:
        """The top `k` items after the session, with titles and scores; the model run and
        the persona run it used (a kg retriever infers the session's persona)."""
        model = state.models.loaded(body.domain, body.run) or await run_in_threadpool(
            state.models.get, body.domain, body.run
        )
        exclude = not body.include_session
        ranked = state.batcher.submit(model, body.items, body.k, exclude)
        top, persona = await asyncio.wrap_future(ranked)
        answer: dict[str, Any] = {
            "run": model.run,
            "row": model.row,
            "domain": model.domain.value,
            "persona_run": model.persona_run,
            "notes": model.notes,
            "items": [
                {"item": item, "title": model.titles.get(item), "score": score}
                for item, score in top
            ],
        }
        if body.neighbours:
            vector = [] if persona is None else persona.tolist()
            near, why = await run_in_threadpool(
                persona_neighbours, db, model.domain, model.persona_run, vector, body.neighbours
            )
            answer["neighbours"] = near
            if why:
                answer["neighbours_note"] = why
        return answer

    @app.post("/explain", tags=["recommend"], dependencies=authorised)
    def explain_item(body: ExplainRequest) -> dict[str, Any]:
        """Why `target` follows the session: the best KG paths from the session's items
        (cypher/recommend/session_paths.cypher), each as text and as nodes and rels."""
        return asdict(explain(db, body.items, body.target, body.paths))

    @app.get("/items", tags=["recommend"], dependencies=authorised)
    def items(
        q: Annotated[str, Query(min_length=1, max_length=200, description="Words of a title.")],
        domain: Domain | None = None,
        k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
    ) -> dict[str, Any]:
        """Items whose titles hold every word typed (each as a prefix), best first."""
        return {"items": search_titles(db, q, domain, k)}

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    vendored = vendor_dir()
    if vendored is not None:
        app.mount("/vendor", StaticFiles(directory=vendored), name="vendor")
    return app


def _bearer(token: str) -> Callable[..., None]:
    scheme = HTTPBearer(auto_error=False, description="KGSTORE_SERVE_TOKEN from .env")

    async def check(  # async: a plain def would cost every request a thread hop
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(scheme)],
    ) -> None:
        if credentials is None:
            raise HTTPException(401, "no bearer token: send Authorization: Bearer <token>")
        if not secrets.compare_digest(credentials.credentials.encode(), token.encode()):
            raise HTTPException(403, "wrong bearer token (KGSTORE_SERVE_TOKEN in .env)")

    return check


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"] if part != "body") or "body"
            problems.append(f"{where}: {error['msg']}")
        return _error(422, "; ".join(problems))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such page: {request.method} {request.url.path}"
        return _error(exc.status_code, message)

    @app.exception_handler(UnknownItems)
    async def unknown(request: Request, exc: UnknownItems) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(ServiceError)
    async def unavailable(request: Request, exc: ServiceError) -> JSONResponse:
        return _error(503, str(exc))

    @app.exception_handler(KgstoreError)
    async def refused(request: Request, exc: KgstoreError) -> JSONResponse:
        return _error(400, str(exc))

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return _error(500, f"internal error ({type(exc).__name__}): see the service log")


class RequestMetrics:
    """Counts and times every HTTP request by its route template, as plain ASGI (the
    decorator form of a middleware costs each request a task and a queue)."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            template = getattr(scope.get("route"), "path", None) or "other"
            self.metrics.observe(template, scope["method"], status, time.perf_counter() - started)


class BodyLimit:
    """Refuses a request body over `limit` bytes with 413, whether it says its length
    (Content-Length) or streams it in chunks, before any route reads it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        too_big = f"request body over {self.limit:,} bytes"
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _error(413, too_big)(scope, receive, send)
            return
        body, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body.append(message.get("body", b""))
            size += len(body[-1])
            if size > self.limit:
                await _error(413, too_big)(scope, receive, send)
                return
            more = message.get("more_body", False)
        whole = b"".join(body)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": whole, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
