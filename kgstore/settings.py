"""The one settings object: environment variables, then the git-ignored `.env` file.

Every field maps to the upper-case environment variable of the same name
(`neo4j_uri` <- `NEO4J_URI`). `.env` is looked up in the working directory unless
`KGSTORE_ENV_FILE` points elsewhere. Environment variables win over the file.
"""

import os
import re
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kgstore.errors import SettingsError, plain_message

NEO4J_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
Port = Annotated[int, Field(ge=1, le=65535)]
Seconds = Annotated[float, Field(ge=0)]
# isql-vt takes the password as a command-line word and treats words with `=` as options;
# virtuoso-t's +pwddba (which sets it at creation) silently fails beyond 20 characters.
VIRTUOSO_PASSWORD = re.compile(r"^[A-Za-z0-9._~-]{12,20}$")


class Device(StrEnum):
    """Where training runs: `auto` picks CUDA when torch sees a GPU, else the CPU."""

    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"


def env_file_path() -> Path:
    """The `.env` file settings are read from and generated secrets written to."""
    return Path(os.environ.get("KGSTORE_ENV_FILE", ".env"))


class Settings(BaseSettings):
    """All configuration of kgstore, its services and its workers."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    neo4j_uri: str = "bolt://127.0.0.1:7687"
    neo4j_user: str = "neo4j"
    neo4j_password: str | None = None
    neo4j_database: str = "neo4j"
    neo4j_http_port: Port = 7474
    neo4j_version: str = "5.26.19"
    neo4j_browser_version: str = "5.24.0"
    # Serves cypher/browser.grass and the Browser guide (kgstore/services/guide_server.py);
    # unset: the HTTP port + 1, so stacks with different ports never share it.
    neo4j_guide_port: Port | None = None
    neo4j_heap: str = "1g"
    neo4j_pagecache: str = "512m"

    redis_url: str | None = None
    redis_port: Port = 6380

    # Celery Flower (`kgctl services up --flower`): loopback only, HTTP basic auth as
    # FLOWER_USER with FLOWER_PASSWORD (generated into .env by `kgctl services up`).
    flower_port: Port = 5555
    flower_user: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]+$")] = "kgstore"
    flower_password: str | None = None

    sparql_endpoint: str = "https://dbpedia.org/sparql"
    # whole seconds: SPARQLWrapper truncates to int, and 0 would mean no timeout at all
    sparql_timeout: Annotated[int, Field(ge=1)] = 60
    sparql_retries: Annotated[int, Field(ge=0, le=20)] = 4
    sparql_backoff: Seconds = 2.0
    sparql_min_interval: Seconds = 1.0
    sparql_give_up_after: Annotated[int, Field(ge=1)] = 3
    sparql_items_per_query: Annotated[int, Field(ge=1, le=1000)] = 50
    sparql_page_size: Annotated[int, Field(ge=1, le=10000)] = 10000

    virtuoso_http_port: Port = 8890
    virtuoso_sql_port: Port = 1111
    virtuoso_dba_password: str | None = None

    # The LLM of `kgctl generate` (any OpenAI-compatible server); an empty URL means none:
    # the documented non-LLM texts are written instead.
    generator_url: str = ""
    generator_model: str = ""
    generator_api_key: SecretStr | None = None
    generator_timeout: Annotated[float, Field(gt=0)] = 120.0
    generator_retries: Annotated[int, Field(ge=0, le=20)] = 2
    generator_concurrency: Annotated[int, Field(ge=1, le=256)] = 8

    # `kgctl serve`: the recommendation service and its session page. Loopback unless the
    # host is changed; every request but /healthz needs KGSTORE_SERVE_TOKEN as a bearer
    # token (generated into .env by `kgctl serve` / `kgctl services up --serve`).
    kgstore_serve_host: str = "127.0.0.1"
    kgstore_serve_port: Port = 8765
    kgstore_serve_token: SecretStr | None = None
    # How often the service looks for a newer finished retriever (0: only on
    # POST /admin/reload).
    kgstore_serve_poll: Seconds = 30.0

    kgstore_state_dir: Path = Path(".kgstore")
    kgstore_artifacts: str = ".kgstore/artifacts"
    kgstore_device: Device = Device.AUTO
    kgstore_java: str | None = None
    kgstore_task_time_limit: Annotated[int, Field(ge=60)] = 6 * 3600
    kgstore_worker_concurrency: Annotated[int, Field(ge=1)] = 1
    # Off a terminal (a log file, CI) long commands print a plain progress line this often.
    kgstore_progress_interval: Annotated[float, Field(gt=0)] = 30.0

    @field_validator("neo4j_uri")
    @classmethod
    def _check_neo4j_uri(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in NEO4J_SCHEMES or not parts.hostname:
            raise ValueError(
                f"expected e.g. bolt://127.0.0.1:7687 (schemes: {', '.join(NEO4J_SCHEMES)})"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("redis", "rediss"):
            raise ValueError("expected redis://:password@host:port/db")
        return value

    @field_validator("sparql_endpoint")
    @classmethod
    def _check_sparql_endpoint(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http(s) URL such as https://dbpedia.org/sparql")
        return value

    @field_validator("generator_url")
    @classmethod
    def _check_generator_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise ValueError(
                "expected the server's OpenAI-compatible base URL such as "
                "http://127.0.0.1:8000/v1, or empty for no generator"
            )
        return value.rstrip("/")

    @model_validator(mode="after")
    def _check_generator_model(self) -> "Settings":
        if self.generator_url and not self.generator_model:
            raise ValueError(
                "GENERATOR_URL is set but GENERATOR_MODEL is empty: name the model the "
                "server serves (e.g. Qwen/Qwen3-8B)"
            )
        return self

    @field_validator("virtuoso_dba_password")
    @classmethod
    def _check_virtuoso_password(cls, value: str | None) -> str | None:
        if value is not None and not VIRTUOSO_PASSWORD.match(value):
            raise ValueError("expected 12 to 20 of the characters A-Z a-z 0-9 . _ ~ -")
        return value

    @model_validator(mode="after")
    def _check_virtuoso_ports_differ(self) -> "Settings":
        if self.virtuoso_http_port == self.virtuoso_sql_port:
            raise ValueError(
                f"VIRTUOSO_HTTP_PORT and VIRTUOSO_SQL_PORT are both {self.virtuoso_http_port}"
            )
        return self

    @field_validator("neo4j_heap", "neo4j_pagecache")
    @classmethod
    def _check_memory(cls, value: str) -> str:
        if not value[:-1].isdigit() or value[-1].lower() not in "kmg":
            raise ValueError("expected a size such as 512m or 1g")
        return value

    @cached_property
    def neo4j_bolt_port(self) -> int:
        """The Bolt port the local launcher binds, taken from NEO4J_URI."""
        return urlsplit(self.neo4j_uri).port or 7687

    @cached_property
    def neo4j_host(self) -> str:
        return urlsplit(self.neo4j_uri).hostname or "127.0.0.1"

    @cached_property
    def neo4j_browser_url(self) -> str:
        return f"http://{self.neo4j_host}:{self.neo4j_http_port}/browser/"

    @cached_property
    def state_dir(self) -> Path:
        return self.kgstore_state_dir.resolve()

    @property
    def visibility_timeout(self) -> int:
        """Redis redelivers unacknowledged tasks after this; it must outlast any task."""
        return self.kgstore_task_time_limit + 3600

    def _require(self, field: str, generated_by: str, otherwise: str) -> str:
        """The value of a secret setting, or an error saying how to get one."""
        value = getattr(self, field)
        if not value:
            raise SettingsError(
                f"{field.upper()} is not set: run `{generated_by}` (it generates one into "
                f"{env_file_path()}) or {otherwise}."
            )
        return value

    def require_neo4j_password(self) -> str:
        return self._require(
            "neo4j_password", "kgctl services up", "export NEO4J_PASSWORD for an existing server"
        )

    def require_virtuoso_password(self) -> str:
        return self._require(
            "virtuoso_dba_password",
            "kgctl sparql up",
            "export the password of the existing Virtuoso database",
        )

    def require_redis_url(self) -> str:
        return self._require(
            "redis_url", "kgctl services up", "export REDIS_URL=redis://:password@host:port/0"
        )


def load_settings(**overrides: object) -> Settings:
    """Read settings; a malformed value raises SettingsError naming its variable."""
    try:
        return Settings(_env_file=env_file_path(), **overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']).upper()}: {plain_message(err['msg'])}"
            for err in exc.errors()
        )
        raise SettingsError(
            f"invalid setting in environment or {env_file_path()}: {problems}"
        ) from None
