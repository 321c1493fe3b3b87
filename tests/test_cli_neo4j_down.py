"""Every command that reads the graph, with Neo4j not answering: one message naming
NEO4J_URI and how to start it, exit 2, no traceback -- in the worker mode too, where the
check must come before anything is queued."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOWHERE = "bolt://127.0.0.1:1"

COMMANDS = [
    ["query", "personas/profile", "-p", "userId=u"],
    ["recommend", "-s", "some-item"],
    ["report", "latest"],
    ["evaluate", "--grid", "table3", "--domain", "movies"],
    ["evaluate", "--grid", "table3", "--domain", "books", "--local"],
    ["evaluate", "some-run"],
    ["evaluate", "some-run", "--compare", "kg/description", "none/random"],
    ["train", "retriever", "--user", "kg", "--item", "description", "--local"],
    ["train", "reranker"],
    ["train", "hdgi", "--local"],
    ["personas", "similar", "some-user"],
    ["personas", "probe", "--domain", "books"],
    ["runs"],
    ["stats"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_command_says_neo4j_is_down(args: list[str], tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"NEO4J_URI={NOWHERE}\nNEO4J_PASSWORD=not-used\n")
    done = subprocess.run(
        [sys.executable, "-c", "from cli.app import main; main()", *args],
        env={"KGSTORE_ENV_FILE": str(env_file), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert f"Neo4j does not answer at NEO4J_URI={NOWHERE}" in output
    assert "kgctl services up" in output
    assert "Traceback" not in output
