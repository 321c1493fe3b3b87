"""Settings: defaults, the .env file, and errors that name the variable."""

import stat
from pathlib import Path

import pytest

from kgstore.envfile import read_env_file, update_env_file
from kgstore.errors import SettingsError
from kgstore.settings import Device, Settings, load_settings

SETTING_VARS = tuple(name.upper() for name in Settings.model_fields)


@pytest.fixture
def env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated .env and environment: nothing leaks in from the developer's shell."""
    path = tmp_path / ".env"
    monkeypatch.setenv("KGSTORE_ENV_FILE", str(path))
    for var in SETTING_VARS:
        monkeypatch.delenv(var, raising=False)
    return path


def test_defaults_point_at_the_local_stack(env_file: Path) -> None:
    settings = load_settings()
    assert settings.neo4j_uri == "bolt://127.0.0.1:7687"
    assert settings.neo4j_bolt_port == 7687
    assert settings.neo4j_browser_url == "http://127.0.0.1:7474/browser/"
    assert settings.kgstore_device is Device.AUTO
    assert settings.neo4j_password is None


def test_env_file_is_read_and_environment_wins(
    env_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file.write_text("NEO4J_URI=bolt://127.0.0.1:9999\nNEO4J_PASSWORD=from-file\n")
    assert load_settings().neo4j_password == "from-file"
    assert load_settings().neo4j_bolt_port == 9999
    monkeypatch.setenv("NEO4J_PASSWORD", "from-env")
    assert load_settings().neo4j_password == "from-env"


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("NEO4J_URI", "http://127.0.0.1:7474"),
        ("REDIS_URL", "amqp://guest@localhost//"),
        ("KGSTORE_DEVICE", "tpu"),
        ("NEO4J_HEAP", "lots"),
    ],
)
def test_malformed_setting_names_its_variable(
    env_file: Path, monkeypatch: pytest.MonkeyPatch, var: str, value: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError, match=var) as excinfo:
        load_settings()
    assert "Value error" not in str(excinfo.value)  # pydantic's prefix, not ours


def test_malformed_value_in_env_file_names_variable_and_file(env_file: Path) -> None:
    env_file.write_text("NEO4J_HTTP_PORT=seventy\n")
    with pytest.raises(SettingsError, match="NEO4J_HTTP_PORT") as excinfo:
        load_settings()
    assert str(env_file) in str(excinfo.value)


def test_missing_secrets_name_the_variable(env_file: Path) -> None:
    settings = load_settings()
    with pytest.raises(SettingsError, match="NEO4J_PASSWORD"):
        settings.require_neo4j_password()
    with pytest.raises(SettingsError, match="REDIS_URL"):
        settings.require_redis_url()


def test_visibility_timeout_outlasts_the_task_time_limit() -> None:
    settings = Settings(kgstore_task_time_limit=7200)
    assert settings.visibility_timeout > settings.kgstore_task_time_limit


def test_update_env_file_keeps_other_lines_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("# mine\nNEO4J_USER=alice\nNEO4J_PASSWORD=old\n")
    update_env_file(path, {"NEO4J_PASSWORD": "new", "REDIS_URL": "redis://:x@127.0.0.1:1/0"})
    assert path.read_text().splitlines()[0] == "# mine"
    assert read_env_file(path) == {
        "NEO4J_USER": "alice",
        "NEO4J_PASSWORD": "new",
        "REDIS_URL": "redis://:x@127.0.0.1:1/0",
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
