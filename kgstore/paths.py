"""Where the project's own files live (the repository this package is installed from)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CYPHER_DIR = PROJECT_ROOT / "cypher"
DOCKER_DIR = PROJECT_ROOT / "docker"
