"""A `Generator` that speaks the OpenAI chat-completions API (`POST {base}/chat/completions`),
which vLLM, Ollama (under `/v1`), llama.cpp's server and hosted APIs all serve.

The chat API takes one conversation per request, so a batch of prompts is sent as
concurrent requests (`GENERATOR_CONCURRENCY`); servers such as vLLM batch them on the
accelerator themselves. Each request has a timeout (`GENERATOR_TIMEOUT`) and is retried
with exponential backoff on what may pass (no connection, timeout, 429, 5xx); other
answers (401, 404 for an unknown model, …) fail at once. Every failure is a
`GenerationError` naming the URL and the setting to check. Temperature 0, so rerunning a
prompt asks for the same text (servers do not promise it bit for bit). A reasoning
model's leading `<think>…</think>` block (Qwen3, the paper's model) is dropped.
"""

import re
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx

from kgstore.errors import GenerationError
from kgstore.generation.base import Generator
from kgstore.settings import Settings

THINKING = re.compile(r"^\s*<think>.*?</think>", re.DOTALL)
RETRYABLE = frozenset({408, 409, 425, 429})
HINTS = {
    401: "check GENERATOR_API_KEY",
    403: "check GENERATOR_API_KEY",
    404: "check that GENERATOR_URL is the API's base (it usually ends in /v1) and that the "
    "server serves GENERATOR_MODEL",
}
SHOWN_BODY = 300
"""Characters of an error answer quoted in the message."""


class OpenAICompatibleGenerator(Generator):
    """`generate` posts one chat completion per prompt to `base_url`/chat/completions.

    Args:
        base_url: the API's base, e.g. http://127.0.0.1:8000/v1 (vLLM),
            http://127.0.0.1:11434/v1 (Ollama).
        model: the model name the server serves; recorded with every text.
        api_key: sent as a bearer token when given.
        timeout: seconds per request.
        retries: further attempts after a failure that may pass.
        concurrency: requests in flight at a time.
        backoff: seconds before the first retry, doubled for each next one.
        max_tokens: the longest completion asked for.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 120.0,
        retries: int = 2,
        concurrency: int = 8,
        backoff: float = 1.0,
        max_tokens: int = 512,
    ) -> None:
        self.model_name = model
        self.url = f"{base_url.rstrip('/')}/chat/completions"
        self.timeout = timeout
        self.retries = retries
        self.concurrency = concurrency
        self.backoff = backoff
        self.max_tokens = max_tokens
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def __repr__(self) -> str:
        return f"OpenAICompatibleGenerator(url={self.url!r}, model={self.model_name!r})"

    def generate(self, prompts: Sequence[str]) -> list[str]:
        if not prompts:
            return []
        workers = min(self.concurrency, len(prompts))
        with (
            httpx.Client(timeout=self.timeout, headers=self._headers) as client,
            ThreadPoolExecutor(workers, thread_name_prefix="generator") as pool,
        ):
            futures = [pool.submit(self._complete, client, prompt) for prompt in prompts]
            try:
                return [future.result() for future in futures]
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    def _complete(self, client: httpx.Client, prompt: str) -> str:
        body = {
            "model": self.model_name,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": 0,
            "max_tokens": self.max_tokens,
        }
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                response = client.post(self.url, json=body)
            except httpx.TimeoutException:
                problem = f"did not answer within {self.timeout:g} s (GENERATOR_TIMEOUT)"
            except httpx.TransportError as exc:
                problem = f"cannot be reached ({exc.__class__.__name__}: {exc})"
            else:
                if response.status_code == 200:
                    return self._completion_text(response)
                problem = f"answered HTTP {response.status_code}: {response.text[:SHOWN_BODY]!r}"
                status = response.status_code
                if status < 500 and status not in RETRYABLE:
                    raise self._error(problem, attempt, HINTS.get(status))
            if attempt < attempts:
                time.sleep(self.backoff * 2 ** (attempt - 1))
        raise self._error(problem, attempts)

    def _completion_text(self, response: httpx.Response) -> str:
        try:
            choice = response.json()["choices"][0]
            content = choice["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            raise self._error(
                f"answered something that is not a chat completion: {response.text[:SHOWN_BODY]!r}",
                1,
            ) from None
        text = THINKING.sub("", content).strip()
        if not text:
            raise self._error(
                f"answered an empty completion (finish_reason {choice.get('finish_reason')!r})", 1
            )
        return text

    def _error(self, problem: str, attempts: int, hint: str | None = None) -> GenerationError:
        return GenerationError(
            f"the text generator at {self.url} (GENERATOR_URL, model {self.model_name!r} in "
            f"GENERATOR_MODEL) {problem}, after {attempts} attempt(s); "
            + (hint or "check that the server runs and serves that model")
            + ", or empty GENERATOR_URL to write the non-LLM texts instead"
        )


def generator_from_settings(settings: Settings) -> OpenAICompatibleGenerator | None:
    """The configured generator, or None when GENERATOR_URL is empty."""
    if not settings.generator_url:
        return None
    key = settings.generator_api_key
    return OpenAICompatibleGenerator(
        settings.generator_url,
        settings.generator_model,
        api_key=key.get_secret_value() if key is not None else None,
        timeout=settings.generator_timeout,
        retries=settings.generator_retries,
        concurrency=settings.generator_concurrency,
    )
