"""Where the service listens and the token it wants: light enough for `kgctl services`
to import without loading torch or the web framework."""

from kgstore.envfile import generate_secret, update_env_file
from kgstore.settings import Settings, env_file_path


def ensure_serve_token(settings: Settings) -> Settings:
    """Settings with KGSTORE_SERVE_TOKEN, generated into .env the first time."""
    if settings.kgstore_serve_token is not None:
        return settings
    token = generate_secret()
    update_env_file(env_file_path(), {"KGSTORE_SERVE_TOKEN": token})
    return settings.model_copy(update={"kgstore_serve_token": token})


def serve_url(settings: Settings) -> str:
    return f"http://{settings.kgstore_serve_host}:{settings.kgstore_serve_port}/"
