"""`python -m kgstore.serve`: the service with the settings of the environment and .env
(what `kgctl services up --serve` launches in the background)."""

from kgstore.serve.server import run_service
from kgstore.services.recommend_service import ensure_serve_token
from kgstore.settings import load_settings

if __name__ == "__main__":
    run_service(ensure_serve_token(load_settings()))
