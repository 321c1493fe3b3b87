"""How kgctl words an option value it refuses (typer parses options through pydantic)."""

import pytest
from typer.testing import CliRunner

from cli.app import app


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["ingest", "demo", "--domain", "music"],
            "Invalid value for '--domain': 'music' is not one of 'movies', 'books'.",
        ),
        (
            ["runs", "--kind", "trains"],
            "Invalid value for '--kind': 'trains' is not one of 'ingest', 'export', 'embed', "
            "'generate', 'train', 'evaluate'.",
        ),
    ],
)
def test_a_refused_choice_is_worded_without_pydantics_prefix(args: list[str], message: str) -> None:
    """Refused before any service is asked: no Neo4j needed."""
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    text = " ".join(result.output.replace("│", " ").split())  # the error panel wraps lines
    assert message in text
    assert "Value error" not in text
