"""The Celery application: configured from Django settings, tasks discovered from every app."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "semantik.settings")

app = Celery("semantik")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
