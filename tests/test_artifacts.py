"""The content-addressed artifact store on a local directory and on another fsspec backend."""

import uuid
from pathlib import Path

import pytest

from kgstore.artifacts import ArtifactStore
from kgstore.errors import ArtifactNotFound


@pytest.fixture(params=["local", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return ArtifactStore(str(tmp_path / "artifacts"))
    return ArtifactStore(f"memory://kgstore-tests-{uuid.uuid4().hex}")


def test_put_get_round_trip_is_content_addressed(store: ArtifactStore) -> None:
    key = store.put(b"graph snapshot", ".pt")
    assert key.endswith(".pt")
    assert store.get(key) == b"graph snapshot"
    assert store.put(b"graph snapshot", ".pt") == key
    assert store.put(b"another snapshot", ".pt") != key


def test_missing_key_names_the_store(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactNotFound, match="KGSTORE_ARTIFACTS"):
        store.get("0" * 64)
    assert not store.exists("0" * 64)


def test_no_partial_files_are_left(tmp_path: Path) -> None:
    store = ArtifactStore(str(tmp_path / "artifacts"))
    store.put(b"x" * 10_000)
    assert not [p for p in (tmp_path / "artifacts").rglob("*") if ".partial-" in p.name]


def test_keys_lists_every_finished_artifact(store: ArtifactStore) -> None:
    assert store.keys() == []
    keys = [store.put(b"one", ".pt"), store.put(b"two")]
    assert store.keys() == sorted(keys)
    assert store.local == store.url.startswith("/")
