"""Celery workers and the training code that runs in them."""
