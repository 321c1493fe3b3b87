"""`kgctl sparql up|status|down` on a private Virtuoso (own state folder, free ports), and
its faults: a bad file, a truncated .gz, a port taken, virtuoso-t missing, a database
created with another password. Each fault gives one clear message and leaves no
process behind that the command started."""

import gzip
import shutil
import socket
import stat
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kgstore.envfile import read_env_file, update_env_file
from kgstore.errors import SettingsError
from kgstore.services.isolated import isolated_stack_env
from kgstore.settings import load_settings
from tests.services import unavailable
from tests.sparql import FILMS_SLICE, two_free_ports
from tests.stacks import PrivateStack, assert_nothing_left

pytestmark = pytest.mark.slow
SLICE_TRIPLES = 1243


@pytest.fixture
def virtuoso(tmp_path: Path) -> Iterator[PrivateStack]:
    """`kgctl` for a Virtuoso living under tmp_path on two free ports."""
    if shutil.which("virtuoso-t") is None:
        unavailable("virtuoso-t is not installed (apt-get install virtuoso-opensource)")
    env = {
        key: value
        for key, value in isolated_stack_env(tmp_path).items()
        if not key.startswith(("VIRTUOSO_", "SPARQL_"))
    }
    http_port, sql_port = two_free_ports()
    env.update(VIRTUOSO_HTTP_PORT=str(http_port), VIRTUOSO_SQL_PORT=str(sql_port))
    private = PrivateStack(tmp_path, env)
    yield private
    private.kgctl("sparql", "down")


def ask(stack: PrivateStack, query: str) -> bool:
    url = f"http://127.0.0.1:{stack.env['VIRTUOSO_HTTP_PORT']}/sparql?" + urllib.parse.urlencode(
        {"query": query, "format": "application/sparql-results+json"}
    )
    with urllib.request.urlopen(url, timeout=30) as response:
        return b'"boolean": true' in response.read()


def isql_as(stack: PrivateStack, user: str, password: str) -> str:
    result = subprocess.run(
        ["isql-vt", f"127.0.0.1:{stack.env['VIRTUOSO_SQL_PORT']}", user, password],
        input="select 1;\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.stdout + result.stderr


def test_up_twice_status_down_and_the_data_stays(virtuoso: PrivateStack) -> None:
    first = virtuoso.kgctl("sparql", "up", "--load", str(FILMS_SLICE))
    assert first.returncode == 0, first.stderr
    assert "virtuoso: started" in first.stdout
    assert f"{FILMS_SLICE}: loaded" in first.stdout
    assert f"{SLICE_TRIPLES} triples" in first.stdout
    assert ask(
        virtuoso,
        "ASK { <http://dbpedia.org/resource/Blazing_Saddles> "
        "<http://dbpedia.org/ontology/director> <http://dbpedia.org/resource/Mel_Brooks> }",
    )

    password = read_env_file(virtuoso.env_file)["VIRTUOSO_DBA_PASSWORD"]
    assert len(password) == 20
    assert stat.S_IMODE(virtuoso.env_file.stat().st_mode) == 0o600
    assert "Bad login" in isql_as(virtuoso, "dba", "dba")  # the default never worked
    assert "1 Rows" in isql_as(virtuoso, "dba", password)
    dav = urllib.request.Request(
        f"http://127.0.0.1:{virtuoso.env['VIRTUOSO_HTTP_PORT']}/DAV/",
        headers={"Authorization": "Basic ZGF2OmRhdg=="},  # dav:dav, the default
    )
    with pytest.raises(urllib.error.HTTPError, match="401"):
        urllib.request.urlopen(dav, timeout=30)

    pids = [path.read_text() for path in virtuoso.pidfiles()]
    assert len(pids) == 1
    again = virtuoso.kgctl("sparql", "up", "--load", str(FILMS_SLICE))
    assert again.returncode == 0, again.stderr
    assert "virtuoso: already running" in again.stdout
    assert f"{FILMS_SLICE}: already loaded" in again.stdout
    assert f"{SLICE_TRIPLES} triples" in again.stdout
    assert [path.read_text() for path in virtuoso.pidfiles()] == pids

    status = virtuoso.kgctl("sparql", "status")
    assert status.returncode == 0
    assert f"pid {pids[0]}" in status.stdout

    down = virtuoso.kgctl("sparql", "down")
    assert "virtuoso: stopped" in down.stdout
    after = virtuoso.kgctl("sparql", "status")
    assert after.returncode == 1
    assert "virtuoso: down" in after.stdout
    assert_nothing_left(virtuoso)

    restarted = virtuoso.kgctl("sparql", "up")
    assert restarted.returncode == 0, restarted.stderr
    assert f"{SLICE_TRIPLES} triples" in restarted.stdout  # the database kept its data
    virtuoso.kgctl("sparql", "down")

    update_env_file(virtuoso.env_file, {"VIRTUOSO_DBA_PASSWORD": "another-password-1"})
    refused = virtuoso.kgctl("sparql", "up")
    assert refused.returncode == 2
    assert "created with another password" in refused.stderr
    assert_nothing_left(virtuoso)


def test_a_file_virtuoso_cannot_load_is_named_and_nothing_is_left(
    virtuoso: PrivateStack, tmp_path: Path
) -> None:
    broken = tmp_path / "broken-films.nt"
    good_line = FILMS_SLICE.read_text().splitlines()[0]
    broken.write_text(f'{good_line}\n<http://x/a> <http://x/b> "unterminated .\n')
    result = virtuoso.kgctl("sparql", "up", "--load", str(broken))
    assert result.returncode == 2
    assert f"Virtuoso could not load {broken}" in " ".join(result.stderr.split())
    assert "loader" in result.stderr  # Virtuoso's own message follows
    assert_nothing_left(virtuoso)


def test_a_failed_load_leaves_a_running_instance_running(
    virtuoso: PrivateStack, tmp_path: Path
) -> None:
    assert virtuoso.kgctl("sparql", "up").returncode == 0
    broken = tmp_path / "broken.ttl"
    broken.write_text("@prefix : <http://x/> . :a :b")
    result = virtuoso.kgctl("sparql", "up", "--load", str(broken))
    assert result.returncode == 2
    assert "broken.ttl" in result.stderr
    assert virtuoso.kgctl("sparql", "status").returncode == 0


def test_a_truncated_gzip_is_refused_before_anything_starts(
    virtuoso: PrivateStack, tmp_path: Path
) -> None:
    compressed = gzip.compress(FILMS_SLICE.read_bytes())
    truncated = tmp_path / "films.nt.gz"
    truncated.write_bytes(compressed[: len(compressed) // 2])
    result = virtuoso.kgctl("sparql", "up", "--load", str(truncated))
    assert result.returncode == 2
    assert f"{truncated}: cannot be read" in " ".join(result.stderr.split())
    assert not (virtuoso.state_dir / "virtuoso" / "db").exists()
    assert_nothing_left(virtuoso)


@pytest.mark.parametrize("setting", ["VIRTUOSO_HTTP_PORT", "VIRTUOSO_SQL_PORT"])
def test_a_port_taken_is_named_by_its_setting(virtuoso: PrivateStack, setting: str) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(virtuoso.env[setting])))
        squatter.listen()
        result = virtuoso.kgctl("sparql", "up")
    assert result.returncode == 2
    assert setting in result.stderr and "already in use" in result.stderr
    assert_nothing_left(virtuoso)


def test_missing_virtuoso_says_how_to_install_it(virtuoso: PrivateStack, tmp_path: Path) -> None:
    empty_path = tmp_path / "no-binaries"
    empty_path.mkdir()
    result = virtuoso.kgctl("sparql", "up", PATH=str(empty_path))
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "virtuoso-t (Virtuoso) is not installed" in message
    assert "apt-get install virtuoso-opensource" in message
    assert_nothing_left(virtuoso)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"virtuoso_http_port": 5000, "virtuoso_sql_port": 5000}, "VIRTUOSO_SQL_PORT"),
        ({"virtuoso_dba_password": "short"}, "VIRTUOSO_DBA_PASSWORD"),
        ({"virtuoso_dba_password": "VERBOSE=OFF-and-more"}, "VIRTUOSO_DBA_PASSWORD"),
        ({"virtuoso_dba_password": "a" * 21}, "VIRTUOSO_DBA_PASSWORD"),
    ],
)
def test_malformed_virtuoso_settings_name_their_variable(
    overrides: dict[str, object], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(**overrides)
