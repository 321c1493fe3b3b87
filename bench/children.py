"""Running a benchmark script again in a fresh interpreter, one process per measured case,
so that one case's peak memory, imports or OpenMP settings cannot leak into another's."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def json_child(script: str | Path, *arguments: str, env: dict[str, str] | None = None) -> Any:
    """`script` run with `arguments` by this interpreter (in `env`, else this one's); the
    last line it prints, as JSON."""
    command = [sys.executable, str(Path(script).resolve()), *arguments]
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])
