"""The Celery application: Redis broker and backend, JSON only, queues `cpu` and `gpu`.

Messages carry configs and run ids, never tensors, so JSON suffices and pickle
(which would let anyone who can write to Redis run code in a worker) is refused.
"""

from celery import Celery

from kgstore.settings import Settings

CPU_QUEUE = "cpu"
GPU_QUEUE = "gpu"


def create_app(settings: Settings) -> Celery:
    """A configured app; clients and the worker process (workers/worker.py) both use it."""
    broker = settings.require_redis_url()
    app = Celery("kgstore", broker=broker, backend=broker, include=["workers.tasks"])
    transport = {"visibility_timeout": settings.visibility_timeout}
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        worker_prefetch_multiplier=1,
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        broker_connection_retry_on_startup=True,
        task_default_queue=CPU_QUEUE,
        task_routes={"kgstore.train.*": {"queue": GPU_QUEUE}},
        task_time_limit=settings.kgstore_task_time_limit,
        task_track_started=True,
        result_expires=7 * 24 * 3600,
    )
    return app
