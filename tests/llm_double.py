"""A TEST DOUBLE of a hosted LLM: a real local HTTP server that speaks the OpenAI
chat-completions JSON shape (`POST /v1/chat/completions`), as vLLM, Ollama and llama.cpp's
server do. No language model can run on this machine, so the tests of `kgctl generate`
talk to this instead; everything else they touch (Neo4j, the Celery worker) is real.

Its answer to a prompt is `LLMDouble.reply(prompt)`, a deterministic text derived from
the prompt, so a test can tell which prompt produced a stored text. It records every
request it receives, and can be told to fail (HTTP 500) for prompts containing a string,
to answer too slowly, or to think aloud first.
"""

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = "/v1/chat/completions"


@dataclass
class LLMDouble:
    """The double's state: what it received and how it should misbehave."""

    url: str = ""
    """The base URL to configure (GENERATOR_URL), ending in /v1."""
    requests: list[dict[str, Any]] = field(default_factory=list)
    """Every request body received, with its `Authorization` header under `_auth`."""
    fail_on: str | None = None
    """Answer HTTP 500 to prompts that contain this."""
    delay: float = 0.0
    """Seconds to wait before answering."""
    thinking: bool = False
    """Start each answer with a `<think>…</think>` block, as reasoning models such as Qwen3
    (the paper's) do."""
    release: threading.Event = field(default_factory=threading.Event)

    @staticmethod
    def reply(prompt: str) -> str:
        return f"double text {hashlib.sha256(prompt.encode()).hexdigest()[:12]}"

    @property
    def prompts(self) -> list[str]:
        return [request["messages"][-1]["content"] for request in self.requests]


def _handler(double: LLMDouble, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path != PATH:
                self._answer(404, {"error": {"message": f"no route {self.path}"}})
                return
            with lock:
                double.requests.append({**body, "_auth": self.headers.get("Authorization")})
            if double.delay:
                double.release.wait(double.delay)
            prompt = body["messages"][-1]["content"]
            content = double.reply(prompt)
            if double.thinking:
                content = f"<think>\nThe user wants {content}.\n</think>\n\n{content}"
            if double.fail_on is not None and double.fail_on in prompt:
                self._answer(500, {"error": {"message": "the double was told to fail"}})
                return
            self._answer(
                200,
                {
                    "object": "chat.completion",
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": content},
                        }
                    ],
                },
            )

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: pytest shows failures, not every request."""

    return Handler


@contextmanager
def llm_double() -> Iterator[LLMDouble]:
    """The double serving on a free port of 127.0.0.1 until the block ends."""
    double = LLMDouble()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(double, threading.Lock()))
    server.daemon_threads = True
    double.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield double
    finally:
        double.release.set()  # let a slow answer go, so shutdown does not wait for it
        server.shutdown()
        server.server_close()
        thread.join()
