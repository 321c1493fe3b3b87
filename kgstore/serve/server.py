"""Run the service under uvicorn, in the foreground (`kgctl serve`) or as the stack's
background process (`kgctl services up --serve`, `python -m kgstore.serve`)."""

import torch
import uvicorn

from kgstore.artifacts import ArtifactStore
from kgstore.db import open_database
from kgstore.serve.app import create_app
from kgstore.settings import Settings

KEEP_ALIVE_S = 30


def run_service(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Serve until interrupted. One torch thread per request: on a few cores, requests in
    parallel beat one request spread over every core (SASRec's kernels are small)."""
    token = settings.kgstore_serve_token
    if token is None:
        raise ValueError("call ensure_serve_token first")
    torch.set_num_threads(1)
    with open_database(settings) as db:
        app = create_app(
            db,
            ArtifactStore.from_settings(settings),
            token.get_secret_value(),
            settings.kgstore_serve_poll,
        )
        uvicorn.run(
            app,
            host=host or settings.kgstore_serve_host,
            port=port or settings.kgstore_serve_port,
            log_level="info",
            access_log=False,
            # longer than clients keep an idle connection (httpx: 5 s, uvicorn's default
            # too): a server closing first races a client reusing it, a lost request
            timeout_keep_alive=KEEP_ALIVE_S,
        )
