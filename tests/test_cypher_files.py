"""Every .cypher file under cypher/ is valid against the real Neo4j (EXPLAIN plans it)."""

import re
from pathlib import Path

import pytest

from kgstore.db import Database
from kgstore.paths import CYPHER_DIR
from kgstore.schema import read_statements

INSPECTION_FILES = sorted((CYPHER_DIR / "inspect").glob("*.cypher"))


def test_inspection_queries_exist() -> None:
    assert len(INSPECTION_FILES) >= 4


@pytest.mark.parametrize("path", INSPECTION_FILES, ids=lambda path: path.name)
def test_inspection_query_plans(path: Path, db: Database) -> None:
    for statement in read_statements(path):
        params = {name: "x" for name in re.findall(r"\$(\w+)", statement)}
        db.driver.execute_query(f"EXPLAIN {statement}", params, database_=db.name)
