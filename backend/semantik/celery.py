"""The Celery application: configured from Django settings, tasks discovered from every app."""

from __future__ import annotations

import os

from celery import Celery

# Signal handlers: the request id travels with each task; a worker serves its own metrics.
from semantik.logs import propagation  # noqa: F401
from semantik.metrics import worker  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "semantik.settings")

app = Celery("semantik")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
