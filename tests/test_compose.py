"""docker/compose.yml cannot run here (no Docker engine, no compose plugin); check that it
parses and agrees with the settings, the queues and the pinned versions."""

import pytest
import yaml

from kgstore.paths import DOCKER_DIR
from kgstore.settings import Settings
from workers.app import CPU_QUEUE, GPU_QUEUE

COMPOSE = DOCKER_DIR / "compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_services_and_pinned_images(compose: dict) -> None:
    services = compose["services"]
    assert set(services) == {
        "neo4j",
        "redis",
        "worker",
        "worker-gpu",
        "flower",
        "guide",
        "serve",
    }
    assert services["neo4j"]["image"] == "neo4j:5.26-community"
    assert services["redis"]["image"] == "redis:7"
    assert "127.0.0.1:7474:7474" in services["neo4j"]["ports"]
    assert services["worker-gpu"]["profiles"] == ["gpu"]


def test_workers_use_the_settings_names(compose: dict) -> None:
    fields = {name.upper() for name in Settings.model_fields}
    for name in ("worker", "worker-gpu"):
        environment = compose["services"][name]["environment"]
        assert set(environment) <= fields, set(environment) - fields
        assert environment["REDIS_URL"].startswith("redis://:")


def test_worker_queues_match_the_celery_routes(compose: dict) -> None:
    cpu = compose["services"]["worker"]["command"]
    gpu = compose["services"]["worker-gpu"]["command"]
    assert cpu[cpu.index("-Q") + 1] == CPU_QUEUE
    assert gpu[gpu.index("-Q") + 1] == GPU_QUEUE
    assert gpu[gpu.index("--pool") + 1] == "solo"


def test_flower_watches_the_workers_broker_behind_a_password(compose: dict) -> None:
    flower = compose["services"]["flower"]
    assert flower["profiles"] == ["flower"]
    assert flower["command"][:4] == ["celery", "-A", "workers.worker", "flower"]
    assert (
        flower["environment"]["REDIS_URL"]
        == compose["services"]["worker"]["environment"]["REDIS_URL"]
    )
    # FLOWER_BASIC_AUTH is Flower's own option (read from the environment), so the
    # password is never on the command line.
    assert flower["environment"]["FLOWER_BASIC_AUTH"].endswith(
        ":${FLOWER_PASSWORD:?set FLOWER_PASSWORD in .env}"
    )
    assert not any("PASSWORD" in part for part in flower["command"])
    assert flower["ports"] == ["127.0.0.1:5555:5555"]


def test_the_service_needs_its_token_and_publishes_on_loopback(compose: dict) -> None:
    serve = compose["services"]["serve"]
    fields = {name.upper() for name in Settings.model_fields}
    assert set(serve["environment"]) <= fields, set(serve["environment"]) - fields
    assert serve["command"] == ["python", "-m", "kgstore.serve"]
    assert serve["environment"]["KGSTORE_SERVE_TOKEN"].startswith("${KGSTORE_SERVE_TOKEN:?")
    port = serve["environment"]["KGSTORE_SERVE_PORT"]
    assert serve["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert serve["environment"]["KGSTORE_ARTIFACTS"] == "/artifacts"
    assert "artifacts:/artifacts" in serve["volumes"]
