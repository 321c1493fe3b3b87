"""The graph schema: constraints and indexes kept in `cypher/schema.cypher`.

Every statement in that file is idempotent (`IF NOT EXISTS`), so applying it again
changes nothing; `describe_schema` reads back what the database holds.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from kgstore.db import Database
from kgstore.paths import CYPHER_DIR

SCHEMA_FILE = CYPHER_DIR / "schema.cypher"
_COMMENT = re.compile(r"//[^\n]*")


def read_statements(path: Path = SCHEMA_FILE) -> list[str]:
    """Split a .cypher file into statements (`;`-terminated, `//` comments removed)."""
    text = _COMMENT.sub("", path.read_text(encoding="utf-8"))
    return [stmt.strip() for stmt in text.split(";") if stmt.strip()]


def apply_schema(db: Database, path: Path = SCHEMA_FILE) -> int:
    """Run every statement of the schema file; returns how many were run."""
    statements = read_statements(path)
    for statement in statements:
        db.query(statement)
    return len(statements)


@dataclass(frozen=True)
class SchemaObject:
    """One constraint or index as Neo4j reports it."""

    kind: str
    name: str
    type: str
    labels: tuple[str, ...]
    properties: tuple[str, ...]


def describe_schema(db: Database) -> list[SchemaObject]:
    """Constraints and indexes, sorted; the built-in token lookup indexes are left out."""
    constraints = db.query("SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties")
    indexes = db.query(
        "SHOW INDEXES YIELD name, type, labelsOrTypes, properties, owningConstraint "
        "WHERE type <> 'LOOKUP' AND owningConstraint IS NULL",
    )
    found = [
        SchemaObject(
            kind,
            row["name"],
            row["type"],
            tuple(row["labelsOrTypes"] or ()),
            tuple(row["properties"] or ()),
        )
        for kind, rows in (("constraint", constraints), ("index", indexes))
        for row in rows
    ]
    return sorted(found, key=lambda obj: (obj.kind, obj.name))
