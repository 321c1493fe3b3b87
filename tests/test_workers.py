"""A real Celery worker over the real Redis: round trips, routing, refusing pickle."""

import os
import uuid

import pytest
from celery import Celery
from celery.exceptions import TimeoutError as CeleryTimeout

from kgstore.settings import Settings
from workers.app import GPU_QUEUE
from workers.launcher import WORKERS


def test_round_trip_through_the_worker(celery_app: Celery) -> None:
    payload = {"run": str(uuid.uuid4()), "values": [1, 2.5, "x"]}
    result = celery_app.send_task("kgstore.echo", args=[payload]).get(timeout=30)
    assert result["payload"] == payload
    assert result["worker"]["pid"] != os.getpid()
    assert result["worker"]["device"] in {"cpu", "cuda"}


def test_gpu_queue_is_served_by_the_solo_gpu_worker(celery_app: Celery, settings: Settings) -> None:
    result = celery_app.send_task("kgstore.echo", args=["gpu?"], queue=GPU_QUEUE).get(timeout=30)
    gpu_spec = next(spec for spec in WORKERS if spec.queue == GPU_QUEUE)
    assert result["payload"] == "gpu?"
    assert result["worker"]["pid"] == gpu_spec.process(settings).pid()


def test_app_accepts_json_only(celery_app: Celery) -> None:
    assert celery_app.conf.accept_content == ["json"]
    assert celery_app.conf.result_accept_content == ["json"]
    assert celery_app.conf.worker_prefetch_multiplier == 1
    for options in (
        celery_app.conf.broker_transport_options,
        celery_app.conf.result_backend_transport_options,
    ):
        assert options["visibility_timeout"] > celery_app.conf.task_time_limit


def test_pickled_message_is_refused_by_the_worker(celery_app: Celery, settings: Settings) -> None:
    marker = f"pickled-{uuid.uuid4()}"
    cpu_log = next(spec for spec in WORKERS if spec.queue == "cpu").process(settings).logfile
    log_size = cpu_log.stat().st_size
    pending = celery_app.send_task("kgstore.echo", args=[marker], serializer="pickle")
    with pytest.raises(CeleryTimeout):
        pending.get(timeout=5)
    new_log = cpu_log.read_bytes()[log_size:].decode(errors="replace")
    assert "pickle" in new_log
    assert "ContentDisallowed" in new_log or "Refusing to deserialize" in new_log
    # the same task, sent as JSON, does run: the refusal was about the serializer
    assert celery_app.send_task("kgstore.echo", args=[marker]).get(timeout=30)["payload"] == marker
