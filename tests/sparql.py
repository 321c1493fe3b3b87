"""Where the DBpedia tests' SPARQL endpoint comes from, and real HTTP servers that stand
between it and the client (to count requests or to fail on purpose).

1. SPARQL_ENDPOINT in the environment names an endpoint that already serves
   tests/data/dbpedia-films-slice.nt (`kgctl sparql up --load` that file, then export
   SPARQL_ENDPOINT=http://127.0.0.1:8890/sparql).
2. Otherwise kgstore's own launcher starts a private Virtuoso on free ports in a
   temporary folder and loads that slice.
3. Otherwise (no virtuoso-t) the tests that need it are skipped — failed under
   REQUIRE_SERVICES=1.
"""

import os
import shutil
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from kgstore.envfile import generate_secret
from kgstore.services.isolated import free_port
from kgstore.services.virtuoso import (
    VIRTUOSO_PASSWORD_LENGTH,
    local_sparql_url,
    stop_virtuoso,
    virtuoso_up,
)
from kgstore.settings import Settings, load_settings
from tests.services import unavailable

FILMS_SLICE = Path(__file__).parent / "data" / "dbpedia-films-slice.nt"


# DBpedia IRIs and an entity name built to break a query that pastes them in.
DBR = "http://dbpedia.org/resource/"
HOSTILE_ENTITY = DBR + "x\"'`]->() DETACH DELETE n //"
HOSTILE_ITEM_URIS = (
    DBR + "Hostile> } ; DELETE WHERE { ?s ?p ?o } #",
    DBR + 'Hostile"quote',
    DBR + "Hostile`]->() DETACH DELETE n //",
    DBR + "Hostile\\u003E",
)


def two_free_ports() -> tuple[int, int]:
    """Virtuoso's HTTP and SQL ports: free now, and not the same."""
    http_port = free_port()
    return http_port, next(port for port in iter(free_port, None) if port != http_port)


def private_virtuoso_settings(root: Path) -> Settings:
    """Settings for a Virtuoso living under `root` on free ports, beside any other."""
    http_port, sql_port = two_free_ports()
    return load_settings(
        kgstore_state_dir=root / "state",
        virtuoso_http_port=http_port,
        virtuoso_sql_port=sql_port,
        virtuoso_dba_password=generate_secret(VIRTUOSO_PASSWORD_LENGTH),
    )


def provide_sparql_endpoint(root: Path) -> Iterator[str]:
    """The URL of an endpoint serving FILMS_SLICE (see the module docstring)."""
    if endpoint := os.environ.get("SPARQL_ENDPOINT"):
        yield endpoint
        return
    if shutil.which("virtuoso-t") is None:
        unavailable(
            "no SPARQL endpoint: SPARQL_ENDPOINT is not set and virtuoso-t is not installed "
            "(apt-get install virtuoso-opensource, or docker/native/provision.sh)"
        )
    settings = private_virtuoso_settings(root)
    virtuoso_up(settings, [FILMS_SLICE])
    try:
        yield local_sparql_url(settings)
    finally:
        stop_virtuoso(settings)


class RecordingProxy:
    """A real HTTP server that forwards SPARQL requests to `target` and records every
    query it receives; `fail_with(query)` may return an HTTP status to answer instead."""

    def __init__(self, target: str, fail_with: Callable[[str], int | None] = lambda _: None):
        self.target = target
        self.fail_with = fail_with
        self.queries: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_port}/sparql"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                query = urllib.parse.parse_qs(body.decode())["query"][0]
                proxy.queries.append(query)
                if (status := proxy.fail_with(query)) is not None:
                    self._answer(status, b"injected failure", "text/plain")
                    return
                request = urllib.request.Request(
                    proxy.target,
                    data=body,
                    headers={
                        "Content-Type": self.headers["Content-Type"],
                        "Accept": self.headers["Accept"],
                    },
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as upstream:
                        self._answer(
                            upstream.status, upstream.read(), upstream.headers["Content-Type"]
                        )
                except urllib.error.HTTPError as exc:
                    self._answer(exc.code, exc.read(), "text/plain")

            def _answer(self, status: int, payload: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_: object) -> None:
                pass

        return Handler

    def __enter__(self) -> "RecordingProxy":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class SilentServer:
    """A real socket that accepts connections, counts them and never answers."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}/sparql"
        self.connections = 0
        self._held: list[socket.socket] = []

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._socket.accept()
            except OSError:
                return
            self.connections += 1
            self._held.append(conn)

    def __enter__(self) -> "SilentServer":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._socket.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self._socket.close()
        for conn in self._held:
            conn.close()
