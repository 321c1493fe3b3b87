"""A polite SPARQL SELECT client (SPARQLWrapper underneath) for public endpoints.

Polite: at most one request per `min_interval` seconds (retries included), a timeout on
every request, exponential backoff between attempts, a User-Agent that names kgstore,
and a cache (`sparql_cache`) so that no query is ever sent twice. Errors that another
attempt cannot fix (a malformed query, refused credentials, a too-long URI) are not
retried; everything else — timeouts, refused connections, 5xx, 429, a 404 from a proxy,
a body that is not SPARQL JSON — is, and a query that still fails raises `QueryFailed`
carrying the query text, so callers can quarantine it and go on.
"""

import http.client
import json
import time
import urllib.error
from dataclasses import dataclass

from SPARQLWrapper import JSON, POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import (
    QueryBadFormed,
    SPARQLWrapperException,
    Unauthorized,
    URITooLong,
)

from kgstore import __version__
from kgstore.errors import InvalidResponse, QueryFailed
from kgstore.ingest.sources.sparql_cache import ResultCache
from kgstore.settings import Settings

USER_AGENT = f"kgstore/{__version__} (knowledge-graph ingest; SPARQLWrapper)"
Binding = dict[str, dict[str, str]]


_PERMANENT = (QueryBadFormed, Unauthorized, URITooLong)
_RETRYABLE = (
    SPARQLWrapperException,
    urllib.error.URLError,
    http.client.HTTPException,
    OSError,
    InvalidResponse,
)


@dataclass(frozen=True)
class FetchPolicy:
    """How hard and how often to ask: seconds per request (whole seconds, at least 1:
    SPARQLWrapper truncates to int, and 0 would mean none), extra attempts, first backoff
    (doubled after every failed attempt), the least time between two requests, and after
    how many queries failing in a row (each after all its attempts) the client stops
    asking for the rest of the run — an endpoint that is down (or no network) then costs
    a few queries' retries, not every batch's."""

    timeout: int = 60
    retries: int = 4
    backoff: float = 2.0
    min_interval: float = 1.0
    give_up_after: int = 3

    def __post_init__(self) -> None:
        if not isinstance(self.timeout, int) or self.timeout < 1:
            raise ValueError(f"timeout must be whole seconds, at least 1, not {self.timeout!r}")

    @classmethod
    def from_settings(cls, settings: Settings) -> "FetchPolicy":
        return cls(
            settings.sparql_timeout,
            settings.sparql_retries,
            settings.sparql_backoff,
            settings.sparql_min_interval,
            settings.sparql_give_up_after,
        )


@dataclass
class FetchStats:
    """What a client did: HTTP requests sent, answers taken from the cache, failed attempts."""

    requests: int = 0
    cache_hits: int = 0
    failed_attempts: int = 0


def parse_bindings(body: bytes) -> list[Binding]:
    try:
        return json.loads(body)["results"]["bindings"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidResponse(f"not a SPARQL JSON result ({exc!r}): {body[:200]!r}") from None


class SparqlClient:
    """SELECT queries against one endpoint, cached, rate-limited and retried."""

    def __init__(
        self, endpoint: str, policy: FetchPolicy, cache: ResultCache, refresh: bool = False
    ) -> None:
        self.endpoint = endpoint
        self.policy = policy
        self.cache = cache
        self.refresh = refresh
        self.stats = FetchStats()
        self._last_request = float("-inf")
        self._failed_in_a_row = 0

    def select(self, query: str) -> list[Binding]:
        """The result rows of one query: from the cache, else from the endpoint."""
        if not self.refresh and (cached := self.cache.get(self.endpoint, query)) is not None:
            try:
                rows = parse_bindings(cached)
            except InvalidResponse:
                pass  # an unreadable entry is simply fetched again
            else:
                self.stats.cache_hits += 1
                return rows
        body, rows = self._fetch(query)
        self.cache.put(self.endpoint, query, body)
        return rows

    def select_paged(self, query: str, page_size: int) -> list[Binding]:
        """All rows of a query that ends in a stable ORDER BY, page by page (LIMIT/OFFSET),
        until a page comes back short — so endpoints that cap result sizes lose nothing."""
        rows: list[Binding] = []
        offset = 0
        while True:
            page = self.select(f"{query}\nLIMIT {page_size} OFFSET {offset}")
            rows.extend(page)
            if len(page) < page_size:
                return rows
            offset += page_size

    def _fetch(self, query: str) -> tuple[bytes, list[Binding]]:
        if self._failed_in_a_row >= self.policy.give_up_after:
            raise QueryFailed(
                f"not asked: {self.endpoint} failed {self._failed_in_a_row} queries in a row, "
                "so this run asks it nothing more (SPARQL_GIVE_UP_AFTER); run again to resume",
                query,
            )
        attempts = self.policy.retries + 1
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.policy.backoff * 2 ** (attempt - 1))
            try:
                body = self._request(query)
                rows = parse_bindings(body)
                self._failed_in_a_row = 0
                return body, rows
            except _PERMANENT as exc:
                self.stats.failed_attempts += 1
                raise QueryFailed(f"{self.endpoint} refused the query: {exc}", query) from None
            except _RETRYABLE as exc:
                self.stats.failed_attempts += 1
                error = exc
        self._failed_in_a_row += 1
        raise QueryFailed(
            f"{self.endpoint} failed {attempts} times; last: {error.__class__.__name__}: {error}",
            query,
        )

    def _request(self, query: str) -> bytes:
        wait = self._last_request + self.policy.min_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_request = time.monotonic()
        self.stats.requests += 1
        wrapper = SPARQLWrapper(self.endpoint, agent=USER_AGENT)
        wrapper.setQuery(query)
        wrapper.setMethod(POST)
        wrapper.setReturnFormat(JSON)
        wrapper.setTimeout(self.policy.timeout)
        response = wrapper.query().response
        try:
            return response.read()
        finally:
            response.close()
