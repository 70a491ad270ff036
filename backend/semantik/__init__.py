"""Semantik: self-hosted semantic search over your documents."""

from semantik.celery import app as celery_app

__all__ = ["celery_app"]
