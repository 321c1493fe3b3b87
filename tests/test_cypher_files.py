"""Every .cypher file under cypher/ is valid against the real Neo4j (EXPLAIN plans it)."""

import re
from pathlib import Path

import pytest
from neo4j import Driver

from kgstore.paths import CYPHER_DIR
from kgstore.schema import read_statements
from kgstore.settings import Settings

INSPECTION_FILES = sorted((CYPHER_DIR / "inspect").glob("*.cypher"))


def test_inspection_queries_exist() -> None:
    assert len(INSPECTION_FILES) >= 4


@pytest.mark.parametrize("path", INSPECTION_FILES, ids=lambda path: path.name)
def test_inspection_query_plans(path: Path, driver: Driver, settings: Settings) -> None:
    for statement in read_statements(path):
        params = {name: "x" for name in re.findall(r"\$(\w+)", statement)}
        driver.execute_query(f"EXPLAIN {statement}", params, database_=settings.neo4j_database)
