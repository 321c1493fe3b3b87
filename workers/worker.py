"""The module `celery -A workers.worker worker` loads: the app built from the settings."""

from kgstore.settings import load_settings
from workers.app import create_app

app = create_app(load_settings())
