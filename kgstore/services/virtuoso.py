"""A private Virtuoso 7.2 (Debian's `virtuoso-opensource`): a real SPARQL endpoint on
loopback for the tests and the offline demo of `kgctl ingest dbpedia --endpoint`.

Everything lives under KGSTORE_STATE_DIR/virtuoso: `virtuoso.ini` (made from
docker/native/virtuoso.ini.template), `db/` (database, its log and lock file), `load/`
(the files handed to the bulk loader — the only folder it may read), `www/` (an empty
HTTP root) and `console.log`.

The dba and dav passwords are set to VIRTUOSO_DBA_PASSWORD when the database is created,
by a start-up that only changes them and exits before any port opens: the default
password `dba` is never reachable. isql-vt takes the password as a command-line word, so
it is visible in that short-lived process's argument list on this machine.
"""

import gzip
import hashlib
import json
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

from kgstore.envfile import generate_secret, update_env_file
from kgstore.errors import ServiceError
from kgstore.paths import DOCKER_DIR
from kgstore.services.process import ManagedProcess, ensure_ports_free, pidfile_for, port_in_use
from kgstore.settings import Settings, env_file_path

GRAPH = "http://dbpedia.org"
INI_TEMPLATE = DOCKER_DIR / "native" / "virtuoso.ini.template"
START_TIMEOUT_S = 120
ISQL_TIMEOUT_S = 1800
VIRTUOSO_PASSWORD_LENGTH = 20  # the most virtuoso-t's +pwddba takes
LOADABLE_SUFFIXES = (".nt", ".ttl")
INSTALL_HINT = (
    "install it with `apt-get install virtuoso-opensource` (or run docker/native/provision.sh)"
)
_ROW_MARK = "KGSTORE_ROW|"
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]")


def virtuoso_home(settings: Settings) -> Path:
    return settings.state_dir / "virtuoso"


def virtuoso_process(settings: Settings) -> ManagedProcess:
    return ManagedProcess(
        "Virtuoso",
        pidfile_for(settings.state_dir, "virtuoso"),
        virtuoso_home(settings) / "console.log",
    )


def virtuoso_ports(settings: Settings) -> dict[str, int]:
    """The ports the instance binds, keyed by the setting that chooses each."""
    return {
        "VIRTUOSO_HTTP_PORT": settings.virtuoso_http_port,
        "VIRTUOSO_SQL_PORT": settings.virtuoso_sql_port,
    }


def local_sparql_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.virtuoso_http_port}/sparql"


def _db_dir(settings: Settings) -> Path:
    return virtuoso_home(settings) / "db"


def _load_dir(settings: Settings) -> Path:
    return virtuoso_home(settings) / "load"


def _database_exists(settings: Settings) -> bool:
    return (_db_dir(settings) / "virtuoso.db").exists()


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ServiceError(f"{name} (Virtuoso) is not installed: {INSTALL_HINT}.")
    return found


def ensure_virtuoso_password(settings: Settings) -> Settings:
    """Generate VIRTUOSO_DBA_PASSWORD into .env (mode 0600) for a database not yet created.

    An existing database keeps the password it was created with, so then a missing one
    is an error, as for Neo4j.
    """
    if settings.virtuoso_dba_password or _database_exists(settings):
        settings.require_virtuoso_password()
        return settings
    password = generate_secret(VIRTUOSO_PASSWORD_LENGTH)
    update_env_file(env_file_path(), {"VIRTUOSO_DBA_PASSWORD": password})
    return settings.model_copy(update={"virtuoso_dba_password": password})


def _sql_string(text: str) -> str:
    """A Virtuoso SQL string literal; text a literal cannot carry plainly is refused."""
    if "\\" in text or any(ord(char) < 0x20 for char in text):
        raise ServiceError(f"{text!r} holds a backslash or control character; use a plain path")
    return "'" + text.replace("'", "''") + "'"


def write_config(settings: Settings) -> Path:
    home = virtuoso_home(settings)
    for folder in (_db_dir(settings), _load_dir(settings), home / "www"):
        folder.mkdir(parents=True, exist_ok=True)
    ini = home / "virtuoso.ini"
    ini.write_text(
        Template(INI_TEMPLATE.read_text()).substitute(
            db_dir=_db_dir(settings),
            load_dir=_load_dir(settings),
            www_dir=home / "www",
            sql_port=settings.virtuoso_sql_port,
            http_port=settings.virtuoso_http_port,
        )
    )
    return ini


def _create_database(settings: Settings, binary: str, ini: Path) -> None:
    """Create the database and set the dba/dav passwords; Virtuoso then exits without
    having opened a port. A failure removes the half-made database, so a retry starts clean."""
    password = settings.require_virtuoso_password()
    db_dir = _db_dir(settings)
    command = [binary, "+foreground", "+configfile", str(ini)]
    command += ["+pwdold", "dba", "+pwddba", password, "+pwddav", password]
    try:
        result = subprocess.run(
            command, cwd=db_dir, capture_output=True, text=True, timeout=START_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        result = None
    output = "" if result is None else result.stdout + result.stderr
    if result is None or result.returncode != 0 or "DBA password is changed" not in output:
        shutil.rmtree(db_dir, ignore_errors=True)
        db_dir.mkdir(parents=True, exist_ok=True)
        raise ServiceError(f"Virtuoso could not create its database in {db_dir}:\n{output[-2000:]}")


def _sparql_answers(settings: Settings) -> bool:
    url = local_sparql_url(settings) + "?" + urllib.parse.urlencode({"query": "ASK {}"})
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def run_isql(settings: Settings, script: str) -> list[str]:
    """Run SQL statements as dba; returns the output lines that start with `_ROW_MARK`
    (without it): the rows of SELECTs that concatenate it in front. Any SQL error raises."""
    result = subprocess.run(
        [
            _binary("isql-vt"),
            f"127.0.0.1:{settings.virtuoso_sql_port}",
            "dba",
            settings.require_virtuoso_password(),
            "VERBOSE=OFF",
            "BANNER=OFF",
            "PROMPT=OFF",
            "ECHO=OFF",
            "BLOBS=ON",
        ],
        input=script,
        capture_output=True,
        text=True,
        timeout=ISQL_TIMEOUT_S,
        check=False,
    )
    output = result.stdout + result.stderr
    if "Bad login" in output:
        raise ServiceError(
            f"Virtuoso in {_db_dir(settings)} refused VIRTUOSO_DBA_PASSWORD: it was created "
            "with another password. Restore that password, or remove that folder to start "
            "an empty database."
        )
    if result.returncode != 0 or "*** Error" in output:
        raise ServiceError(f"Virtuoso SQL failed:\n{output.strip()[-2000:]}")
    return [
        line.removeprefix(_ROW_MARK)
        for line in result.stdout.splitlines()
        if line.startswith(_ROW_MARK)
    ]


def start_virtuoso(settings: Settings) -> str:
    """Create (first time) and start the instance; harmless when it already runs."""
    proc = virtuoso_process(settings)
    if proc.pid() is not None:
        return "already running"
    settings.require_virtuoso_password()
    binary = _binary("virtuoso-t")
    _binary("isql-vt")
    ensure_ports_free("Virtuoso", virtuoso_ports(settings))
    ini = write_config(settings)
    if not _database_exists(settings):
        _create_database(settings, binary, ini)
    # No Virtuoso of ours runs (no live pid): a lock file left by a killed one is stale.
    (_db_dir(settings) / "virtuoso.lck").unlink(missing_ok=True)
    proc.start([binary, "+foreground", "+configfile", str(ini)], cwd=_db_dir(settings))
    proc.wait_ready(
        lambda: _sparql_answers(settings) and port_in_use("127.0.0.1", settings.virtuoso_sql_port),
        START_TIMEOUT_S,
        f"SPARQL on {local_sparql_url(settings)} and SQL on port {settings.virtuoso_sql_port}",
    )
    try:
        run_isql(settings, "select 1;")
    except ServiceError:
        proc.stop()
        raise
    return "started"


def stop_virtuoso(settings: Settings) -> bool:
    """Stop the instance (SIGTERM: Virtuoso's quick shutdown; loads are checkpointed)."""
    return virtuoso_process(settings).stop()


@dataclass(frozen=True)
class StagedFile:
    """A file to load, copied (decompressed) into the loader's folder under a name that
    carries its content hash: the same content is loaded once, a changed file anew."""

    source: Path
    staged: Path


def _staged_name(path: Path, digest: str) -> str:
    name = path.name.removesuffix(".gz")
    stem, suffix = name.rsplit(".", 1)
    return f"{_UNSAFE_NAME_CHARS.sub('_', stem)[:80]}-{digest[:16]}.{suffix}"


def stage_file(settings: Settings, path: Path) -> StagedFile:
    """Copy one .nt/.ttl file (optionally .gz) into the load folder; a missing, unknown or
    corrupt file is an error naming it."""
    if not path.name.removesuffix(".gz").endswith(LOADABLE_SUFFIXES):
        raise ServiceError(f"{path}: expected an N-Triples (.nt) or Turtle (.ttl) file, or .gz")
    if not path.is_file():
        raise ServiceError(f"{path}: no such file")
    load_dir = _load_dir(settings)
    load_dir.mkdir(parents=True, exist_ok=True)
    incoming = load_dir / f".incoming-{path.name}"
    digest = hashlib.sha256()
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as source, incoming.open("wb") as target:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                target.write(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        incoming.unlink(missing_ok=True)
        raise ServiceError(f"{path}: cannot be read ({exc})") from None
    staged = load_dir / _staged_name(path, digest.hexdigest())
    incoming.replace(staged)
    return StagedFile(path, staged)


@dataclass(frozen=True)
class LoadOutcome:
    source: Path
    outcome: str  # "loaded" or "already loaded"


def _load_list(settings: Settings) -> dict[str, str]:
    """Every file the bulk loader knows, with its error ('' when it loaded cleanly)."""
    lines = run_isql(
        settings,
        f"select concat('{_ROW_MARK}', ll_file, '|', cast(ll_state as varchar), '|', "
        "replace(replace(coalesce(ll_error, ''), chr(10), ' '), '|', '/')) "
        "from DB.DBA.load_list;",
    )
    files: dict[str, str] = {}
    for line in lines:
        file, state, error = line.rsplit("|", 2)
        files[file] = error if state == "2" else f"not loaded (loader state {state})"
    return files


def load_staged(settings: Settings, files: Sequence[StagedFile]) -> list[LoadOutcome]:
    """Bulk-load staged files into the graph GRAPH and check `load_list`: a file the
    loader rejected (a malformed one still ends 'done', with `ll_error` set) is an error
    naming the file and Virtuoso's message."""
    before = _load_list(settings)
    fresh = [item for item in files if str(item.staged) not in before]
    if fresh:
        graph = _sql_string(GRAPH)
        adds = "".join(f"ld_add({_sql_string(str(f.staged))}, {graph});\n" for f in fresh)
        run_isql(settings, adds + "rdf_loader_run();\ncheckpoint;\n")
    after = _load_list(settings)
    for item in files:
        error = after.get(str(item.staged), "not registered with the loader")
        if error:
            raise ServiceError(
                f"Virtuoso could not load {item.source}: {error.strip()}. Triples it read before "
                "the error stay in the graph; load the corrected file to add the rest."
            )
    return [
        LoadOutcome(item.source, "loaded" if item in fresh else "already loaded") for item in files
    ]


def virtuoso_up(settings: Settings, files: Sequence[Path] = ()) -> tuple[str, list[LoadOutcome]]:
    """Start the instance and load `files`. Files are checked and staged before anything
    starts; if loading fails, an instance started by this call is stopped again."""
    staged = [stage_file(settings, path) for path in files]
    started = start_virtuoso(settings)
    try:
        return started, load_staged(settings, staged)
    except BaseException:
        if started == "started":
            stop_virtuoso(settings)
        raise


@dataclass(frozen=True)
class VirtuosoStatus:
    running: bool
    pid: int | None
    http_port: int
    sql_port: int
    endpoint: str
    triples: int | None


def count_triples(settings: Settings) -> int | None:
    """Triples in GRAPH, asked over SPARQL; None when the endpoint does not answer."""
    query = f"SELECT (COUNT(*) AS ?n) FROM <{GRAPH}> WHERE {{ ?s ?p ?o }}"
    url = (
        local_sparql_url(settings)
        + "?"
        + urllib.parse.urlencode({"query": query, "format": "application/sparql-results+json"})
    )
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            bindings = json.load(response)["results"]["bindings"]
    except (OSError, ValueError, KeyError):
        return None
    return int(bindings[0]["n"]["value"]) if bindings else 0


def virtuoso_status(settings: Settings) -> VirtuosoStatus:
    pid = virtuoso_process(settings).pid()
    return VirtuosoStatus(
        pid is not None,
        pid,
        settings.virtuoso_http_port,
        settings.virtuoso_sql_port,
        local_sparql_url(settings),
        count_triples(settings) if pid is not None else None,
    )
