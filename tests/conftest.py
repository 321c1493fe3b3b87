"""Shared fixtures: the real services, a db, a Celery client app."""

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from celery import Celery

from kgstore.db import Database, open_database
from kgstore.errors import KgstoreError
from kgstore.graph.clear import clear_graph
from kgstore.ingest.session import IngestOptions
from kgstore.schema import apply_schema
from kgstore.settings import Settings, load_settings
from tests.services import (
    configured_services_answer,
    docker_engine_answers,
    start_containers,
    unavailable,
)
from tests.sparql import provide_sparql_endpoint
from workers.app import create_app
from workers.launcher import WORKERS, ping_workers


@pytest.fixture(scope="session")
def settings() -> Iterator[Settings]:
    with ExitStack() as stack:
        try:
            configured = load_settings()
            problem = configured_services_answer(configured)
        except KgstoreError as exc:
            configured, problem = None, str(exc)
        if problem is None:
            yield configured
        elif docker_engine_answers():
            yield start_containers(stack)
        else:
            unavailable(f"no services: {problem} (and no Docker engine for testcontainers)")


@pytest.fixture(scope="session")
def db(settings: Settings) -> Iterator[Database]:
    with open_database(settings) as database:
        yield database


@pytest.fixture(scope="session")
def celery_app(settings: Settings) -> Iterator[Celery]:
    """A client app; the workers must already run (`kgctl services up` starts them)."""
    expected = {spec.node_name() for spec in WORKERS}
    answering = ping_workers(settings)
    if not expected <= answering:
        unavailable(f"Celery workers {sorted(expected - answering)} do not answer a ping")
    app = create_app(settings)
    yield app
    app.close()


@pytest.fixture
def empty_graph(db: Database) -> Database:
    """The shared database emptied (schema applied): for tests that count what they wrote."""
    clear_graph(db)
    apply_schema(db)
    return db


@pytest.fixture
def ingest_options(tmp_path: Path) -> IngestOptions:
    """Small batches (so batching is exercised) and a per-test quarantine folder."""
    return IngestOptions(batch_size=500, quarantine_dir=tmp_path / "quarantine")


@pytest.fixture(scope="session")
def sparql_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SPARQL endpoint serving tests/data/dbpedia-films-slice.nt (see tests/sparql.py)."""
    yield from provide_sparql_endpoint(tmp_path_factory.mktemp("virtuoso"))
