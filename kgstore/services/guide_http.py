"""The guide server program: two read-only URLs for Neo4j Browser, with CORS.

Neo4j's own HTTP server serves the Browser but no other files, so the style sheet and
the guide come from this small server (`python -m kgstore.services.guide_http`), started
by `kgctl services up` next to Neo4j and by docker/compose.yml as the `guide` service.

Browser fetches both from its own page (another port, so another origin), and sends
`Cache-Control` and `Pragma` headers with the guide request: Chromium asks first with an
OPTIONS preflight, which must allow those headers, or the guide never loads.
"""

import argparse
import sys
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kgstore.errors import GuideError
from kgstore.services.guide_content import GUIDE_PATH, STYLE_PATH, read_style, render_guide

ROUTES: dict[str, tuple[str, Callable[[], str]]] = {
    STYLE_PATH: ("text/plain; charset=utf-8", read_style),
    GUIDE_PATH: ("text/html; charset=utf-8", render_guide),
}


class GuideHandler(BaseHTTPRequestHandler):
    """GET/HEAD of the routes (read from disk on every request, so edits show at once)."""

    server_version = "kgstore-guide"

    def do_OPTIONS(self) -> None:
        self._reply(HTTPStatus.NO_CONTENT, "text/plain", b"")

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, body: bool) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path not in ROUTES:
            known = ", ".join(ROUTES)
            message = f"no such file; this server has {known}\n"
            self._reply(HTTPStatus.NOT_FOUND, "text/plain", message.encode(), body)
            return
        content_type, produce = ROUTES[path]
        try:
            content = produce().encode("utf-8")
        except GuideError as exc:
            self.log_message("%s", exc)
            self._reply(HTTPStatus.INTERNAL_SERVER_ERROR, "text/plain", f"{exc}\n".encode(), body)
            return
        self._reply(HTTPStatus.OK, content_type, content, body)

    def _reply(
        self, status: HTTPStatus, content_type: str, content: bytes, body: bool = True
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
        requested = self.headers.get("Access-Control-Request-Headers")
        if requested:
            self.send_header("Access-Control-Allow-Headers", requested)
        self.end_headers()
        if body:
            self.wfile.write(content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback)")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    try:
        render_guide()  # a broken template stops the start with its file and line
    except GuideError as exc:
        print(exc, file=sys.stderr)
        return 2
    server = ThreadingHTTPServer((args.host, args.port), GuideHandler)
    print(f"serving {', '.join(ROUTES)} on http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
