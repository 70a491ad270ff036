"""Django app configuration for metrics."""

from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "semantik.metrics"
    label = "metrics"
