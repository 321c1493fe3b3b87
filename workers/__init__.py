"""The Celery side: the app and its queues (`app`), the worker processes (`launcher`),
and thin tasks (`tasks`) that call plain functions of the kgstore library."""
