"""The one handle every stage reads and writes Neo4j through: `Database` (driver + the
database's name and URI), opened from the settings by `open_database`.

The official driver's exceptions are translated once, here, so callers (CLI, workers,
tests) see one clear message for the common faults: server down, wrong credentials,
missing password.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from neo4j import Driver, GraphDatabase, Session
from neo4j.exceptions import AuthError, ServiceUnavailable

from kgstore.errors import Neo4jAuthFailed, Neo4jUnavailable
from kgstore.settings import Settings, env_file_path


@dataclass(frozen=True)
class Database:
    """A connected driver and the database it works on. `uri` is kept for messages."""

    driver: Driver
    name: str
    uri: str

    def query(self, query: str, **params: Any) -> list[dict[str, Any]]:
        """Run one auto-committed query and return its records as dicts."""
        records, _, _ = self.driver.execute_query(query, params, database_=self.name)
        return [record.data() for record in records]

    def columns(self, query: str, **params: Any) -> dict[str, Any]:
        """Run a query that returns one record of `collect()`ed lists and return it as the
        driver decoded it: `record.data()` walks every element again in Python, which costs
        ten times the transfer on lists of vectors."""
        records, _, _ = self.driver.execute_query(query, params, database_=self.name)
        [record] = records
        return dict(record)

    def session(self, **config: Any) -> Session:
        return self.driver.session(database=self.name, **config)


def create_driver(settings: Settings) -> Driver:
    """A driver whose connectivity has been checked.

    Server notifications are switched off: the driver would log each one (a label no node
    has yet, a deprecated `id()` in the writer, an index the planner cannot use) as a
    warning line on stderr in the middle of a command's output; our queries are written
    knowing them, and a user's own Cypher runs in Browser or cypher-shell, which show them.
    """
    driver = GraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.require_neo4j_password()),
        connection_acquisition_timeout=30,
        notifications_min_severity="OFF",
    )
    try:
        driver.verify_connectivity()
    except AuthError:
        driver.close()
        raise Neo4jAuthFailed(
            f"Neo4j at {settings.neo4j_uri} refused user NEO4J_USER={settings.neo4j_user!r} with "
            f"the password in NEO4J_PASSWORD (environment or {env_file_path()}): fix the password, "
            "or for the local server started by `kgctl services up` keep the .env it generated."
        ) from None
    except (ServiceUnavailable, OSError) as exc:
        driver.close()
        raise Neo4jUnavailable(
            f"Neo4j does not answer at NEO4J_URI={settings.neo4j_uri} ({exc.__class__.__name__}): "
            "start it with `kgctl services up`, or point NEO4J_URI at a running server."
        ) from None
    return driver


@contextmanager
def open_database(settings: Settings) -> Iterator[Database]:
    """The database the settings name, closed on exit."""
    driver = create_driver(settings)
    try:
        yield Database(driver, settings.neo4j_database, settings.neo4j_uri)
    finally:
        driver.close()
