"""The schema file applied to the real Neo4j, and connection errors."""

import re

import pytest

from kgstore.db import Database, create_driver
from kgstore.errors import Neo4jAuthFailed, Neo4jUnavailable
from kgstore.schema import SCHEMA_FILE, apply_schema, describe_schema, read_statements
from kgstore.settings import Settings


def names_in_schema_file() -> set[str]:
    return {
        re.match(r"CREATE (?:FULLTEXT )?(?:CONSTRAINT|INDEX) (\w+)", stmt).group(1)
        for stmt in read_statements(SCHEMA_FILE)
    }


def test_schema_file_statements_are_all_idempotent() -> None:
    statements = read_statements(SCHEMA_FILE)
    assert statements, "schema.cypher holds no statements"
    assert all("IF NOT EXISTS" in stmt for stmt in statements)


def test_apply_twice_gives_the_same_schema(db: Database) -> None:
    apply_schema(db)
    first = describe_schema(db)
    apply_schema(db)
    assert describe_schema(db) == first
    assert names_in_schema_file() <= {obj.name for obj in first}


def test_keys_of_the_design_are_unique_constraints(db: Database) -> None:
    apply_schema(db)
    keys = {(obj.labels, obj.properties) for obj in describe_schema(db) if obj.kind == "constraint"}
    for label, key in (("User", "id"), ("Item", "id"), ("Entity", "uri"), ("Run", "id")):
        assert ((label,), (key,)) in keys


def test_wrong_password_is_reported_with_the_variable(settings: Settings) -> None:
    wrong = settings.model_copy(update={"neo4j_password": settings.neo4j_password + "-wrong"})
    with pytest.raises(Neo4jAuthFailed, match="NEO4J_PASSWORD"):
        create_driver(wrong)


def test_server_not_running_is_reported_with_the_uri(settings: Settings) -> None:
    nowhere = settings.model_copy(update={"neo4j_uri": "bolt://127.0.0.1:1"})
    with pytest.raises(Neo4jUnavailable, match=r"NEO4J_URI=bolt://127\.0\.0\.1:1"):
        create_driver(nowhere)


def test_server_notifications_do_not_reach_the_log(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A query naming a label no node has makes the server warn; kgctl's output must not
    carry that warning as a log line (the driver asks for no notifications)."""
    with caplog.at_level("DEBUG", logger="neo4j.notifications"):
        db.query("MATCH (n:NoNodeHasThisLabel) RETURN n.noSuchProperty AS p")
    assert not [r for r in caplog.records if r.name == "neo4j.notifications"]
